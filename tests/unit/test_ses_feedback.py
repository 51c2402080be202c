"""SES bounce/complaint notifications -> suppression list (domain logic, no AWS)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from crm.workflows.ses_feedback import MalformedFeedback, apply_feedback, parse, suppressions

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "ses-feedback-bounce.json"


class MemorySuppressions:
    def __init__(self) -> None:
        self.reasons: dict[str, set[str]] = {}

    def suppress(self, email: str, reason: str, *, source: str) -> None:
        assert source == "ses"
        self.reasons.setdefault(email.strip().lower(), set()).add(reason)


def bounce_event(bounce_type: str = "Permanent", *emails: str) -> dict[str, Any]:
    event = json.loads(json.loads(SAMPLE.read_text())["Records"][0]["body"])
    event = copy.deepcopy(event)
    event["detail"]["bounce"]["bounceType"] = bounce_type
    event["detail"]["bounce"]["bouncedRecipients"] = [
        {"emailAddress": e, "action": "failed", "status": "5.1.1"} for e in emails
    ]
    return event


def complaint_event(*emails: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c0ffee00-0000-4000-8000-000000000001",
        "detail-type": "Email Complaint Received",
        "source": "aws.ses",
        "account": "123456789012",
        "time": "2026-11-26T10:15:31Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventType": "Complaint",
            "mail": {"messageId": "m-1", "destination": list(emails)},
            "complaint": {
                "feedbackId": "f-1",
                "complaintSubType": None,
                "complainedRecipients": [{"emailAddress": e} for e in emails],
                "timestamp": "2026-11-26T10:15:31.000Z",
                "complaintFeedbackType": "abuse",
            },
        },
    }


def test_permanent_bounce_suppresses_each_recipient() -> None:
    repo = MemorySuppressions()
    body = json.dumps(bounce_event("Permanent", "a@example.com", "B@Example.com"))
    assert apply_feedback(body, repo) == 2
    assert repo.reasons == {"a@example.com": {"bounced"}, "b@example.com": {"bounced"}}


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_transient_or_undetermined_bounce_does_not_suppress(bounce_type: str) -> None:
    repo = MemorySuppressions()
    assert apply_feedback(json.dumps(bounce_event(bounce_type, "a@example.com")), repo) == 0
    assert repo.reasons == {}


def test_complaint_suppresses_as_complained() -> None:
    repo = MemorySuppressions()
    assert apply_feedback(complaint_event("c@example.com"), repo) == 1
    assert repo.reasons == {"c@example.com": {"complained"}}


def test_twice_is_harmless() -> None:
    repo = MemorySuppressions()
    body = json.dumps(bounce_event("Permanent", "a@example.com"))
    apply_feedback(body, repo)
    apply_feedback(body, repo)
    assert repo.reasons == {"a@example.com": {"bounced"}}


def test_sample_event_body_parses() -> None:
    event = parse(json.loads(SAMPLE.read_text())["Records"][0]["body"])
    assert suppressions(event) == [("bounce@simulator.amazonses.com", "bounced")]


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[]",
        json.dumps({"source": "aws.ses", "detail-type": "Email Delivered", "detail": {}}),
        json.dumps({**bounce_event("Permanent", "x@example.com"), "source": "custom.app"}),
        json.dumps({**bounce_event("Permanent", "x@example.com"), "detail": {"bounce": {}}}),
        json.dumps(
            complaint_event("secret@example.com")
            | {"detail": {"complaint": {"complainedRecipients": [{"emailAddress": None}]}}}
        ),
    ],
)
def test_malformed_body_raises_without_repeating_it(body: str) -> None:
    repo = MemorySuppressions()
    with pytest.raises(MalformedFeedback) as caught:
        apply_feedback(body, repo)
    assert "@" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert repo.reasons == {}
