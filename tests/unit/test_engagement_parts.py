"""Engagement pieces that need no AWS: models, matching, chunking, pacing, built-in emails."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError

from crm.alerts.models import JobAlertSubmission
from crm.alerts.service import matches
from crm.campaigns.models import CampaignCreate
from crm.jobs.models import Job
from crm.mailing.messages import RECIPIENTS_PER_MESSAGE, MailJob, chunks
from crm.mailing.repository import message_digest
from crm.mailing.sender import Pacer, Plan, Skip, Target, build_message
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.reminders.models import ReminderCreate
from crm.sequences.models import EnrollmentRequest, SequenceCreate
from crm.templates import builtin as builtin_templates


def job(**overrides: Any) -> Job:
    values = {
        "id": "j1",
        "title": "Engineer",
        "status": "open",
        "tags": ["rust", "go"],
        "location": "Lisbon, Portugal",
        "created_at": "2026-11-27T00:00:00Z",
        "updated_at": "2026-11-27T00:00:00Z",
    }
    return Job.model_validate(values | overrides)


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        ({"tags": ["rust"]}, True),
        ({"tags": ["python"]}, False),
        ({"tags": [], "location": "lisbon"}, True),
        ({"tags": ["python"], "location": "Porto"}, False),
        ({"location": "Lisbon, Portugal, Europe"}, True),
        ({"location": ""}, False),
    ],
)
def test_job_alert_matching(subscription: dict[str, Any], expected: bool) -> None:
    assert matches(job(), subscription) is expected


def test_a_job_without_location_matches_on_tags_only() -> None:
    assert matches(job(location=None), {"location": "Lisbon"}) is False


def test_chunks_and_message_limits() -> None:
    ids = [f"c{i}" for i in range(RECIPIENTS_PER_MESSAGE * 2 + 3)]
    parts = chunks(ids)
    assert [len(p) for p in parts] == [RECIPIENTS_PER_MESSAGE, RECIPIENTS_PER_MESSAGE, 3]
    assert [i for part in parts for i in part] == ids
    with pytest.raises(ValidationError):
        MailJob(kind="campaign", ref="x", recipients=ids)
    with pytest.raises(ValidationError):
        MailJob(kind="campaign", ref="x", recipients=[])


def test_message_digest_ignores_order() -> None:
    assert message_digest(["a", "b"]) == message_digest(["b", "a"]) != message_digest(["a", "c"])


def test_pacer_keeps_to_its_rate() -> None:
    pacer = Pacer(200.0)
    start = time.monotonic()
    for _ in range(21):
        pacer.wait()
    assert time.monotonic() - start >= 0.095
    unpaced = Pacer(0)
    start = time.monotonic()
    for _ in range(1000):
        unpaced.wait()
    assert time.monotonic() - start < 0.05


def test_campaign_send_at_needs_a_time_zone() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignCreate.model_validate({"name": "x", "template_id": "t", "send_at": "2026-12-01T09:00:00"})
    assert caught.value.errors()[0]["loc"] == ("send_at",)
    ok = CampaignCreate.model_validate(
        {"name": "x", "template_id": "t", "send_at": "2026-12-01T10:00:00+01:00"}
    )
    assert ok.send_at is not None and ok.send_at.hour == 9


def test_sequence_always_stops_on_unsubscribe_and_erasure() -> None:
    created = SequenceCreate.model_validate(
        {"name": "s", "steps": [{"template_id": "t", "delay_days": 0}], "stop_on": ["applied"]}
    )
    assert created.stop_on == ["applied", "erased", "unsubscribed"]
    default = SequenceCreate.model_validate({"name": "s", "steps": [{"template_id": "t", "delay_days": 1}]})
    assert default.stop_on == ["applied", "erased", "unsubscribed"]
    with pytest.raises(ValidationError):
        SequenceCreate.model_validate({"name": "s", "steps": [{"template_id": "t", "delay_days": 400}]})


@pytest.mark.parametrize("body", [{}, {"candidate_ids": ["a"], "pool": "p"}, {"candidate_ids": []}])
def test_enrolment_needs_ids_or_a_pool(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EnrollmentRequest.model_validate(body)


def test_job_alert_needs_something_to_match_on() -> None:
    person = {"email": "a@example.com", "first_name": "A", "last_name": "B"}
    with pytest.raises(ValidationError):
        JobAlertSubmission.model_validate(person)
    assert JobAlertSubmission.model_validate(person | {"tags": "Rust, go"}).tags == ["rust", "go"]
    assert JobAlertSubmission.model_validate(person | {"location": "Berlin"}).location == "Berlin"


def test_reminder_needs_an_aware_time_and_a_note() -> None:
    with pytest.raises(ValidationError):
        ReminderCreate.model_validate({"candidate_id": "c", "due_at": "2030-01-01T00:00:00Z", "note": " "})
    with pytest.raises(ValidationError):
        ReminderCreate.model_validate({"candidate_id": "c", "due_at": "2030-01-01T00:00:00", "note": "x"})


def test_builtin_emails_escape_what_people_typed() -> None:
    hostile = '<script>alert("x")</script>'
    rendered = render_builtin(
        builtin_templates.REMINDER,
        {
            "candidate_name": hostile,
            "candidate_url": "https://crm.example.com/ui",
            "note": hostile,
            "due_at": "now",
        },
    )
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert rendered.subject == f"Reminder: {hostile}"  # a header, sent as text
    alert = render_builtin(
        builtin_templates.JOB_ALERT,
        {
            "first_name": hostile,
            "job": {"title": hostile, "location": None, "url": "https://x.example/careers?job=1"},
            "unsubscribe_url": "https://x.example/u",
        },
    )
    assert "<script>" not in alert.html


class _Plan(Plan):
    scope = "campaign#c1"

    def __init__(self, topic: Any, subject: str = "Hi {{ first_name }}") -> None:
        self.topic = topic
        self.subject = subject

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        return {}

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin({"subject": self.subject, "html": "<p>x</p>", "text": "x"}, target.context)


def test_marketing_mail_has_one_click_unsubscribe_and_transactional_mail_has_none() -> None:
    target = Target(
        email="ann@example.com",
        name="Ann Lee",
        context={
            "first_name": "Ann",
            "unsubscribe_url": "https://crm.example.com/public/unsubscribe?token=t",
        },
    )
    marketing = build_message(_Plan("marketing"), target, "CRM <no-reply@example.com>")
    assert marketing is not None
    assert marketing["List-Unsubscribe"] == "<https://crm.example.com/public/unsubscribe?token=t>"
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert marketing["To"] == "Ann Lee <ann@example.com>" and marketing["X-CRM-Mailing"] == "campaign"
    transactional = build_message(_Plan(None), target, "CRM <no-reply@example.com>")
    assert transactional is not None and "List-Unsubscribe" not in transactional


def test_an_email_that_cannot_be_built_is_none_not_an_error() -> None:
    target = Target(email="ann@example.com", name="Ann", context={"first_name": "Ann"})
    assert build_message(_Plan("marketing", "{{ 1 / 0 }}"), target, "CRM <no-reply@example.com>") is None
    broken_address = Target(email="ann@example.com\r\nBcc: x@example.com", name="", context={})
    assert build_message(_Plan(None), broken_address, "CRM <no-reply@example.com>") is None
