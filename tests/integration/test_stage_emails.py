"""Status updates: a candidate entering a stage whose job mails on it gets that stage's email
once (a replayed stream record sends nothing more); a suppressed address gets none; a rejection's
email waits the admin's delay and is not sent when the application moved on before then."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3

from crm.mailing.messages import MailJob
from crm.mailing.suppression import SuppressionRepository
from crm.platform import clock
from tests.integration.conftest import Env, json_post
from tests.integration.test_engagement import settle
from tests.support.engagement import QueueDriver, sent_messages

FORM = {"Content-Type": "application/json"}


def template(env: Env, subject: str) -> str:
    body = {"name": subject, "subject": subject, "html": "<p>{{ job.title }}</p>", "text": "{{ job.title }}"}
    response = json_post(env, "/v1/templates", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def staged_job(env: Env) -> dict[str, Any]:
    received, invite, rejection = template(env, "Received"), template(env, "Invite"), template(env, "Sorry")
    stages = [
        {"key": "applied", "name": "Applied", "template_id": received},
        {"key": "screen", "name": "Screen"},
        {"key": "interview", "name": "Interview", "template_id": invite},
    ]
    body = {"title": "Data engineer", "stages": stages, "rejection_template_id": rejection}
    response = json_post(env, "/v1/jobs", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def apply(env: Env, job_id: str, email: str) -> dict[str, Any]:
    body = {"email": email, "first_name": "Sam", "last_name": "Stage"}
    assert json_post(env, f"/public/jobs/{job_id}/applications", body).status_code == 202
    env.pump.drain()
    items = env.client.http.get(f"/v1/jobs/{job_id}/applications", headers=env.auth("recruiter")).json_body
    return dict(next(a for a in items["items"] if a["candidate_id"]))


def move(env: Env, application: dict[str, Any], stage: str, **extra: Any) -> dict[str, Any]:
    body = {"stage": stage, "version": application["version"], **extra}
    response = env.client.http.patch(
        f"/v1/applications/{application['id']}",
        body=json.dumps(body),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def subjects_to(email: str) -> list[str]:
    return [str(m["Subject"]) for m in sent_messages() if email in str(m["To"])]


def test_entering_a_stage_sends_its_email_once_and_a_suppressed_address_gets_none(
    env: Env, driver: QueueDriver
) -> None:
    job = staged_job(env)
    application = apply(env, job["id"], "sam@example.com")
    settle(env, driver)
    assert subjects_to("sam@example.com") == ["Received"]
    (received,) = [m for m in sent_messages() if "sam@example.com" in str(m["To"])]
    assert "Data engineer" in received.get_body(("plain",)).get_content()
    assert received["List-Unsubscribe"] is None  # transactional: no marketing consent, no unsubscribe

    application = move(env, application, "screen")  # no template: nothing
    application = move(env, application, "interview")
    settle(env, driver)
    assert subjects_to("sam@example.com") == ["Received", "Invite"]
    # The stream delivers at least once: the same records again send nothing more.
    entered = application["stage_entered_at"] or application["applied_at"]
    again = MailJob(
        kind="stage_update", ref=f"{application['id']}@{entered}", recipients=[application["candidate_id"]]
    )
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=env.stack.queues["mail"], MessageBody=again.model_dump_json(exclude_none=True)
    )
    settle(env, driver)
    assert subjects_to("sam@example.com") == ["Received", "Invite"]

    SuppressionRepository().suppress("bounced@example.com", "bounce", source="test")
    apply(env, job["id"], "bounced@example.com")
    settle(env, driver)
    assert subjects_to("bounced@example.com") == []


def test_unknown_template_on_a_stage_is_a_422_naming_it(env: Env) -> None:
    stages = [{"key": "applied", "name": "Applied", "template_id": "f" * 32}]
    response = json_post(env, "/v1/jobs", {"title": "X", "stages": stages}, env.auth("recruiter"))
    assert response.status_code == 422, response.body
    assert response.json_body["errors"][0]["field"] == "stages.0.template_id"
    bad = json_post(env, "/v1/jobs", {"title": "X", "rejection_template_id": "e" * 32}, env.auth("recruiter"))
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"] == "rejection_template_id"
    delay = env.client.http.put(
        "/v1/rejection-reasons",
        body=json.dumps({"reasons": ["Other"], "email_delay_hours": -1}),
        headers={**FORM, **env.auth("admin")},
    )
    assert delay.status_code == 422 and delay.json_body["errors"][0]["field"] == "email_delay_hours"


def fire_due_schedules(env: Env, driver: QueueDriver) -> int:
    """What Scheduler does when a schedule's time has come: its input on its queue."""
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    fired = 0
    for listed in scheduler.list_schedules(GroupName=env.stack.schedule_group)["Schedules"]:
        if not listed["Name"].startswith("stage-"):
            continue
        schedule = scheduler.get_schedule(Name=listed["Name"], GroupName=env.stack.schedule_group)
        at = schedule["ScheduleExpression"][3:-1]
        if at <= clock.now().strftime("%Y-%m-%dT%H:%M:%S"):
            sqs.send_message(QueueUrl=env.stack.queues["dispatch"], MessageBody=schedule["Target"]["Input"])
            scheduler.delete_schedule(Name=listed["Name"], GroupName=env.stack.schedule_group)
            fired += 1
    settle(env, driver)
    return fired


def test_a_rejection_waits_its_delay_and_a_move_before_then_cancels_it(env: Env, driver: QueueDriver) -> None:
    reasons = env.client.http.put(
        "/v1/rejection-reasons",
        body=json.dumps({"reasons": ["Position filled", "Other"], "email_delay_hours": 24}),
        headers={**FORM, **env.auth("admin")},
    )
    assert reasons.status_code == 200 and reasons.json_body["email_delay_hours"] == 24
    job = staged_job(env)
    kept = apply(env, job["id"], "kept@example.com")
    undone = apply(env, job["id"], "undone@example.com")
    settle(env, driver)
    kept = move(env, kept, "rejected", reason="Position filled")
    undone = move(env, undone, "rejected", reason="Other")
    settle(env, driver)
    assert fire_due_schedules(env, driver) == 0  # not before the delay
    assert "Sorry" not in subjects_to("kept@example.com") + subjects_to("undone@example.com")

    move(env, undone, "interview")  # the rejection is undone within the delay
    settle(env, driver)
    clock.advance(int(timedelta(hours=24, minutes=1).total_seconds()))
    fire_due_schedules(env, driver)
    assert subjects_to("kept@example.com") == ["Received", "Sorry"]
    assert subjects_to("undone@example.com") == ["Received", "Invite"]
