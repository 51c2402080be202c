# ruff: noqa: F811 - the session fixture is imported, then named by the tests that use it
"""Check-in at the door: by the QR code's token or by id (API and the phone desk), once per person,
safe to retry (the same request answers the same), "already checked in at 10:42" on the event's
clock, walk-ins registered and checked in at once; forged, expired, cancelled and other events'
codes refused with nothing changed."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from crm.events.tickets import checkin_token, checkin_url
from tests.integration.conftest import Env, json_post
from tests.integration.test_events_api import call, problem
from tests.integration.test_events_registration import candidate_id, person, published, register
from tests.integration.test_ui import csrf_of, get, post_form, session  # noqa: F401 - the fixture


def ticket(env: Env, event: dict[str, Any], email: str) -> str:
    return checkin_token(event["id"], candidate_id(env, email), ends_at=event["ends_at"])


def check_in(env: Env, event_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return json_post(
        env, f"/v1/events/{event_id}/check-ins", body, {**env.auth("recruiter"), **(headers or {})}
    )


def counts(env: Env, event_id: str) -> dict[str, int]:
    return dict(call(env, "GET", f"/v1/events/{event_id}").json_body["counts"])


def test_a_code_checks_in_once_and_says_when_after(env: Env) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    token = ticket(env, event, "guest1@example.com")
    first = check_in(env, event["id"], {"token": token, "request_id": "scan-1"})
    assert first.status_code == 200, first.body
    assert first.json_body["status"] == "checked_in" and first.json_body["name"] == "Guest1 Visitor"
    at = first.json_body["checked_in_at"]
    from datetime import datetime

    local = (
        datetime.fromisoformat(at.replace("Z", "+00:00"))
        .astimezone(ZoneInfo("Europe/Berlin"))
        .strftime("%H:%M")
    )
    assert first.json_body["checked_in_local"] == local
    retry = check_in(env, event["id"], {"token": token, "request_id": "scan-1"})
    assert retry.json_body == first.json_body  # a retry of the same request: the same answer
    second = check_in(env, event["id"], {"token": token, "request_id": "scan-2"})
    assert second.status_code == 200
    assert second.json_body["status"] == "already_checked_in"
    assert second.json_body["message"] == f"Guest1 Visitor was already checked in at {local}."
    assert second.json_body["checked_in_at"] == at
    assert counts(env, event["id"])["attended"] == 1
    came = call(env, "GET", f"/v1/events/{event['id']}/check-ins").json_body
    assert [a["name"] for a in came["items"]] == ["Guest1 Visitor"] and came["next_cursor"] is None
    cid = candidate_id(env, "guest1@example.com")
    timeline = call(env, "GET", f"/v1/candidates/{cid}/timeline").json_body["items"]
    attended = [a for a in timeline if a["kind"] == "event_attended"]
    assert len(attended) == 1 and attended[0]["detail"]["event_name"] == "Autumn career fair"


def test_the_idempotency_key_header_makes_a_retry_answer_the_same(env: Env) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    body = {"candidate_id": candidate_id(env, "guest1@example.com")}
    first = check_in(env, event["id"], body, {"Idempotency-Key": "door-7"})
    again = check_in(env, event["id"], body, {"Idempotency-Key": "door-7"})
    assert first.json_body == again.json_body and again.json_body["status"] == "checked_in"
    other = check_in(env, event["id"], body)
    assert other.json_body["status"] == "already_checked_in"


def test_the_qr_code_holds_the_desks_address_with_the_token(env: Env) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    url = checkin_url(event["id"], ticket(env, event, "guest1@example.com"))
    assert urlsplit(url).path == f"/ui/events/{event['id']}/check-in"
    response = check_in(env, event["id"], {"token": url})  # the scanned text as it is
    assert response.json_body["status"] == "checked_in"


def test_refused_codes_change_nothing(env: Env) -> None:
    event = published(env, capacity=1)
    other = published(env, name="Other fair")
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))  # waiting
    register(env, other["id"], person(3))
    token = ticket(env, event, "guest1@example.com")
    cases = {
        token[:-3] + ("abc" if not token.endswith("abc") else "xyz"): "not a valid check-in code",
        "hello": "not a valid check-in code",
        ticket(env, other, "guest3@example.com"): "another event",
        checkin_token(
            event["id"], candidate_id(env, "guest1@example.com"), ends_at="2020-01-01T00:00:00Z"
        ): "expired",
        ticket(env, event, "guest2@example.com"): "waitlist",
    }
    for bad, words in cases.items():
        body = problem(check_in(env, event["id"], {"token": bad}), 422)
        assert body["errors"][0]["field"] == "token" and words in body["errors"][0]["message"], body
    assert counts(env, event["id"])["attended"] == 0 and counts(env, other["id"])["attended"] == 0
    from crm.events.service import EventService

    EventService().cancel_registration(event["id"], candidate_id(env, "guest1@example.com"), actor="test")
    body = problem(check_in(env, event["id"], {"token": token}), 422)
    assert "cancelled" in body["errors"][0]["message"]


def test_bad_requests(env: Env) -> None:
    event = published(env)
    assert problem(check_in(env, event["id"], {}), 422)
    assert problem(check_in(env, event["id"], {"token": "x", "candidate_id": "y"}), 422)
    body = problem(check_in(env, event["id"], {"candidate_id": "nobody"}), 422)
    assert body["errors"][0]["field"] == "candidate_id"
    problem(check_in(env, "nope", {"candidate_id": "nobody"}), 404)
    draft = json_post(env, "/v1/events", {**_fair_body(event)}, env.auth("recruiter")).json_body
    problem(check_in(env, draft["id"], {"candidate_id": "nobody"}), 409)


def _fair_body(event: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "kind", "starts_at", "ends_at", "timezone", "mode", "venue", "capacity")
    return {k: event[k] for k in keys}


def test_a_known_person_not_registered_is_a_walk_in(env: Env) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))  # waiting: let in at the door
    walk_in = json_post(
        env,
        "/v1/candidates",
        {"email": "walker@example.com", "first_name": "Wal", "last_name": "Ker"},
        env.auth("recruiter"),
    ).json_body
    answer = check_in(env, event["id"], {"candidate_id": walk_in["id"]}).json_body
    assert answer["status"] == "checked_in" and answer["walk_in"] is True
    waiting = check_in(env, event["id"], {"candidate_id": candidate_id(env, "guest2@example.com")}).json_body
    assert waiting["status"] == "checked_in"
    assert counts(env, event["id"]) == {
        "registered": 3,
        "waitlisted": 0,
        "attended": 2,
        "cancelled": 0,
        "no_show": 0,
    }


# ---------------------------------------------------------------------------------- the phone desk


def _desk(env: Env, event_id: str, cookie: str, query: str = "") -> Any:
    return get(env, f"/ui/events/{event_id}/check-in{query}", cookie)


def test_the_desk_finds_people_and_checks_them_in_with_one_tap(env: Env, session: str) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    register(env, event["id"], {**person(2), "first_name": "Ann", "last_name": "Lee"})
    page = _desk(env, event["id"], session, "?q=ann")
    html = page.body.decode()
    assert page.status_code == 200 and "Ann Lee" in html and "Guest1" not in html
    assert '<script src="/ui/static/checkin.js" defer></script>' in html
    fields = _tap_fields(html)
    tapped = post_form(env, f"/ui/events/{event['id']}/check-in?q=ann", fields, session)
    assert tapped.status_code == 200 and "Ann Lee is checked in." in tapped.body.decode()
    retried = post_form(env, f"/ui/events/{event['id']}/check-in?q=ann", fields, session)
    assert "Ann Lee is checked in." in retried.body.decode()  # the same request, the same answer
    again = post_form(env, f"/ui/events/{event['id']}/check-in", {**fields, "request_id": "another"}, session)
    assert re.search(r"Ann Lee was already checked in at \d\d:\d\d\.", again.body.decode())
    listed = _desk(env, event["id"], session, "?q=lee").body.decode()
    assert "In at " in listed and 'name="candidate_id"' not in listed
    by_email = _desk(env, event["id"], session, "?q=guest1@").body.decode()
    assert "Guest1 Visitor" in by_email
    assert counts(env, event["id"])["attended"] == 1


def _tap_fields(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="[^"]*check-in\?q=[^"]*">(.*?)</form>', html, re.DOTALL)
    assert form
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))


def test_the_desks_scanner_gets_json_answers(env: Env, session: str) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    csrf = csrf_of(_desk(env, event["id"], session).body)
    body = {"csrf": csrf, "token": ticket(env, event, "guest1@example.com"), "request_id": "scan-9"}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Cookie": session,
    }
    path = f"/ui/events/{event['id']}/check-in"
    first = env.client.http.post(path, body=urlencode(body).encode(), headers=headers)
    assert first.status_code == 200 and json.loads(first.body)["status"] == "checked_in"
    forged = env.client.http.post(path, body=urlencode({**body, "token": "forged"}).encode(), headers=headers)
    assert forged.status_code == 422 and "not a valid check-in code" in json.loads(forged.body)["detail"]


def test_a_scanned_address_shows_who_to_check_in(env: Env, session: str) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    url = urlsplit(checkin_url(event["id"], ticket(env, event, "guest1@example.com")))
    page = get(env, f"{url.path}?{url.query}", session)
    html = page.body.decode()
    assert page.status_code == 200 and "Check in Guest1 Visitor" in html
    token = parse_qs(url.query)["token"][0]
    form = re.search(r'name="token" value="([^"]+)"', html)
    assert form and form.group(1) == token
    bad = get(env, f"{url.path}?token=forged", session)
    assert bad.status_code == 422 and "not a valid check-in code" in bad.body.decode()


def test_a_walk_in_is_registered_and_checked_in_at_once(env: Env, session: str) -> None:
    event = published(env)
    csrf = csrf_of(_desk(env, event["id"], session).body)
    fields = {"csrf": csrf, "first_name": "Wanda", "last_name": "Walker", "email": "Wanda@Example.com"}
    done = post_form(env, f"/ui/events/{event['id']}/walk-in", fields, session)
    assert done.status_code == 200 and "Wanda Walker is checked in." in done.body.decode()
    again = post_form(
        env, f"/ui/events/{event['id']}/walk-in", {**fields, "email": "wanda@example.com"}, session
    )
    assert "already checked in" in again.body.decode()
    assert counts(env, event["id"])["attended"] == 1 and counts(env, event["id"])["registered"] == 1
    bad = post_form(env, f"/ui/events/{event['id']}/walk-in", {**fields, "email": "nope"}, session)
    assert bad.status_code == 422 and 'id="e-w-email"' in bad.body.decode()
