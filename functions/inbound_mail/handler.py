"""Inbound mail consumer: each SQS message is an S3 event notification naming raw messages SES
receiving wrote under ``inbound/``; each is handed to the inbound slice, which stores a reply on
the candidate it is for or quarantines it (``crm.inbound.service``). Partial batch failures are
reported; a message that keeps failing lands in the dead-letter queue. Every step is idempotent:
a redelivered notification stores nothing twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.inbound.service import InboundService, object_keys
from crm.platform.config import get_settings

logger = Logger(service="crm")
metrics = Metrics()
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    service = InboundService()
    for key in object_keys(record.body):
        outcome = service.receive(key)
        # The outcome and the reason only: addresses, subjects and texts are personal data.
        logger.info("inbound mail handled", extra={"status": outcome.status, "reason": outcome.reason})
        if outcome.status == "quarantined":
            metrics.add_metric(name="InboundMailQuarantined", unit=MetricUnit.Count, value=1)
        elif outcome.status == "stored":
            metrics.add_metric(name="InboundRepliesStored", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
