"""``crm dlq list`` and ``crm dlq redrive`` against a moto server on loopback, as `crm dev` runs it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from crm_tools.cli import main

PREFIX = "crm-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass
class Stack:
    endpoint: str
    data_dir: Path
    sqs: Any
    queues: dict[str, str]  # logical id -> URL

    def url(self, logical_id: str) -> str:
        return self.queues[logical_id]

    def drain(self, logical_id: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.url(logical_id), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            messages.extend(batch)
        return messages

    def count(self, logical_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


def _attributes(index: int) -> dict[str, Any]:
    return {
        "kind": {"DataType": "String", "StringValue": f"kind-{index}"},
        "attempt": {"DataType": "Number", "StringValue": str(index)},
        "blob": {"DataType": "Binary", "BinaryValue": bytes([index, 0, 255])},
    }


@pytest.fixture
def stack(endpoint: str, tmp_path: Path) -> Stack:
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    queues: dict[str, str] = {}

    def create(logical_id: str, name: str, dlq: str | None = None) -> str:
        attributes = {}
        if dlq is not None:
            arn = sqs.get_queue_attributes(QueueUrl=queues[dlq], AttributeNames=["QueueArn"])["Attributes"]
            policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": "1"}
            attributes["RedrivePolicy"] = json.dumps(policy)
        queues[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return queues[logical_id]

    create("WorkDLQ", f"{PREFIX}-work-dlq")
    create("WorkQueue", f"{PREFIX}-work", dlq="WorkDLQ")
    create("StreamFailureQueue", f"{PREFIX}-stream-failures")
    create("SharedDLQ", f"{PREFIX}-shared-dlq")
    create("FirstQueue", f"{PREFIX}-first", dlq="SharedDLQ")
    create("SecondQueue", f"{PREFIX}-second", dlq="SharedDLQ")

    # Four dead letters: three put there directly, one dead-lettered by SQS itself.
    for index in range(3):
        sqs.send_message(
            QueueUrl=queues["WorkDLQ"], MessageBody=f'{{"n": {index}}}', MessageAttributes=_attributes(index)
        )
    sqs.send_message(QueueUrl=queues["WorkQueue"], MessageBody='{"n": 3}', MessageAttributes=_attributes(3))
    for _ in range(2):  # maxReceiveCount 1: the second receive moves it to the DLQ
        sqs.receive_message(QueueUrl=queues["WorkQueue"], VisibilityTimeout=0)
    sqs.send_message(QueueUrl=queues["StreamFailureQueue"], MessageBody='{"requestContext": {}}')
    sqs.send_message(QueueUrl=queues["SharedDLQ"], MessageBody="shared")

    data_dir = tmp_path / "crm"
    data_dir.mkdir()
    description = {"endpoint_url": endpoint, "region": "us-east-1", "queues": queues}
    (data_dir / "stack.json").write_text(json.dumps(description), encoding="utf-8")
    return Stack(endpoint, data_dir, sqs, queues)


def run(stack: Stack, *argv: str) -> int:
    return main(["dlq", *argv, "--data-dir", str(stack.data_dir)])


def test_list_shows_dead_letter_queues_counts_and_sources(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.count("WorkDLQ") == 4

    assert run(stack, "list") == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["LOGICAL", "ID", "QUEUE", "VISIBLE", "IN", "FLIGHT", "SOURCES"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert set(rows) == {f"{PREFIX}-work-dlq", f"{PREFIX}-stream-failures", f"{PREFIX}-shared-dlq"}
    assert rows[f"{PREFIX}-work-dlq"][:5] == ["WorkDLQ", f"{PREFIX}-work-dlq", "4", "0", f"{PREFIX}-work"]
    assert rows[f"{PREFIX}-stream-failures"][:4] == [
        "StreamFailureQueue",
        f"{PREFIX}-stream-failures",
        "1",
        "0",
    ]
    assert "not re-drivable" in " ".join(rows[f"{PREFIX}-stream-failures"])


def test_list_json(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(stack, "list", "--json") == 0

    listed = {item["logical_id"]: item for item in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"WorkDLQ", "StreamFailureQueue", "SharedDLQ"}
    assert listed["WorkDLQ"] == {
        "logical_id": "WorkDLQ",
        "name": f"{PREFIX}-work-dlq",
        "url": stack.url("WorkDLQ"),
        "visible": 4,
        "in_flight": 0,
        "sources": [f"{PREFIX}-work"],
    }
    assert listed["SharedDLQ"]["sources"] == [f"{PREFIX}-first", f"{PREFIX}-second"]
    assert listed["StreamFailureQueue"]["sources"] == []


def test_redrive_by_logical_id_moves_everything_with_bodies_and_attributes(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(stack, "redrive", "WorkDLQ") == 0

    assert capsys.readouterr().out.strip() == f"moved 4 message(s) from {PREFIX}-work-dlq to {PREFIX}-work"
    assert stack.count("WorkDLQ") == 0
    moved = sorted(stack.drain("WorkQueue"), key=lambda message: message["Body"])
    assert [message["Body"] for message in moved] == [f'{{"n": {index}}}' for index in range(4)]
    for index, message in enumerate(moved):
        attributes = message["MessageAttributes"]
        assert attributes["kind"]["StringValue"] == f"kind-{index}"
        assert attributes["attempt"] == {"DataType": "Number", "StringValue": str(index)}
        assert attributes["blob"]["BinaryValue"] == bytes([index, 0, 255])
    assert stack.drain("WorkDLQ") == []


def test_redrive_by_name_with_max_and_by_url(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(stack, "redrive", f"{PREFIX}-work-dlq", "--max", "3") == 0
    assert "moved 3 message(s)" in capsys.readouterr().out
    assert stack.count("WorkQueue") == 3

    assert run(stack, "redrive", stack.url("WorkDLQ")) == 0
    assert "moved 1 message(s)" in capsys.readouterr().out
    assert stack.count("WorkQueue") == 4


def test_dry_run_moves_nothing(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(stack, "redrive", "WorkDLQ", "--dry-run") == 0

    assert "would move 4 message(s)" in capsys.readouterr().out
    assert stack.count("WorkDLQ") == 4
    assert stack.count("WorkQueue") == 0


def test_several_sources_need_to(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(stack, "redrive", "SharedDLQ") == 2
    assert "--to" in capsys.readouterr().err

    assert run(stack, "redrive", "SharedDLQ", "--to", "SecondQueue") == 0
    assert f"to {PREFIX}-second" in capsys.readouterr().out
    assert [message["Body"] for message in stack.drain("SecondQueue")] == ["shared"]


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("NoSuchQueue", "no queue 'NoSuchQueue'"),
        ("WorkQueue", "WorkQueue is not a dead-letter queue"),
        ("StreamFailureQueue", "cannot be re-driven"),
    ],
)
def test_what_cannot_be_redriven_exits_2(
    stack: Stack, capsys: pytest.CaptureFixture[str], queue: str, expected: str
) -> None:
    assert run(stack, "redrive", queue) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert stack.count("StreamFailureQueue") == 1


def test_no_local_stack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dlq", "list", "--data-dir", str(tmp_path)]) == 2
    assert "crm dev" in capsys.readouterr().err

    port = _free_port()  # nothing listens there
    stack_file = {"endpoint_url": f"http://127.0.0.1:{port}", "region": "us-east-1", "queues": {}}
    (tmp_path / "stack.json").write_text(json.dumps(stack_file), encoding="utf-8")
    assert main(["dlq", "list", "--data-dir", str(tmp_path)]) == 2
    assert "is `crm dev` still running?" in capsys.readouterr().err


def test_endpoint_url_without_stack_file_lists_the_endpoints_queues(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "elsewhere"
    argv = ["dlq", "list", "--json", "--data-dir", str(empty), "--endpoint-url", stack.endpoint]
    assert main(argv) == 0

    listed = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    assert listed[f"{PREFIX}-work-dlq"]["logical_id"] is None
    assert listed[f"{PREFIX}-work-dlq"]["visible"] == 4


def test_redrive_to_a_fifo_queue_keeps_the_message_group(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = {"FifoQueue": "true"}
    dlq = stack.sqs.create_queue(QueueName=f"{PREFIX}-orders-dlq.fifo", Attributes=fifo)["QueueUrl"]
    arn = stack.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "1"})
    source = stack.sqs.create_queue(
        QueueName=f"{PREFIX}-orders.fifo", Attributes={**fifo, "RedrivePolicy": policy}
    )["QueueUrl"]
    stack.sqs.send_message(
        QueueUrl=dlq, MessageBody="order", MessageGroupId="g-1", MessageDeduplicationId="1"
    )
    stack.queues.update(OrdersDLQ=dlq, OrdersQueue=source)
    description = {"endpoint_url": stack.endpoint, "region": "us-east-1", "queues": stack.queues}
    (stack.data_dir / "stack.json").write_text(json.dumps(description), encoding="utf-8")

    assert run(stack, "redrive", "OrdersDLQ") == 0

    assert "moved 1 message(s)" in capsys.readouterr().out
    received = stack.sqs.receive_message(QueueUrl=source, MessageSystemAttributeNames=["MessageGroupId"])
    [message] = received["Messages"]
    assert (message["Body"], message["Attributes"]["MessageGroupId"]) == ("order", "g-1")
