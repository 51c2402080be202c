"""DynamoDB stream consumer: keeps candidate list projections in step with profiles, and puts
domain events on the EventBridge bus. Partial batch failures are reported, so only the failed
records are retried (and, after the retries, land in the failure queue)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from crm.platform.config import get_settings
from crm.workflows.table_changes import TableChanges

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
#: What each change sets in motion (EventBridge for domain events); one per execution environment.
changes = TableChanges()


def record_handler(record: DynamoDBRecord) -> None:
    changes.apply(
        event_name=str(record.event_name.name if record.event_name else ""),
        keys=record.dynamodb.keys if record.dynamodb else {},
        old=record.dynamodb.old_image if record.dynamodb else None,
        new=record.dynamodb.new_image if record.dynamodb else None,
        record_id=str(record.event_id),
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
