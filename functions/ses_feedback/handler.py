"""SES feedback consumer: bounce and complaint notifications (EventBridge -> SQS) put the
addresses on the suppression list; deliveries, bounces, complaints, opens and clicks of campaign
emails count towards the campaign's stats. Partial batch failures are reported, so only a failed
message is retried (and, after the retries, lands in the dead-letter queue)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.platform.config import get_settings
from crm.workflows.ses_feedback import apply_feedback, event_name, record_engagement

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    # Counts only: addresses are personal data and never logged.
    name = event_name(record.body)
    suppressed = 0
    if name is None or name in ("bounced", "complained"):
        suppressed = apply_feedback(record.body)  # anything unknown is refused here (MalformedFeedback)
    counted = record_engagement(record.body) if name else False
    logger.info(
        "ses feedback applied",
        extra={"message_id": record.message_id, "suppressed": suppressed, "counted": counted},
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
