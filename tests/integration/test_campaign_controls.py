"""Campaign controls: cancelling a scheduled (or draft) campaign so its schedule never sends, and a
test email to yourself, in the API and on the campaign page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from crm.platform import clock
from tests.integration.conftest import Env, json_post
from tests.integration.test_authorization_matrix import assert_problem
from tests.integration.test_campaigns import create_campaign, get_campaign, make_candidates
from tests.integration.test_ui import csrf_of, get, header, post_form, session
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages

__all__ = ["session"]  # the fixture, imported for its name

HOUR = 3600


def post(env: Env, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    raw = b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    sent = {**({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})}
    return env.client.http.post(path, body=raw, headers=sent)


def schedules(env: Env) -> list[str]:
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    return [s["Name"] for s in scheduler.list_schedules(GroupName=env.stack.schedule_group)["Schedules"]]


def scheduled_campaign(env: Env, tag: str) -> tuple[dict[str, Any], str]:
    """A campaign launched for two hours from now, and its schedule's input (what would fire)."""
    at = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign = create_campaign(env, {"tags": [tag]}, send_at=at)
    launched = post(env, f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert launched.status_code == 202 and launched.json_body["status"] == "scheduled"
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    schedule = scheduler.get_schedule(Name=f"campaign-{campaign['id']}", GroupName=env.stack.schedule_group)
    return campaign, schedule["Target"]["Input"]


def fire(env: Env, driver: QueueDriver, body: str) -> None:
    """What the schedule does at its time: its input on the dispatch queue, then the workers run."""
    clock.advance(2 * HOUR + 60)
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=env.stack.queues["dispatch"], MessageBody=body
    )
    engagement.settle(env.pump, driver)


# ------------------------------------------------------------------------------- cancel


