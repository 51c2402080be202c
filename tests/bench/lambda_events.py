"""Lambda events shaped as AWS delivers them: API Gateway REST proxy events (what Chalice routes by)
and DynamoDB stream batches (what the stream worker's BatchProcessor parses)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

ACCOUNT = "123456789012"
REGION = "us-east-1"


def api_event(
    method: str,
    resource: str,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """An API Gateway REST (payload 1.0) proxy event for the route ``resource``."""
    path = resource
    for name, val in (path_params or {}).items():
        path = path.replace("{" + name + "}", val)
    sent = {
        "Host": "api.example.com",
        "User-Agent": "crm-bench",
        "Accept": "application/json",
        **(headers or {}),
    }
    raw_body = None
    if body is not None:
        raw_body = body if isinstance(body, str) else json.dumps(body)
        sent.setdefault("Content-Type", "application/json")
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_params) if path_params else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "bench",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/api{path}" + (f"?{urlencode(query)}" if query else ""),
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": "api",
            "domainPrefix": "api",
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "crm-bench"},
            "domainName": "api.example.com",
            "apiId": "bench",
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def stream_event(
    table: str,
    event_name: str,
    keys: dict[str, Any],
    new: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A one-record DynamoDB stream batch (NEW_AND_OLD_IMAGES) for ``table``; images are raw
    DynamoDB JSON as the stream carries them."""
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/2024-01-01T00:00:00.000"
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": keys,
        "SequenceNumber": "100000000000000000001",
        "SizeBytes": len(json.dumps(new or old or {})),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": arn,
    }
    return {"Records": [record]}


class LambdaContext:
    """The attributes of the Lambda context object the handlers (Powertools Logger) read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
