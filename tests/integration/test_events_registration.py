"""Registering on the career site: the same intake as every public form, a place or the waitlist,
promotion in line order when someone cancels, and what a closed event answers (a page for a
browser's form, 409 problem+json for an API client)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from crm.events.tickets import manage_url
from crm.platform import clock
from tests.integration.conftest import Env, json_post
from tests.integration.test_events_api import call, create, problem

HTML_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html,application/xhtml+xml"}


def published(env: Env, **changes: Any) -> dict[str, Any]:
    event = create(env, **changes)
    response = call(env, "POST", f"/v1/events/{event['id']}/publish")
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def person(n: int, **fields: Any) -> dict[str, Any]:
    return {"email": f"guest{n}@example.com", "first_name": f"Guest{n}", "last_name": "Visitor", **fields}


def register(env: Env, event_id: str, body: dict[str, Any]) -> Any:
    return json_post(env, f"/public/events/{event_id}/registrations", body)


def registrations(env: Env, event_id: str, state: str | None = None) -> list[dict[str, Any]]:
    query = f"?state={state}" if state else ""
    response = call(env, "GET", f"/v1/events/{event_id}/registrations{query}")
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def candidate_id(env: Env, email: str) -> str:
    from crm.candidates.service import CandidateService

    found = CandidateService().find_id_by_email(email)
    assert found
    return found


def manage_path(event: dict[str, Any], email: str, env: Env) -> str:
    url = urlsplit(manage_url(event["id"], candidate_id(env, email), ends_at=event["ends_at"]))
    return f"{url.path}?{url.query}"


def test_places_then_the_waitlist_in_order(env: Env) -> None:
    event = published(env, capacity=2)
    for n in range(4):
        response = register(env, event["id"], person(n))
        assert response.status_code == 202 and response.json_body == {"status": "received"}
    places = registrations(env, event["id"], "registered")
    waiting = registrations(env, event["id"], "waitlisted")
    assert [r["email"] for r in places] == ["guest0@example.com", "guest1@example.com"]
    assert [r["email"] for r in waiting] == ["guest2@example.com", "guest3@example.com"]
    counts = call(env, "GET", f"/v1/events/{event['id']}").json_body["counts"]
    assert (counts["registered"], counts["waitlisted"]) == (2, 2)


def test_a_known_email_is_the_same_person_and_the_same_registration(env: Env) -> None:
    event = published(env)
    assert register(env, event["id"], person(1, phone="+49 30 1234")).status_code == 202
    again = register(env, event["id"], {**person(1), "email": "  GUEST1@Example.com "})
    assert again.status_code == 202 and again.json_body == {"status": "received"}
    assert len(registrations(env, event["id"])) == 1
    cid = candidate_id(env, "guest1@example.com")
    profile = call(env, "GET", f"/v1/candidates/{cid}").json_body
    assert profile["phone"] == "+49 30 1234" and profile["source"] == "event"
    kinds = [a["kind"] for a in call(env, "GET", f"/v1/candidates/{cid}/timeline").json_body["items"]]
    assert kinds.count("event_registered") == 1 and "created" in kinds


def test_the_honeypot_gets_the_same_answer_and_stores_nothing(env: Env) -> None:
    event = published(env)
    response = register(env, event["id"], person(1, website="http://spam.example.com"))
    assert response.status_code == 202 and response.json_body == {"status": "received"}
    assert registrations(env, event["id"]) == []
    from crm.candidates.service import CandidateService

    assert CandidateService().find_id_by_email("guest1@example.com") is None


def test_the_consent_boxes_are_recorded(env: Env) -> None:
    event = published(env)
    register(env, event["id"], person(1, events_consent="on", marketing_consent="true"))
    register(env, event["id"], person(2))
    first = call(env, "GET", f"/v1/candidates/{candidate_id(env, 'guest1@example.com')}").json_body
    second = call(env, "GET", f"/v1/candidates/{candidate_id(env, 'guest2@example.com')}").json_body
    assert (
        first["consents"]["events"]["granted"] is True and first["consents"]["marketing"]["granted"] is True
    )
    assert "events" not in second["consents"] and "marketing" not in second["consents"]


def test_cancelling_gives_the_place_to_the_first_in_line(env: Env) -> None:
    event = published(env, capacity=1)
    for n in range(3):
        register(env, event["id"], person(n))
    page = env.client.http.get(manage_path(event, "guest0@example.com", env), headers={"Accept": "text/html"})
    assert (
        page.status_code == 200 and "You have a place" in page.body.decode() and "<svg" in page.body.decode()
    )
    waiting = env.client.http.get(manage_path(event, "guest2@example.com", env)).body.decode()
    assert "number 2 in line" in waiting
    token = manage_path(event, "guest0@example.com", env).split("token=", 1)[1]
    from urllib.parse import unquote

    response = env.client.http.post(
        f"/careers/events/{event['id']}/registration",
        body=urlencode({"token": unquote(token), "action": "cancel"}).encode(),
        headers=HTML_FORM,
    )
    assert response.status_code == 200, response.body
    assert "Your registration is cancelled" in response.body.decode()
    assert [r["email"] for r in registrations(env, event["id"], "registered")] == ["guest1@example.com"]
    assert [r["email"] for r in registrations(env, event["id"], "waitlisted")] == ["guest2@example.com"]
    counts = call(env, "GET", f"/v1/events/{event['id']}").json_body["counts"]
    assert counts == {"registered": 1, "waitlisted": 1, "attended": 0, "cancelled": 1, "no_show": 0}
    promoted = candidate_id(env, "guest1@example.com")
    kinds = [a["kind"] for a in call(env, "GET", f"/v1/candidates/{promoted}/timeline").json_body["items"]]
    assert "event_promoted" in kinds and "event_waitlisted" in kinds
    now_promoted = env.client.http.get(manage_path(event, "guest1@example.com", env)).body.decode()
    assert "You have a place" in now_promoted


def test_more_places_go_to_the_waitlist_and_fewer_than_taken_are_refused(env: Env) -> None:
    event = published(env, capacity=1)
    for n in range(3):
        register(env, event["id"], person(n))
    version = call(env, "GET", f"/v1/events/{event['id']}").json_body["version"]
    grown = call(env, "PATCH", f"/v1/events/{event['id']}", {"version": version, "capacity": 2})
    assert grown.status_code == 200 and grown.json_body["counts"]["registered"] == 2
    assert [r["email"] for r in registrations(env, event["id"], "waitlisted")] == ["guest2@example.com"]
    body = {"version": grown.json_body["version"], "capacity": 1}
    assert {
        e["field"] for e in problem(call(env, "PATCH", f"/v1/events/{event['id']}", body), 422)["errors"]
    } == {"capacity"}


def test_a_draft_is_not_found_and_a_cancelled_event_is_a_409(env: Env) -> None:
    draft = create(env)
    problem(register(env, draft["id"], person(1)), 404)
    assert env.client.http.get(f"/careers/events/{draft['id']}").status_code == 404
    problem(register(env, "nope", person(1)), 404)
    event = published(env)
    call(env, "POST", f"/v1/events/{event['id']}/cancel")
    body = problem(register(env, event["id"], person(1)), 409)
    assert "cancelled" in body["detail"]
    assert registrations(env, event["id"]) == []
    page = env.client.http.post(
        f"/public/events/{event['id']}/registrations", body=urlencode(person(2)).encode(), headers=HTML_FORM
    )
    assert page.status_code == 409 and "This event was cancelled." in page.body.decode()
    assert "text/html" in page.headers["Content-Type"]


def test_after_the_deadline_registration_is_closed(env: Env, local_clock: None) -> None:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    deadline = start - timedelta(days=1)
    event = published(
        env,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        registration_deadline=deadline.isoformat(),
    )
    assert register(env, event["id"], person(1)).status_code == 202
    clock.advance((deadline - datetime.now(UTC)).total_seconds() + 60)
    body = problem(register(env, event["id"], person(2)), 409)
    assert "deadline" in body["detail"]
    page = env.client.http.get(f"/careers/events/{event['id']}").body.decode()
    assert (
        "Registration for this event closed at its deadline." in page
        and '<form class="event-registration"' not in page
    )


def test_a_browser_gets_pages(env: Env) -> None:
    event = published(env)
    sent = env.client.http.post(
        f"/public/events/{event['id']}/registrations", body=urlencode(person(1)).encode(), headers=HTML_FORM
    )
    assert sent.status_code == 303 and sent.headers["Location"] == f"/careers/events/{event['id']}/thanks"
    thanks = env.client.http.get(sent.headers["Location"])
    assert thanks.status_code == 200 and "Check your inbox" in thanks.body.decode()
    bad = env.client.http.post(
        f"/public/events/{event['id']}/registrations",
        body=urlencode({**person(2), "email": "not-an-email", "first_name": "<b>Eve</b>"}).encode(),
        headers=HTML_FORM,
    )
    assert bad.status_code == 422
    html = bad.body.decode()
    assert 'aria-invalid="true"' in html and "&lt;b&gt;Eve&lt;/b&gt;" in html and "<b>Eve</b>" not in html
    assert len(registrations(env, event["id"])) == 1


def test_an_api_client_gets_422_naming_the_fields(env: Env) -> None:
    event = published(env)
    body = problem(register(env, event["id"], {"email": "x@example.com"}), 422)
    assert {e["field"] for e in body["errors"]} == {"first_name", "last_name"}


def test_the_career_site_lists_published_events_soonest_first(env: Env) -> None:
    later = published(env, name="Later meetup", kind="meetup")
    soon_start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    soon = published(
        env,
        name="Soon webinar",
        starts_at=soon_start.isoformat(),
        ends_at=(soon_start + timedelta(hours=1)).isoformat(),
    )
    create(env, name="Hidden draft")
    page = env.client.http.get("/careers/events").body.decode()
    assert page.index("Soon webinar") < page.index("Later meetup") and "Hidden draft" not in page
    detail = env.client.http.get(f"/careers/events/{soon['id']}").body.decode()
    assert '<form class="event-registration"' in detail and 'name="website"' in detail
    assert later["id"] in page


def test_registrations_are_erased_with_the_person(env: Env) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    cid = candidate_id(env, "guest1@example.com")
    assert call(env, "DELETE", f"/v1/candidates/{cid}", who="admin").status_code == 204
    assert registrations(env, event["id"]) == []


@pytest.mark.parametrize("state", ["registered", "waitlisted", "cancelled"])
def test_the_registration_list_filters_by_state(env: Env, state: str) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    expected = {"registered": ["guest1@example.com"], "waitlisted": ["guest2@example.com"], "cancelled": []}
    assert [r["email"] for r in registrations(env, event["id"], state)] == expected[state]
    assert json.loads(json.dumps(registrations(env, event["id"])))  # every state, registered first
