# ruff: noqa: F811 - the session fixture is imported, then named by the tests that use it
"""Afterwards: an event's registered, attended and no-show people are audiences of campaigns and
sequences; the figures are on the event; attendance is on each person's timeline and in the
portal's data download."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from crm.mailing.links import signed_portal_url
from crm.platform import clock
from tests.integration.conftest import Env, json_post
from tests.integration.test_events_api import call, problem
from tests.integration.test_events_registration import candidate_id, person, published, register
from tests.integration.test_ui import get, session  # noqa: F401 - the fixture
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages

TEMPLATE = {"name": "Thanks", "subject": "Thanks, {{ first_name }}", "html": "<p>Hi</p>", "text": "Hi"}


def over(env: Env, capacity: int = 5) -> dict[str, Any]:
    """An event with four places taken (two came) and one person waiting, then over."""
    event = published(env, capacity=4)
    for n in range(5):
        register(env, event["id"], person(n, marketing_consent="true"))
    for n in (0, 1):
        body = {"candidate_id": candidate_id(env, f"guest{n}@example.com")}
        assert (
            json_post(env, f"/v1/events/{event['id']}/check-ins", body, env.auth("recruiter")).status_code
            == 200
        )
    return event


def end(event: dict[str, Any]) -> None:
    ends = datetime.fromisoformat(event["ends_at"].replace("Z", "+00:00")) + timedelta(minutes=5)
    clock.advance((ends - clock.now()).total_seconds())


def campaign(env: Env, audience: dict[str, Any]) -> Any:
    template = json_post(env, "/v1/templates", TEMPLATE, env.auth("recruiter")).json_body
    body = {"name": "After the fair", "template_id": template["id"], "audience": audience}
    return json_post(env, "/v1/campaigns", body, env.auth("recruiter"))


def audience_size(env: Env, audience: dict[str, Any]) -> int:
    created = campaign(env, audience)
    assert created.status_code == 201, created.body
    return int(call(env, "GET", f"/v1/campaigns/{created.json_body['id']}/audience").json_body["candidates"])


def test_figures_and_audiences_before_and_after_the_end(env: Env, local_clock: None) -> None:
    event = over(env)
    before = call(env, "GET", f"/v1/events/{event['id']}").json_body["counts"]
    assert before == {"registered": 4, "waitlisted": 1, "attended": 2, "cancelled": 0, "no_show": 0}
    assert audience_size(env, {"event": event["id"]}) == 4
    assert audience_size(env, {"event": event["id"], "attendance": "attended"}) == 2
    assert audience_size(env, {"event": event["id"], "attendance": "no_show"}) == 0
    end(event)
    after = call(env, "GET", f"/v1/events/{event['id']}").json_body["counts"]
    assert after["no_show"] == 2
    assert audience_size(env, {"event": event["id"], "attendance": "no_show"}) == 2
    assert audience_size(env, {"event": event["id"], "attendance": "registered"}) == 4


def test_a_campaign_to_the_no_shows_reaches_them_only(env: Env, driver: QueueDriver) -> None:
    event = over(env)
    end(event)
    created = campaign(env, {"event": event["id"], "attendance": "no_show"}).json_body
    launched = call(env, "POST", f"/v1/campaigns/{created['id']}/launch")
    assert launched.status_code == 202, launched.body
    engagement.settle(env.pump, driver)
    got = sorted(str(m["To"]) for m in sent_messages() if str(m["Subject"]).startswith("Thanks"))
    assert got == ["Guest2 Visitor <guest2@example.com>", "Guest3 Visitor <guest3@example.com>"]
    stats = call(env, "GET", f"/v1/campaigns/{created['id']}").json_body
    assert stats["stats"]["recipients"] == 2 and stats["status"] == "sent"


def test_a_sequence_enrols_the_people_who_came(env: Env) -> None:
    event = over(env)
    template = json_post(env, "/v1/templates", TEMPLATE, env.auth("recruiter")).json_body
    sequence = json_post(
        env,
        "/v1/sequences",
        {"name": "Follow up", "steps": [{"template_id": template["id"], "delay_days": 1}]},
        env.auth("recruiter"),
    ).json_body
    body = {"event": event["id"], "attendance": "attended"}
    report = json_post(env, f"/v1/sequences/{sequence['id']}/enrollments", body, env.auth("recruiter"))
    assert report.status_code == 202, report.body
    expected = {candidate_id(env, "guest0@example.com"), candidate_id(env, "guest1@example.com")}
    assert set(report.json_body["enrolled_ids"]) == expected
    bad = json_post(
        env, f"/v1/sequences/{sequence['id']}/enrollments", {"event": "nope"}, env.auth("recruiter")
    )
    assert problem(bad, 422)["errors"][0]["field"] == "event"
    both = {"event": event["id"], "pool": "p1"}
    problem(json_post(env, f"/v1/sequences/{sequence['id']}/enrollments", both, env.auth("recruiter")), 422)


def test_bad_event_audiences_are_422_naming_the_field(env: Env) -> None:
    event = published(env)
    cases = [
        ({"attendance": "attended"}, "audience.attendance"),
        ({"event": "nope"}, "audience.event"),
        ({"event": event["id"], "tags": ["python"]}, "audience.event"),
        ({"event": event["id"], "attendance": "maybe"}, "audience.attendance"),
    ]
    for audience, field in cases:
        body = problem(campaign(env, audience), 422)
        assert field in {e["field"] for e in body["errors"]}, (audience, body)


def test_attendance_is_on_the_timeline_and_in_the_data_download(
    env: Env, session: str, local_clock: None
) -> None:
    event = over(env)
    came, stayed_away = candidate_id(env, "guest0@example.com"), candidate_id(env, "guest3@example.com")
    profile = get(env, f"/ui/candidates/{came}", session).body.decode()
    assert "Registered for the event “Autumn career fair”" in profile
    assert "Attended the event “Autumn career fair” (checked in at " in profile
    end(event)
    token = signed_portal_url(stayed_away).split("token=", 1)[1]
    exported = json.loads(env.client.http.get(f"/portal/export?token={token}").body)
    [registration] = exported["events"]
    assert registration["event_name"] == "Autumn career fair" and registration["state"] == "registered"
    assert registration["attendance"] == "no_show" and registration["checked_in_at"] is None
    token = signed_portal_url(came).split("token=", 1)[1]
    [attended] = json.loads(env.client.http.get(f"/portal/export?token={token}").body)["events"]
    assert attended["attendance"] == "attended" and attended["checked_in_at"]
    assert any(
        a["kind"] == "event_attended"
        for a in json.loads(env.client.http.get(f"/portal/export?token={token}").body)["timeline"]
    )


def test_the_event_page_shows_the_figures_and_who_came(env: Env, session: str, local_clock: None) -> None:
    event = over(env)
    end(event)
    page = get(env, f"/ui/events/{event['id']}", session).body.decode()
    for label, value in (
        ("Registered", 4),
        ("Waitlisted", 1),
        ("Attended", 2),
        ("No-show", 2),
        ("Cancelled", 0),
    ):
        assert f'<span class="tile-value">{value}</span> <span class="tile-label">{label}</span>' in page
    came = page[page.index('id="came"') : page.index('id="registered"')]
    assert "Guest0 Visitor" in came and "Guest1 Visitor" in came and "Guest2" not in came
    assert "no-show" in page


def test_the_campaign_form_offers_an_events_people(env: Env, session: str) -> None:
    from tests.integration.test_ui import csrf_of, post_form

    event = over(env)
    template = json_post(env, "/v1/templates", TEMPLATE, env.auth("recruiter")).json_body
    form = get(env, "/ui/campaigns/new", session)
    assert f'<option value="{event["id"]}">Autumn career fair' in form.body.decode()
    fields = {
        "csrf": csrf_of(form.body),
        "name": "Came to the fair",
        "template_id": template["id"],
        "event": event["id"],
        "attendance": "attended",
    }
    created = post_form(env, "/ui/campaigns", fields, session)
    assert created.status_code == 303, created.body
    page = get(env, created.headers["Location"], session).body.decode()
    assert "Autumn career fair</a>: the people who came" in page
    assert "<strong>2</strong> candidates match this audience" in page
    mixed = post_form(env, "/ui/campaigns", {**fields, "tags": "python"}, session)
    assert mixed.status_code == 422 and 'id="e-event"' in mixed.body.decode()
