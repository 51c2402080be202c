"""Dispatch consumer: pages a campaign's audience (or a job's alert subscribers) onto the mail
queue. Resumable: progress is stored per page, and an invocation about to time out queues its
own continuation. Partial batch failures are reported; a message that keeps failing lands in
the dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.dispatch.service import dispatch, parse_request
from crm.platform.config import get_settings

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: Any = None) -> None:
    """``lambda_context`` is passed by the batch processor: how long this invocation has left."""
    request = parse_request(record.body)
    remaining = lambda_context.get_remaining_time_in_millis if lambda_context is not None else None
    audit = dispatch(request, remaining_ms=remaining)
    logger.info(
        "audience dispatched",
        extra={
            "kind": request.kind,
            "id": request.id,
            "pages": audit.pages,
            "recipients": audit.recipients,
            "continued": audit.continued,
        },
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
