"""Pure parts of the local stack: event shapes, partial batch responses, gateway answers, demo data, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from crm_tools import cli
from crm_tools.devstack.http import render_gateway_response
from crm_tools.devstack.persist import from_wire, to_wire
from crm_tools.devstack.runtime import (
    LambdaContext,
    describe_exception,
    dynamodb_event_record,
    failed_identifiers,
    sqs_event_record,
)
from crm_tools.seed import DEFAULT_DEMO_PASSWORD, JOBS, demo_data

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm/stream/2026-01-01T00:00:00"


def test_partial_batch_responses() -> None:
    assert failed_identifiers(None) is None
    assert failed_identifiers({}) is None
    assert failed_identifiers({"batchItemFailures": []}) is None
    assert failed_identifiers({"batchItemFailures": [{"itemIdentifier": "12"}]}) == ["12"]
    # Malformed answers make the whole batch a failure, as in Lambda.
    assert failed_identifiers({"batchItemFailures": [{"itemIdentifier": ""}]}) == []
    assert failed_identifiers({"batchItemFailures": [{"nope": 1}]}) == []
    assert failed_identifiers("not a dict") == []


def test_dynamodb_stream_record_as_lambda_delivers_it() -> None:
    raw = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=dt.UTC),
            "Keys": {"pk": {"S": "CAND#1"}, "sk": {"S": "PROFILE"}},
            "NewImage": {
                "pk": {"S": "CAND#1"},
                "blob": {"B": b"\x00\x01"},
                "m": {"M": {"b": {"BS": [b"x"]}}},
            },
            "OldImage": {"pk": {"S": "CAND#1"}, "version": {"N": "1"}},
            "SequenceNumber": "1100000000017454423009",
            "SizeBytes": 120,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = dynamodb_event_record(raw, stream_arn=STREAM_ARN, region="us-east-1")
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["eventVersion"] == "1.1"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767323045.0
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert record["dynamodb"]["NewImage"]["m"] == {"M": {"b": {"BS": ["eA=="]}}}
    assert record["dynamodb"]["OldImage"]["version"] == {"N": "1"}
    json.dumps(record)  # what a handler receives is plain JSON

    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

    DynamoDBStreamModel.model_validate({"Records": [record]})


def test_sqs_record_as_lambda_delivers_it() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "MD5OfBody": "abc",
        "Body": '{"hello": "world"}',
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767323045000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1767323045001",
        },
        "MessageAttributes": {
            "kind": {"StringValue": "send", "DataType": "String"},
            "raw": {"BinaryValue": b"\x01", "DataType": "Binary"},
        },
    }
    arn = "arn:aws:sqs:us-east-1:123456789012:crm-local-sends"
    record = sqs_event_record(message, queue_arn=arn, region="us-east-1")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["messageAttributes"]["kind"]["stringValue"] == "send"
    assert record["messageAttributes"]["raw"]["binaryValue"] == "AQ=="
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    SqsModel.model_validate({"Records": [record]})


def test_lambda_context_counts_down() -> None:
    context = LambdaContext(
        function_name="crm-local-StreamFunction",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:crm-local-StreamFunction",
        timeout_seconds=60,
    )
    assert 59_000 < context.get_remaining_time_in_millis() <= 60_000
    assert context.aws_request_id and context.function_version == "$LATEST"


def test_exceptions_are_described_without_their_message() -> None:
    try:
        raise ValueError("jane.doe@example.com is invalid")
    except ValueError as exc:
        described = describe_exception(exc)
    assert "ValueError" in described and "test_local_stack_parts.py" in described
    assert "jane.doe" not in described


def test_gateway_responses_follow_the_template() -> None:
    responses = {
        "MISSING_AUTHENTICATION_TOKEN": {
            "StatusCode": "404",
            "ResponseParameters": {"Headers": {"Content-Type": "'application/problem+json'"}},
            "ResponseTemplates": {
                "application/json": '{"type":"about:blank","title":"Not Found","status":404,'
                '"detail":$context.error.messageString}'
            },
        }
    }
    status, headers, body = render_gateway_response(responses, "MISSING_AUTHENTICATION_TOKEN", "Missing")
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"] == "Missing"
    status, headers, body = render_gateway_response({}, "REQUEST_TOO_LARGE", "Request Too Long")
    assert status == 413 and json.loads(body) == {"message": "Request Too Long"}


def test_items_survive_the_wire_format() -> None:
    item = {"pk": {"S": "A"}, "b": {"B": b"\x00\xff"}, "l": {"L": [{"BS": [b"\x01"]}, {"N": "1"}]}}
    wire = to_wire(item)
    assert wire["b"] == {"B": "AP8="}
    json.dumps(wire)
    assert {k: from_wire(v) for k, v in wire.items()} == item


def test_demo_data_is_deterministic_and_varied() -> None:
    first, second = demo_data(), demo_data()
    assert first == second
    assert len(first.candidates) >= 60
    emails = [c["email"] for c in first.candidates]
    assert len(set(emails)) == len(emails)
    assert all(e.isascii() and "@example." in e for e in emails)
    assert any(not (c["first_name"] + c["last_name"]).isascii() for c in first.candidates)
    assert len({c["location"] for c in first.candidates}) >= 8
    assert len({c["source"] for c in first.candidates}) >= 4
    assert len({t for c in first.candidates for t in c["tags"]}) >= 10
    assert {j["status"] for j in JOBS} == {"open", "closed"}
    assert first.memberships and first.applications and first.signups
    public = {a[1]["email"] for a in first.applications} | {s["email"] for s in first.signups}
    assert public - set(emails), "some public submissions are new people"


def test_the_demo_password_satisfies_the_pool_policy() -> None:
    pw = DEFAULT_DEMO_PASSWORD
    assert len(pw) >= 12 and any(c.isupper() for c in pw) and any(c.islower() for c in pw)
    assert any(c.isdigit() for c in pw)


def test_cli_parses_dev_options() -> None:
    args = cli.build_parser().parse_args(
        ["dev", "--port", "8123", "--data-dir", "/tmp/x", "--fresh", "--no-seed", "--demo-password", "P"]
    )
    assert (args.host, args.port, str(args.data_dir), args.fresh, args.no_seed) == (
        "127.0.0.1",
        8123,
        "/tmp/x",
        True,
        True,
    )
    assert args.demo_password == "P"
    defaults = cli.build_parser().parse_args(["dev"])
    assert (defaults.port, str(defaults.data_dir), defaults.demo_password) == (
        8000,
        ".crm",
        DEFAULT_DEMO_PASSWORD,
    )


def test_cli_invoke_and_package(monkeypatch: pytest.MonkeyPatch) -> None:
    args = cli.build_parser().parse_args(["invoke", "stream", "--event", "events/x.json"])
    assert (args.function, args.event) == ("stream", "events/x.json")
    seen: list[list[str]] = []
    monkeypatch.setitem(cli.PASSTHROUGH, "package", lambda argv: seen.append(list(argv)) or 0)
    assert cli.main(["package", "--output", "build", "--help"]) == 0
    assert seen == [["--output", "build", "--help"]]


def test_env_json_is_in_sam_env_vars_format() -> None:
    from crm_tools.devstack.stack import env_json

    document = env_json({"ApiFunction": {"B": "2", "A": "1"}, "StreamFunction": {"A": "1", "C": "3"}})
    assert document == {
        "Parameters": {"A": "1", "B": "2", "C": "3"},
        "ApiFunction": {"A": "1", "B": "2"},
        "StreamFunction": {"A": "1", "C": "3"},
    }
    args = cli.build_parser().parse_args(["env-json", "--output", "-"])
    assert args.output == "-"


def test_crm_invoke_without_a_running_stack_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "api", "--event", "events/api-health.json", "--data-dir", str(tmp_path)]) == 2
    assert "crm dev" in capsys.readouterr().err
