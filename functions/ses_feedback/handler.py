"""SES feedback consumer: bounce and complaint notifications (EventBridge -> SQS) put the
addresses on the suppression list. Partial batch failures are reported, so only a failed
message is retried (and, after the retries, lands in the dead-letter queue)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.ses_feedback import apply_feedback

logger = Logger(service="crm")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    # Counts only: addresses are personal data and never logged.
    suppressed = apply_feedback(record.body)
    logger.info("ses feedback applied", extra={"message_id": record.message_id, "suppressed": suppressed})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
