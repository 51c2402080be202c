"""The local runtime is generic: any template's queues, rules and SQS-triggered functions run.

A small template (written here) has an event bus, a rule that routes to a queue with a DLQ,
and a function on that queue; `crm dev --template` runs it. An event put on the bus reaches
the function as a real SQS event; a message the function keeps failing ends in the DLQ after
maxReceiveCount receives, as in AWS.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  OutDir:
    Type: String
Globals:
  Function:
    Timeout: 5
    Environment:
      Variables:
        OUT_DIR: !Ref OutDir
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub "${AWS::StackName}-bus"
  JobsDlq:
    Type: AWS::SQS::Queue
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDlq.Arn
        maxReceiveCount: 2
  PingRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [crm.test]
        detail-type: [Ping]
      Targets:
        - Id: jobs
          Arn: !GetAtt JobsQueue.Arn
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: api
      Handler: app.app
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      Handler: handler.handler
      Environment:
        Variables:
          JOBS_QUEUE_URL: !Ref JobsQueue
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
"""

API = """
from chalice import Chalice

app = Chalice(app_name="generic")


@app.route("/health")
def health():
    return {"status": "ok"}
"""

WORKER = """
import json
import os
from pathlib import Path


def handler(event, context):
    failures = []
    for record in event["Records"]:
        ping = json.loads(record["body"])
        name = ping["detail"]["name"]
        if ping["detail"].get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        out = Path(os.environ["OUT_DIR"]) / f"{name}.json"
        out.write_text(json.dumps({"record": record, "function": context.function_name}))
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def generic_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrmDev, Path]]:
    root = tmp_path_factory.mktemp("generic")
    (root / "api").mkdir()
    (root / "api" / "app.py").write_text(API)
    (root / "worker").mkdir()
    (root / "worker" / "handler.py").write_text(WORKER)
    (root / "template.yaml").write_text(TEMPLATE)
    out = root / "out"
    out.mkdir()
    stack = CrmDev(
        root / "data",
        "--no-seed",
        "--template",
        str(root / "template.yaml"),
        "--parameter",
        f"OutDir={out}",
    )
    stack.start("--fresh")
    try:
        yield stack, out
    finally:
        if stack.process is not None:
            stack.stop_cleanly(signal.SIGTERM)


def aws(stack: CrmDev, service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=stack.stack_file()["endpoint_url"])


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def ping(stack: CrmDev, name: str, **detail: Any) -> None:
    entries = [
        {
            "EventBusName": "crm-local-bus",
            "Source": "crm.test",
            "DetailType": "Ping",
            "Detail": json.dumps({"name": name, **detail}),
        }
    ]
    assert aws(stack, "events").put_events(Entries=entries)["FailedEntryCount"] == 0


def test_function_environment_comes_from_the_template(generic_stack: tuple[CrmDev, Path]) -> None:
    stack, out = generic_stack
    env = stack.stack_file()["functions"]["WorkerFunction"]["environment"]
    assert env["OUT_DIR"] == str(out)
    assert env["JOBS_QUEUE_URL"].endswith("/crm-local-JobsQueue")


def test_a_bus_event_reaches_the_queue_consumer_as_an_sqs_event(generic_stack: tuple[CrmDev, Path]) -> None:
    stack, out = generic_stack
    ping(stack, "hello")
    written = wait_for(lambda: (out / "hello.json").is_file() and (out / "hello.json").read_text())
    delivered = json.loads(written)
    record = delivered["record"]
    assert delivered["function"] == "crm-local-WorkerFunction"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":crm-local-JobsQueue")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    SqsModel.model_validate({"Records": [record]})
    queue_url = aws(stack, "sqs").get_queue_url(QueueName="crm-local-JobsQueue")["QueueUrl"]
    attributes = aws(stack, "sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessages"] == "0"  # deleted after success


def test_a_message_that_keeps_failing_lands_in_the_dlq(generic_stack: tuple[CrmDev, Path]) -> None:
    stack, out = generic_stack
    ping(stack, "poison", fail=True)
    sqs = aws(stack, "sqs")
    dlq_url = sqs.get_queue_url(QueueName="crm-local-JobsDlq")["QueueUrl"]

    def in_dlq() -> list[dict[str, Any]]:
        response = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        return [m for m in response.get("Messages", []) if "poison" in m["Body"]]

    assert wait_for(in_dlq)
    assert not (out / "poison.json").exists()
