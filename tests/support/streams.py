"""Feed the table's DynamoDB stream to the stream function, as Lambda would."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3

from crm.platform.events import EventPublisher
from crm.workflows.table_changes import TableChanges

ROOT = Path(__file__).resolve().parents[2]


def _handler_module() -> Any:
    path = str(ROOT / "functions" / "stream")
    if path not in sys.path:
        sys.path.insert(0, path)
    import handler

    return handler


class StreamPump:
    def __init__(self, table: str, region: str = "us-east-1") -> None:
        # moto's in-process mock routes DynamoDB Streams only with the trailing slash that
        # current botocore leaves out.
        self.streams = boto3.client(
            "dynamodbstreams",
            region_name=region,
            endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com/",
        )
        ddb = boto3.client("dynamodb", region_name=region)
        self.arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.last_sequence: dict[str, str] = {}
        self.module = _handler_module()
        self.handler = self.module.handler

    def use_publisher(self, publisher: EventPublisher | None) -> None:
        """Send the stream function's domain events to ``publisher`` (None: EventBridge again)."""
        self.module.changes = TableChanges(publisher=publisher)

    def drain(self) -> list[dict[str, Any]]:
        """Deliver every new record once; returns the batch failures reported (if any).

        A fresh iterator is taken after the last delivered record for every read: moto
        replaces a table's stream shard when it rolls back a failed transaction, which
        leaves older iterators reading a stale copy.
        """
        failures: list[dict[str, Any]] = []
        description = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            while True:
                last = self.last_sequence.get(shard_id)
                position = (
                    {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                    if last
                    else {"ShardIteratorType": "TRIM_HORIZON"}
                )
                iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)[
                    "ShardIterator"
                ]
                records = self.streams.get_records(ShardIterator=iterator, Limit=100).get("Records", [])
                if not records:
                    break
                event = {"Records": [_lambda_record(r, self.arn) for r in records]}
                result = self.handler(json.loads(json.dumps(event, default=str)), LambdaContext())
                failures.extend(result.get("batchItemFailures", []))
                self.last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        return failures


def _lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    out = dict(record)
    out["eventSourceARN"] = arn
    dynamodb = dict(out["dynamodb"])
    if "ApproximateCreationDateTime" in dynamodb and not isinstance(
        dynamodb["ApproximateCreationDateTime"], int | float
    ):
        dynamodb["ApproximateCreationDateTime"] = dynamodb["ApproximateCreationDateTime"].timestamp()
    out["dynamodb"] = dynamodb
    return out


class LambdaContext:
    function_name = "StreamFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:StreamFunction"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
