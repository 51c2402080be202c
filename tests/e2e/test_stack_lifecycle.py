"""`crm dev` start-up, provisioning, persistence and shutdown, independent of the API's routes:
the stack runs without demo data and the tests talk to its embedded AWS (loopback) directly."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def bare_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmDev]:
    stack = CrmDev(tmp_path_factory.mktemp("e2e-bare") / "data", "--no-seed")
    stack.start("--fresh")
    try:
        yield stack
    finally:
        if stack.process is not None:
            stack.stop_cleanly(signal.SIGTERM)


def aws(stack: CrmDev, service: str) -> Any:
    endpoint = stack.stack_file()["endpoint_url"]
    assert endpoint.startswith("http://127.0.0.1:")
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=endpoint)


def test_it_is_healthy_and_prints_one_ready_line(bare_stack: CrmDev) -> None:
    assert bare_stack.get("/health").json() == {"status": "ok"}
    out = bare_stack.stdout_path.read_text()
    assert out.count("CRM is ready on ") == 1
    assert "Demo users" not in out  # --no-seed


def test_unknown_routes_answer_like_api_gateway(bare_stack: CrmDev) -> None:
    response = bare_stack.get("/no/such/route")
    assert response.status_code in (403, 404)
    if response.status_code == 404:  # the template declares problem+json gateway responses
        assert response.headers["Content-Type"].startswith("application/problem+json")


def test_resources_are_provisioned_from_the_template(bare_stack: CrmDev) -> None:
    described = bare_stack.stack_file()
    env = described["functions"]["ApiFunction"]["environment"]
    table = aws(bare_stack, "dynamodb").describe_table(TableName=env["TABLE_NAME"])["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert aws(bare_stack, "s3").head_bucket(Bucket=env["RESUME_BUCKET"])
    pool = aws(bare_stack, "cognito-idp").describe_user_pool(UserPoolId=env["USER_POOL_ID"])["UserPool"]
    assert pool["Name"] == "crm-local-users"
    assert (
        aws(bare_stack, "events").describe_event_bus(Name=env["EVENT_BUS_NAME"])["Name"]
        == env["EVENT_BUS_NAME"]
    )
    assert aws(bare_stack, "sqs").get_queue_url(QueueName="crm-local-stream-failures")["QueueUrl"]
    users = aws(bare_stack, "cognito-idp").list_users(UserPoolId=env["USER_POOL_ID"])["Users"]
    assert users == []  # --no-seed: no demo users either


def test_a_second_stack_on_the_same_data_dir_is_refused(bare_stack: CrmDev) -> None:
    other = CrmDev(bare_stack.data_dir, "--no-seed")
    other.start(expect_ready=False)
    assert other.process is not None
    code = other.process.wait(timeout=60)
    other.process = None
    assert code == 1
    assert "another crm dev" in other.stderr_path.read_text()


def test_data_survives_restarts_and_fresh_starts_empty(bare_stack: CrmDev) -> None:
    env = bare_stack.stack_file()["functions"]["ApiFunction"]["environment"]
    table, bucket = env["TABLE_NAME"], env["RESUME_BUCKET"]
    item = {
        "pk": {"S": "E2E#1"},
        "sk": {"S": "ITEM"},
        "name": {"S": "Zoë Ñandú"},
        "blob": {"B": b"\x00\x01\xff"},
        "tags": {"SS": ["a", "b"]},
        "n": {"N": "42"},
    }
    aws(bare_stack, "dynamodb").put_item(TableName=table, Item=item)
    aws(bare_stack, "s3").put_object(
        Bucket=bucket, Key="resumes/e2e/cv.pdf", Body=b"%PDF-1.7 e2e", ContentType="application/pdf"
    )

    bare_stack.stop_cleanly(signal.SIGTERM)
    state = bare_stack.data_dir / "state"
    assert (state / "dynamodb" / "CrmTable.json").is_file()
    assert not (bare_stack.data_dir / "stack.json").exists()

    bare_stack.start()
    key = {"pk": item["pk"], "sk": item["sk"]}
    assert aws(bare_stack, "dynamodb").get_item(TableName=table, Key=key)["Item"] == item
    body = aws(bare_stack, "s3").get_object(Bucket=bucket, Key="resumes/e2e/cv.pdf")["Body"].read()
    assert body == b"%PDF-1.7 e2e"

    bare_stack.stop_cleanly(signal.SIGINT)
    bare_stack.start("--fresh")
    assert "Item" not in aws(bare_stack, "dynamodb").get_item(TableName=table, Key=key)
    listed = aws(bare_stack, "s3").list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


def test_changes_are_saved_while_running(bare_stack: CrmDev, tmp_path: Path) -> None:
    """A crash loses nothing that was answered: each write is in the journal before its answer."""
    import json

    env = bare_stack.stack_file()["functions"]["ApiFunction"]["environment"]
    aws(bare_stack, "dynamodb").put_item(
        TableName=env["TABLE_NAME"], Item={"pk": {"S": "E2E#autosave"}, "sk": {"S": "ITEM"}}
    )
    journal = sorted((bare_stack.data_dir / "state" / "journal").glob("*.jsonl"))
    lines = [
        json.loads(line) for path in journal for line in path.read_text().splitlines()
    ]  # never half-written
    assert {"pk": {"S": "E2E#autosave"}, "sk": {"S": "ITEM"}} in [line.get("item") for line in lines]


def test_an_open_browser_connection_does_not_hold_the_exit(bare_stack: CrmDev) -> None:
    """A browser keeps idle HTTP/1.1 connections open; Ctrl-C must still stop the stack at once."""
    import socket
    import time

    idle = socket.create_connection(("127.0.0.1", bare_stack.port), timeout=10)
    try:
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.")  # answered; the connection stays open
        started = time.monotonic()
        bare_stack.stop_cleanly(signal.SIGINT)
        assert time.monotonic() - started < 15
    finally:
        idle.close()
    bare_stack.start()
