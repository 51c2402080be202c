"""Webhook worker: bus events matched by the webhook rule are fanned out into one message per
endpoint that wants them; each message is then delivered (and retried) from the same queue
(``crm.webhooks.service``). Partial batch failures are reported; a record that keeps failing
lands in the dead-letter queue (a failed *delivery* is not a failed record: it is logged and
retried on the back-off schedule)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.platform.config import get_settings
from crm.webhooks.models import DeliverJob, bus_detail
from crm.webhooks.service import DeliveryService

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    event = bus_detail(body) if isinstance(body, dict) else None
    if event is not None:
        queued = DeliveryService().fan_out(*event)
        logger.info("webhook event fanned out", extra={"type": event[1], "messages": len(queued)})
        return
    attempt = DeliveryService().deliver(DeliverJob.model_validate(body))
    if attempt is not None:
        logger.info(
            "webhook attempt",
            extra={"message": attempt.message_id, "attempt": attempt.attempt, "status": attempt.status_code},
        )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
