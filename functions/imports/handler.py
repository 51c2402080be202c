"""Import consumer: imports an uploaded CSV in chunks through the candidates' intake (crm.imports).
Resumable: each chunk commits a checkpoint, a retried message carries on from it, and an invocation
about to time out queues its own continuation. Partial batch failures are reported; a message that
keeps failing lands in the dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.imports.service import ImportService, parse_message
from crm.platform.config import get_settings

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: Any = None) -> None:
    import_id = parse_message(record.body)
    remaining = lambda_context.get_remaining_time_in_millis if lambda_context is not None else None
    run = ImportService().run(import_id, remaining_ms=remaining)
    if run is not None:
        logger.info(
            "import chunk(s) done",
            extra={"import_id": import_id, "status": run.status, "rows": run.counts.rows},
        )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
