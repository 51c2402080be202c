"""Export consumer: builds each export's ZIP in S3 (``crm.exports``). Idempotent: a done export
is not redone, one another worker holds comes back later; on the last delivery before the
dead-letter queue a failure marks the export failed. Partial batch failures are reported."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from crm.exports.models import ExportRequest
from crm.exports.service import ExportService
from crm.platform.config import get_settings

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.SQS)

#: The export queue's maxReceiveCount (infra/template.yaml): the last delivery marks a failure.
MAX_RECEIVES = 3


def record_handler(record: SQSRecord) -> None:
    request = ExportRequest.model_validate_json(record.body)
    receives = int(record.attributes.approximate_receive_count or 1)
    built = ExportService().run(request.export_id, last_attempt=receives >= MAX_RECEIVES)
    logger.info("export handled", extra={"export_id": request.export_id, "built": built})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
