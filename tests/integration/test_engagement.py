"""Scheduling with the local clock, sequences, reminders, job alerts, suppression and bad input:
the HTTP API, the stream function, the due-work tick and the queue consumers, in-process."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import boto3
import pytest

from crm.mailing.suppression import SuppressionRepository
from crm.platform import clock
from crm.platform.ids import iso
from crm_tools.devstack.runtime import LambdaContext, load_handler
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import (
    TEMPLATE,
    create_campaign,
    get_campaign,
    make_candidates,
)
from tests.support import engagement
from tests.support.engagement import ROOT, QueueDriver, sent_messages

HOUR = 3600
DAY = 24 * HOUR


def settle(env: Env, driver: QueueDriver) -> None:
    engagement.settle(env.pump, driver)


def tick() -> dict[str, Any]:
    """One run of the due-work function (EventBridge Scheduler calls it every minute in AWS)."""
    handler = load_handler(ROOT / "functions" / "due_work", "handler.handler")
    event = json.loads((ROOT / "events" / "due-work-tick.json").read_text())
    context = LambdaContext(
        function_name="due-work", memory_limit_in_mb=512, invoked_function_arn="arn:x", timeout_seconds=60
    )
    return dict(handler(event, context))


def emails_to(address: str) -> list[Any]:
    return [m for m in sent_messages() if address in str(m["To"])]


def template_id(env: Env, subject: str = "Step {{ first_name }}") -> str:
    response = json_post(env, "/v1/templates", {**TEMPLATE, "subject": subject}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


# ------------------------------------------------------------------------------- campaigns


def test_campaign_at_send_at_waits_for_its_schedule(env: Env, driver: QueueDriver) -> None:
    make_candidates(env, 3, tag="elixir")
    at = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign = create_campaign(env, {"tags": ["elixir"]}, send_at=at)
    launched = env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert launched.status_code == 202
    assert launched.json_body["status"] == "scheduled"
    settle(env, driver)
    assert sent_messages() == []
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    schedule = scheduler.get_schedule(Name=f"campaign-{campaign['id']}", GroupName=env.stack.schedule_group)
    assert schedule["ScheduleExpression"] == f"at({at[:-1]})"
    assert schedule["Target"]["Arn"] == env.stack.queue_arn("dispatch")
    assert schedule["ActionAfterCompletion"] == "DELETE"
    # Launching again schedules nothing twice.
    again = env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert again.json_body["status"] == "scheduled"
    assert len(scheduler.list_schedules(GroupName=env.stack.schedule_group)["Schedules"]) == 1
    # The schedule fires (as EventBridge Scheduler does at that time): its input goes to the queue.
    clock.advance(2 * HOUR + 60)
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=env.stack.queues["dispatch"], MessageBody=schedule["Target"]["Input"]
    )
    settle(env, driver)
    assert len(sent_messages()) == 3
    assert get_campaign(env, campaign["id"])["status"] == "sent"


def test_withdrawn_consent_and_erasure_between_launch_and_send(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 4, tag="haskell")
    campaign = create_campaign(env, {"tags": ["haskell"]})
    env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    driver.run(only="dispatch")
    assert get_campaign(env, campaign["id"])["stats"]["recipients"] == 4
    # Queued, not yet sent: one unsubscribes, one bounces, one is erased.
    from crm.portal.unsubscribe import unsubscribe, unsubscribe_url

    unsubscribe(unsubscribe_url(ids[0], "marketing").split("token=")[1], source="test")
    SuppressionRepository().suppress("c1-haskell@example.com", "bounced", source="test")
    erased = env.client.http.delete(f"/v1/candidates/{ids[2]}", headers=env.auth("admin"))
    assert erased.status_code == 204
    settle(env, driver)
    assert [str(m["To"]) for m in sent_messages()] == ["Person3 Test <c3-haskell@example.com>"]
    stats = get_campaign(env, campaign["id"])["stats"]
    assert (stats["recipients"], stats["sent"], stats["suppressed"], stats["failed"]) == (4, 1, 3, 0)


def test_campaign_stats_count_ses_events_once(env: Env, driver: QueueDriver) -> None:
    make_candidates(env, 2, tag="ocaml")
    campaign = create_campaign(env, {"tags": ["ocaml"]})
    env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    settle(env, driver)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    message_ids = [m.id for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages]
    deliver = engagement.ses_event

    for message_id in message_ids:
        deliver("Email Delivered", message_id)
        deliver("Email Delivered", message_id)  # SES events arrive at least once
    deliver("Email Opened", message_ids[0])
    deliver("Email Clicked", message_ids[0])
    stats = get_campaign(env, campaign["id"])["stats"]
    assert (stats["delivered"], stats["opened"], stats["clicked"], stats["bounced"]) == (2, 1, 1, 0)


# ------------------------------------------------------------------------------- sequences


def test_three_step_sequence_stops_for_the_candidate_who_applies(env: Env, driver: QueueDriver) -> None:
    steps = [
        {"template_id": template_id(env, "One {{ first_name }}"), "delay_days": 0},
        {"template_id": template_id(env, "Two {{ first_name }}"), "delay_days": 2},
        {"template_id": template_id(env, "Three {{ first_name }}"), "delay_days": 3},
    ]
    sequence = json_post(env, "/v1/sequences", {"name": "Nurture", "steps": steps}, env.auth("recruiter"))
    assert sequence.status_code == 201, sequence.body
    assert sequence.json_body["stop_on"] == ["applied", "erased", "unsubscribed"]
    sid = sequence.json_body["id"]
    ids = make_candidates(env, 2, tag="nurture")
    enrolled = json_post(
        env, f"/v1/sequences/{sid}/enrollments", {"candidate_ids": ids}, env.auth("recruiter")
    )
    assert enrolled.status_code == 202
    assert enrolled.json_body == {
        "enrolled": 2,
        "already_enrolled": 0,
        "not_found": [],
        "enrolled_ids": ids,
        "skipped": [],
    }
    again = json_post(
        env, f"/v1/sequences/{sid}/enrollments", {"candidate_ids": [*ids, "nobody"]}, env.auth("recruiter")
    )
    assert again.json_body == {
        "enrolled": 0,
        "already_enrolled": 2,
        "not_found": ["nobody"],
        "enrolled_ids": [],
        "skipped": [
            {"candidate_id": ids[0], "reason": "already_enrolled"},
            {"candidate_id": ids[1], "reason": "already_enrolled"},
            {"candidate_id": "nobody", "reason": "unknown"},
        ],
    }

    def subjects(address: str) -> list[str]:
        return [str(m["Subject"]) for m in emails_to(address)]

    tick()
    settle(env, driver)
    assert subjects("c0-nurture@") == ["One Person0"] and subjects("c1-nurture@") == ["One Person1"]
    clock.advance(DAY)
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 2  # step two is two days after step one
    clock.advance(DAY + 60)
    tick()
    settle(env, driver)
    assert subjects("c0-nurture@") == ["One Person0", "Two Person0"]
    # Candidate 0 applies to a job: their sequence stops.
    job = json_post(env, "/v1/jobs", {"title": "Engineer", "tags": ["nurture"]}, env.auth("recruiter"))
    applied = json_post(
        env,
        f"/public/jobs/{job.json_body['id']}/applications",
        {"email": "c0-nurture@example.com", "first_name": "Person0", "last_name": "Test"},
    )
    assert applied.status_code == 202
    settle(env, driver)
    clock.advance(3 * DAY + 60)
    tick()
    settle(env, driver)
    assert subjects("c0-nurture@") == ["One Person0", "Two Person0"]
    assert subjects("c1-nurture@") == ["One Person1", "Two Person1", "Three Person1"]
    progress = env.client.http.get(f"/v1/sequences/{sid}", headers=env.auth("recruiter")).json_body
    assert progress["enrollments"] == {"completed": 1, "stopped": 1}
    # Ticking again sends nothing more.
    clock.advance(10 * DAY)
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 5


def test_enrolling_a_pool(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 3, tag="pooled")
    pool = json_post(env, "/v1/pools", {"name": "Warm"}, env.auth("recruiter")).json_body
    for cid in ids[:2]:
        added = json_post(
            env, f"/v1/pools/{pool['id']}/members", {"candidate_id": cid}, env.auth("recruiter")
        )
        assert added.status_code == 201
    env.pump.drain()
    body = {"name": "Pool seq", "steps": [{"template_id": template_id(env), "delay_days": 1}]}
    sid = json_post(env, "/v1/sequences", body, env.auth("recruiter")).json_body["id"]
    enrolled = json_post(env, f"/v1/sequences/{sid}/enrollments", {"pool": pool["id"]}, env.auth("recruiter"))
    assert enrolled.status_code == 202
    assert enrolled.json_body["enrolled"] == 2
    tick()
    settle(env, driver)
    assert sent_messages() == []  # due in a day
    clock.advance(DAY + 1)
    tick()
    settle(env, driver)
    assert sorted(str(m["To"]) for m in sent_messages()) == [
        "Person0 Test <c0-pooled@example.com>",
        "Person1 Test <c1-pooled@example.com>",
    ]


# ------------------------------------------------------------------------------- reminders


def test_reminder_is_due_and_emails_the_recruiter(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="remind")
    due = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"candidate_id": cid, "due_at": due, "note": "Call <b>back</b> about the offer"}
    created = json_post(env, "/v1/reminders", body, env.auth("recruiter"))
    assert created.status_code == 201, created.body
    assert created.json_body["state"] == "pending" and created.json_body["due"] is False
    mine = env.client.http.get("/v1/reminders?due=true", headers=env.auth("recruiter")).json_body
    assert mine["items"] == []
    tick()
    settle(env, driver)
    assert sent_messages() == []
    clock.advance(3 * HOUR)
    tick()
    settle(env, driver)
    (email,) = sent_messages()
    assert str(email["To"]) == "recruiter@example.com"
    html = email.get_body(("html",)).get_content()
    assert "Call &lt;b&gt;back&lt;/b&gt; about the offer" in html
    due_now = env.client.http.get("/v1/reminders?due=true", headers=env.auth("recruiter")).json_body["items"]
    assert [(r["id"], r["due"], r["state"]) for r in due_now] == [(created.json_body["id"], True, "notified")]
    on_candidate = env.client.http.get(f"/v1/candidates/{cid}/reminders", headers=env.auth("recruiter"))
    assert on_candidate.json_body["items"][0]["state"] == "notified"
    # The admin sees only their own reminders.
    assert env.client.http.get("/v1/reminders", headers=env.auth("admin")).json_body["items"] == []
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 1


# ------------------------------------------------------------------------------- job alerts


def _confirm_link(email: Any) -> str:
    text = email.get_body(("plain",)).get_content()
    match = re.search(r"https://careers\.example\.com(/public/confirm\?token=\S+)", text)
    assert match, text
    return match.group(1)


def test_job_alert_double_opt_in_and_one_alert_per_matching_job(env: Env, driver: QueueDriver) -> None:
    body = {"email": "ada@example.com", "first_name": "Ada", "last_name": "L", "tags": "rust, go"}
    response = json_post(env, "/public/job-alerts", body)
    assert response.status_code == 202 and response.json_body == {"status": "received"}
    settle(env, driver)
    (confirmation,) = emails_to("ada@example.com")
    assert confirmation["Subject"] == "Please confirm your job alerts"
    assert "List-Unsubscribe" not in confirmation
    # Before confirming: a matching job sends nothing.
    job = json_post(env, "/v1/jobs", {"title": "Rustacean", "tags": ["rust"]}, env.auth("recruiter"))
    assert job.status_code == 201
    settle(env, driver)
    assert len(emails_to("ada@example.com")) == 1
    link = _confirm_link(confirmation)
    page = env.client.http.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "job alerts are on" in page.body.decode()
    assert env.client.http.get(link).status_code == 200  # following it twice is fine
    tampered = env.client.http.get(link[:-3] + "xyz", headers={"Accept": "text/html"})
    assert tampered.status_code == 400 and "does not work" in tampered.body.decode()
    # After: a matching job sends one alert; a job reopened sends none again; others none.
    matching = json_post(
        env, "/v1/jobs", {"title": "Go dev", "tags": ["go"], "location": "Lisbon"}, env.auth("recruiter")
    )
    json_post(env, "/v1/jobs", {"title": "COBOL", "tags": ["cobol"]}, env.auth("recruiter"))
    settle(env, driver)
    alerts = emails_to("ada@example.com")[1:]
    assert [str(m["Subject"]) for m in alerts] == ["New job: Go dev (Lisbon)"]
    assert alerts[0]["List-Unsubscribe"].startswith("<https://careers.example.com/public/unsubscribe?token=")
    jid = matching.json_body["id"]
    for status in ("closed", "open"):
        patched = env.client.http.patch(
            f"/v1/jobs/{jid}",
            body=json.dumps({"status": status}),
            headers={**env.auth("recruiter"), "Content-Type": "application/json"},
        )
        assert patched.status_code == 200, patched.body
        settle(env, driver)
    assert len(emails_to("ada@example.com")) == 2
    profile = env.client.http.get("/v1/candidates?email=ada@example.com", headers=env.auth("recruiter"))
    candidate = env.client.http.get(
        f"/v1/candidates/{profile.json_body['items'][0]['id']}", headers=env.auth("recruiter")
    ).json_body
    assert candidate["consents"]["job_alerts"]["granted"] is True


def test_job_alert_same_answer_for_known_and_new_and_bad_input(env: Env, driver: QueueDriver) -> None:
    body = {"email": "c0-known@example.com", "first_name": "K", "last_name": "N", "location": "Berlin"}
    make_candidates(env, 1, tag="known")
    known = json_post(env, "/public/job-alerts", body)
    new = json_post(env, "/public/job-alerts", {**body, "email": "fresh@example.com"})
    assert (known.status_code, known.body) == (new.status_code, new.body)
    nothing = json_post(
        env, "/public/job-alerts", {"email": "x@example.com", "first_name": "X", "last_name": "Y"}
    )
    assert nothing.status_code == 422
    assert nothing.headers["Content-Type"] == "application/problem+json"
    bad_email = json_post(env, "/public/job-alerts", {**body, "email": "not-an-email"})
    assert bad_email.status_code == 422
    assert any(e["field"] == "email" for e in bad_email.json_body["errors"])


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "template_id": "missing", "audience": {}}, "template_id"),
        ({"name": "x", "template_id": "TEMPLATE", "audience": {"pool": "nopool"}}, "audience.pool"),
        ({"name": "x", "template_id": "TEMPLATE", "send_at": "2026-12-01T09:00:00"}, "send_at"),
        (
            {"name": "x", "template_id": "TEMPLATE", "audience": {"tags": ["ok"], "extra": 1}},
            "audience.extra",
        ),
        ({"name": "", "template_id": "TEMPLATE"}, "name"),
    ],
)
def test_campaign_bad_input_names_the_field(env: Env, body: dict[str, Any], field: str) -> None:
    if body.get("template_id") == "TEMPLATE":
        body = {**body, "template_id": template_id(env)}
    response = json_post(env, "/v1/campaigns", body, env.auth("recruiter"))
    assert response.status_code == 422, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json_body["errors"]], response.json_body
    listed = env.client.http.get("/v1/campaigns", headers=env.auth("recruiter")).json_body
    assert listed["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "s", "steps": []}, "steps"),
        ({"name": "s", "steps": [{"template_id": "missing", "delay_days": 1}]}, "steps.0.template_id"),
        ({"name": "s", "steps": [{"template_id": "TEMPLATE", "delay_days": -1}]}, "steps.0.delay_days"),
        (
            {"name": "s", "steps": [{"template_id": "TEMPLATE", "delay_days": 1}], "stop_on": ["never"]},
            "stop_on.0",
        ),
    ],
)
def test_sequence_bad_input_names_the_field(env: Env, body: dict[str, Any], field: str) -> None:
    body = json.loads(json.dumps(body).replace('"TEMPLATE"', json.dumps(template_id(env))))
    response = json_post(env, "/v1/sequences", body, env.auth("recruiter"))
    assert response.status_code == 422, response.body
    assert field in [e["field"] for e in response.json_body["errors"]], response.json_body


def test_enrolment_and_reminder_bad_input(env: Env) -> None:
    body = {"name": "s", "steps": [{"template_id": template_id(env), "delay_days": 1}]}
    sid = json_post(env, "/v1/sequences", body, env.auth("recruiter")).json_body["id"]
    for bad in ({}, {"candidate_ids": ["a"], "pool": "p"}, {"candidate_ids": []}):
        response = json_post(env, f"/v1/sequences/{sid}/enrollments", bad, env.auth("recruiter"))
        assert response.status_code == 422, (bad, response.body)
    missing_pool = json_post(env, f"/v1/sequences/{sid}/enrollments", {"pool": "nope"}, env.auth("recruiter"))
    assert missing_pool.status_code == 422
    assert (
        json_post(env, "/v1/sequences/nope/enrollments", {"pool": "x"}, env.auth("recruiter")).status_code
        == 404
    )
    reminder = {"candidate_id": "nobody", "due_at": "2030-01-01T00:00:00Z", "note": "x"}
    response = json_post(env, "/v1/reminders", reminder, env.auth("recruiter"))
    assert response.status_code == 404
    naive = json_post(
        env, "/v1/reminders", {**reminder, "due_at": "2030-01-01T00:00:00"}, env.auth("recruiter")
    )
    assert naive.status_code == 422
    assert [e["field"] for e in naive.json_body["errors"]] == ["due_at"]
    missing = env.client.http.post("/v1/campaigns/nope/launch", headers=env.auth("recruiter"))
    assert missing.status_code == 404


def test_a_sequence_says_why_it_stopped_for_someone_without_consent(env: Env, driver: QueueDriver) -> None:
    steps = [
        {"template_id": template_id(env, "One {{ first_name }}"), "delay_days": 0},
        {"template_id": template_id(env, "Two {{ first_name }}"), "delay_days": 1},
    ]
    sid = json_post(env, "/v1/sequences", {"name": "Why", "steps": steps}, env.auth("recruiter")).json_body[
        "id"
    ]
    (cid,) = make_candidates(env, 1, tag="why", consent=False)  # never agreed to marketing email
    from crm.sequences.service import SequenceService

    # The API skips them (no_consent); someone enrolled another way (the plain repository write a
    # bulk import might use) is stopped at their first step, with the reason that applies.
    enrolled = json_post(
        env, f"/v1/sequences/{sid}/enrollments", {"candidate_ids": [cid]}, env.auth("recruiter")
    )
    assert enrolled.status_code == 202, enrolled.body
    assert enrolled.json_body["skipped"] == [{"candidate_id": cid, "reason": "no_consent"}]
    service = SequenceService()
    now = iso(clock.now())
    assert service.enroll(service.get(sid), [cid], first_due_at=now, now=now).enrolled == 1
    tick()
    settle(env, driver)
    assert sent_messages() == []

    (enrolment,) = SequenceService().enrollments(sid, [cid]).values()
    assert (enrolment.state, enrolment.stopped_reason) == ("stopped", "no_consent")
    from chalicelib.ui.sequences import STOPPED_BECAUSE

    assert STOPPED_BECAUSE["no_consent"] == "skipped: they have not agreed to marketing email"