def test_a_cancelled_scheduled_campaign_never_sends(env: Env, driver: QueueDriver) -> None:
    make_candidates(env, 3, tag="elixir")
    campaign, body = scheduled_campaign(env, "elixir")
    assert schedules(env) == [f"campaign-{campaign['id']}"]
    cancelled = post(env, f"/v1/campaigns/{campaign['id']}/cancel", headers=env.auth("recruiter"))
    assert cancelled.status_code == 200, cancelled.body
    assert cancelled.json_body["status"] == "cancelled" and cancelled.json_body["cancelled_at"]
    assert schedules(env) == []  # the schedule is deleted
    # Should the schedule have fired anyway, the dispatcher drops it.
    fire(env, driver, body)
    assert sent_messages() == []
    after = get_campaign(env, campaign["id"])
    assert after["status"] == "cancelled" and after["stats"]["recipients"] == 0
    # Once cancelled, it cannot be cancelled or launched again.
    again = post(env, f"/v1/campaigns/{campaign['id']}/cancel", headers=env.auth("recruiter"))
    assert "cancelled" in assert_problem(again, 409)["detail"]
    relaunch = post(env, f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert relaunch.status_code == 202 and relaunch.json_body["status"] == "cancelled"
    engagement.settle(env.pump, driver)
    assert sent_messages() == []


def test_a_draft_can_be_cancelled_a_sending_or_sent_one_cannot(env: Env, driver: QueueDriver) -> None:
    make_candidates(env, 2, tag="ocaml")
    draft = create_campaign(env, {"tags": ["ocaml"]})
    cancelled = post(env, f"/v1/campaigns/{draft['id']}/cancel", headers=env.auth("recruiter"))
    assert cancelled.status_code == 200 and cancelled.json_body["status"] == "cancelled"
    sent = create_campaign(env, {"tags": ["ocaml"]})
    assert post(env, f"/v1/campaigns/{sent['id']}/launch", headers=env.auth("recruiter")).status_code == 202
    refused = post(env, f"/v1/campaigns/{sent['id']}/cancel", headers=env.auth("recruiter"))
    assert "sending" in assert_problem(refused, 409)["detail"]
    engagement.settle(env.pump, driver)
    assert get_campaign(env, sent["id"])["status"] == "sent"
    assert (
        "sent"
        in assert_problem(
            post(env, f"/v1/campaigns/{sent['id']}/cancel", headers=env.auth("recruiter")), 409
        )["detail"]
    )
    assert len(sent_messages()) == 2


def test_cancel_of_nothing(env: Env) -> None:
    assert_problem(post(env, "/v1/campaigns/nosuchcampaign/cancel", headers=env.auth("recruiter")), 404)
    assert_problem(post(env, "/v1/campaigns/nosuchcampaign/cancel"), 401)


# ------------------------------------------------------------------------------- test email


def test_a_test_email_goes_to_you_alone_and_counts_nowhere(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 2, tag="rust")
    campaign = create_campaign(env, {"tags": ["rust"]})
    response = post(env, f"/v1/campaigns/{campaign['id']}/test", headers=env.auth("recruiter"))
    assert response.status_code == 202, response.body
    assert response.json_body == {"to": "recruiter@example.com", "subject": "[Test] News for Ada"}
    (message,) = sent_messages()
    assert str(message["To"]) == "recruiter@example.com"
    assert str(message["Subject"]) == "[Test] News for Ada"
    assert str(message["X-CRM-Mailing"]) == "test"
    # With a real candidate's values, and an empty JSON body too.
    personal = post(
        env, f"/v1/campaigns/{campaign['id']}/test", {"candidate_id": ids[1]}, env.auth("recruiter")
    )
    assert personal.status_code == 202 and personal.json_body["subject"] == "[Test] News for Person1"
    assert post(env, f"/v1/campaigns/{campaign['id']}/test", {}, env.auth("admin")).json_body["to"] == (
        "admin@example.com"
    )
    engagement.settle(env.pump, driver)
    after = get_campaign(env, campaign["id"])
    assert after["status"] == "draft" and after["stats"] == get_campaign(env, campaign["id"])["stats"]
    assert all(v == 0 for v in after["stats"].values())
    # Nobody was marked as mailed: the real launch mails both candidates.
    assert (
        post(env, f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter")).status_code == 202
    )
    engagement.settle(env.pump, driver)
    launched = get_campaign(env, campaign["id"])
    assert launched["status"] == "sent" and launched["stats"]["sent"] == 2
    assert len(sent_messages()) == 5


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"candidate_id": "nosuchcandidate"}, 422, "candidate_id"),
        ({"candidate_id": "not an id!"}, 422, "candidate_id"),
        ({"candidate_id": None, "extra": 1}, 422, "extra"),
        ({"candidate_id": 7}, 422, "candidate_id"),
        ("[1, 2]", 400, None),  # not an object: malformed, as everywhere
        ("{oops", 400, None),
    ],
)
def test_bad_test_requests(env: Env, body: Any, status: int, field: str | None) -> None:
    campaign = create_campaign(env, {"tags": ["go"]})
    response = post(env, f"/v1/campaigns/{campaign['id']}/test", body, env.auth("recruiter"))
    problem = assert_problem(response, status)
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]
    assert sent_messages() == []


def test_a_test_needs_a_person(env: Env) -> None:
    campaign = create_campaign(env, {"tags": ["go"]})
    assert_problem(post(env, "/v1/campaigns/nosuchcampaign/test", headers=env.auth("recruiter")), 404)
    created = json_post(env, "/v1/api-keys", {"name": "sync", "scope": "read-write"}, env.auth("admin"))
    key = {"X-Api-Key": created.json_body["key"]}
    refused = assert_problem(post(env, f"/v1/campaigns/{campaign['id']}/test", headers=key), 409)
    assert "API key" in refused["detail"]
    assert sent_messages() == []


# ------------------------------------------------------------------------------- the campaign page


def test_the_page_cancels_a_scheduled_send(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 1, tag="zig")
    campaign, body = scheduled_campaign(env, "zig")
    path = f"/ui/campaigns/{campaign['id']}"
    page = get(env, path, session).body.decode()
    assert f'action="{path}/cancel"' in page and "Cancel scheduled send</button>" in page
    response = post_form(env, f"{path}/cancel", {"csrf": csrf_of(page.encode())}, session)
    assert response.status_code == 303 and header(response, "location") == f"{path}?done=cancelled"
    shown = get(env, f"{path}?done=cancelled", session).body.decode()
    assert "The campaign is cancelled" in shown and 'data-status="cancelled"' in shown
    assert "Cancel scheduled send</button>" not in shown
    again = post_form(env, f"{path}/cancel", {"csrf": csrf_of(page.encode())}, session)
    assert again.status_code == 409 and "only a draft or a scheduled campaign" in again.body.decode()
    fire(env, driver, body)
    assert sent_messages() == []


