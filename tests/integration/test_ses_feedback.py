"""SesFeedbackFunction under moto: SES notifications (EventBridge -> SQS) suppress addresses."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from crm.mailing.suppression import SuppressionRepository
from crm_tools.cfn import Template
from tests.support.stack import TestStack as Stack
from tests.support.streams import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "events" / "ses-feedback-bounce.json"


def load_handler() -> Any:
    """functions/ses_feedback/handler.py under its own name (functions/stream has a handler too)."""
    spec = importlib.util.spec_from_file_location(
        "ses_feedback_handler", ROOT / "functions" / "ses_feedback" / "handler.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def sample() -> dict[str, Any]:
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def record(message_id: str, body: str) -> dict[str, Any]:
    out = copy.deepcopy(sample()["Records"][0])
    out["messageId"] = message_id
    out["body"] = body
    return out


def ses_event(kind: str, email: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    event = json.loads(sample()["Records"][0]["body"])
    if kind == "Complaint":
        event["detail-type"] = "Email Complaint Received"
        event["detail"]["eventType"] = "Complaint"
        del event["detail"]["bounce"]
        event["detail"]["complaint"] = {
            "feedbackId": "f-1",
            "complainedRecipients": [{"emailAddress": email}],
            "timestamp": "2026-11-26T10:15:31.000Z",
            "complaintFeedbackType": "abuse",
        }
    else:
        event["detail"]["bounce"]["bounceType"] = bounce_type
        event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = email
    return dict(event)


def test_sample_event_suppresses_the_bounced_address(aws_stack: Stack) -> None:
    result = load_handler()(sample(), LambdaContext())
    assert result == {"batchItemFailures": []}
    assert SuppressionRepository().reasons("bounce@simulator.amazonses.com") == ["bounced"]


def test_bad_record_fails_alone_and_the_good_ones_are_suppressed(
    aws_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {
        "Records": [
            record("good-bounce", json.dumps(ses_event("Bounce", "Hard@Example.com"))),
            record(
                "bad", '{"source": "aws.ses", "detail-type": "Email Bounced", "detail": {"x@example.com": 1}}'
            ),
            record("good-complaint", json.dumps(ses_event("Complaint", "angry@example.com"))),
            record("transient", json.dumps(ses_event("Bounce", "full@example.com", "Transient"))),
        ]
    }
    handler = load_handler()
    assert handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    repo = SuppressionRepository()
    assert repo.reasons("hard@example.com") == ["bounced"]
    assert repo.reasons("angry@example.com") == ["complained"]
    assert repo.reasons("full@example.com") == []
    # Delivered again (SQS is at least once): harmless, and reasons accumulate.
    handler({"Records": event["Records"][:1]}, LambdaContext())
    handler(
        {"Records": [record("c2", json.dumps(ses_event("Complaint", "hard@example.com")))]}, LambdaContext()
    )
    assert repo.reasons("hard@example.com") == ["bounced", "complained"]
    captured = capsys.readouterr()
    assert "example.com" not in captured.out + captured.err


def test_template_rule_routes_ses_events_to_the_queue(aws_stack: Stack) -> None:
    """The rule's own pattern (default bus) delivers SES's events (bounces, complaints, deliveries,
    opens, clicks) and nothing else; only bounces and complaints suppress."""
    template = Template.load(ROOT / "infra" / "template.yaml")
    rule = template.properties("SesFeedbackRule")
    assert "EventBusName" not in rule
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="ses-feedback")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="ses-feedback", EventPattern=json.dumps(rule["EventPattern"]))
    events.put_targets(Rule="ses-feedback", Targets=[{"Id": "q", "Arn": arn}])
    entries = []
    for detail_type, event in (
        ("Email Bounced", ses_event("Bounce", "routed@example.com")),
        ("Email Complaint Received", ses_event("Complaint", "routed2@example.com")),
        ("Email Delivered", {"eventType": "Delivery"}),
        ("Email Sent", {"eventType": "Send"}),
    ):
        detail = event.get("detail", event)
        entries.append({"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail)})
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["detail-type"] for m in messages) == [
        "Email Bounced",
        "Email Complaint Received",
        "Email Delivered",
    ]
    batch = {"Records": [record(m["MessageId"], m["Body"]) for m in messages]}
    assert load_handler()(batch, LambdaContext()) == {"batchItemFailures": []}
    repo = SuppressionRepository()
    assert repo.reasons("routed@example.com") == ["bounced"]
    assert repo.reasons("routed2@example.com") == ["complained"]