def test_the_page_sends_me_a_test(env: Env, session: str) -> None:
    campaign = create_campaign(env, {"tags": ["go"]})
    path = f"/ui/campaigns/{campaign['id']}"
    page = get(env, path, session).body.decode()
    assert f'action="{path}/test"' in page and "Send me a test email</button>" in page
    response = post_form(env, f"{path}/test", {"csrf": csrf_of(page.encode())}, session)
    assert response.status_code == 303 and header(response, "location") == f"{path}?done=test"
    assert "Test sent to recruiter@example.com." in get(env, f"{path}?done=test", session).body.decode()
    (message,) = sent_messages()
    assert str(message["To"]) == "recruiter@example.com" and str(message["Subject"]).startswith("[Test] ")
    assert post_form(env, f"{path}/test", {"csrf": "forged"}, session).status_code == 403
    assert get_campaign(env, campaign["id"])["status"] == "draft"


# ------------------------------------------------------------------------------- launch confirmation


def test_a_typed_time_with_now_asks_first(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 3, tag="nim")
    campaign = create_campaign(env, {"tags": ["nim"]})
    path = f"/ui/campaigns/{campaign['id']}"
    csrf = csrf_of(get(env, path, session).body)
    at = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    asked = post_form(env, f"{path}/launch", {"csrf": csrf, "when": "now", "send_at": at}, session)
    assert asked.status_code == 200
    body = asked.body.decode()
    assert f"This sends now to 3 people, not at {at.replace('T', ' ')} (UTC). Send now?" in body
    assert '<input type="hidden" name="confirm" value="yes">' in body
    assert f'<input type="hidden" name="send_at" value="{at}">' in body
    assert get_campaign(env, campaign["id"])["status"] == "draft"  # nothing sent yet
    engagement.settle(env.pump, driver)
    assert sent_messages() == []
    # "Schedule instead" schedules it for the typed time.
    later = post_form(env, f"{path}/launch", {"csrf": csrf, "when": "later", "send_at": at}, session)
    assert later.status_code == 303 and header(later, "location") == f"{path}?done=scheduled"
    assert get_campaign(env, campaign["id"])["status"] == "scheduled"


def test_confirming_sends_now(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 2, tag="crystal")
    campaign = create_campaign(env, {"tags": ["crystal"]})
    path = f"/ui/campaigns/{campaign['id']}"
    csrf = csrf_of(get(env, path, session).body)
    fields = {"csrf": csrf, "when": "now", "send_at": "2031-01-01T09:00", "confirm": "yes"}
    response = post_form(env, f"{path}/launch", fields, session)
    assert response.status_code == 303 and header(response, "location") == f"{path}?done=launched"
    engagement.settle(env.pump, driver)
    assert get_campaign(env, campaign["id"])["status"] == "sent" and len(sent_messages()) == 2
    # Without a typed time, "Now" sends at once as before (no question).
    other = create_campaign(env, {"tags": ["crystal"]})
    plain = post_form(env, f"/ui/campaigns/{other['id']}/launch", {"csrf": csrf, "when": "now"}, session)
    assert plain.status_code == 303


def test_the_question_escapes_what_was_typed(env: Env, session: str) -> None:
    campaign = create_campaign(env, {"tags": ["go"]})
    path = f"/ui/campaigns/{campaign['id']}"
    csrf = csrf_of(get(env, path, session).body)
    hostile = '"><script>alert(1)</script>'
    asked = post_form(env, f"{path}/launch", {"csrf": csrf, "when": "now", "send_at": hostile}, session)
    assert asked.status_code == 200
    assert "<script>alert(1)" not in asked.body.decode()
    assert get_campaign(env, campaign["id"])["status"] == "draft"
