"""Recruiting events through /v1/events: create (a draft), list, get, patch with a version,
publish, cancel, finish; and what bad input gets (422 naming the field, 409, 404)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import Env, json_post


def in_days(days: float, hour: int = 10) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def fair(**changes: Any) -> dict[str, Any]:
    start = in_days(7)
    body: dict[str, Any] = {
        "name": "Autumn career fair",
        "kind": "career_fair",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=6)).isoformat(),
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue": {
            "name": "Kulturbrauerei",
            "street": "Schönhauser Allee 36",
            "city": "Berlin",
            "country": "DE",
        },
        "capacity": 3,
        "description": "Meet our engineering teams.",
        "tags": ["engineering", "berlin"],
    }
    body.update(changes)
    return body


def create(env: Env, **changes: Any) -> dict[str, Any]:
    response = json_post(env, "/v1/events", fair(**changes), env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def call(env: Env, method: str, path: str, body: Any = None, who: str = "recruiter") -> Any:
    headers = {**env.auth(who), **({"Content-Type": "application/json"} if body is not None else {})}
    raw = json.dumps(body).encode() if body is not None else b""
    return env.client.http.request(method, path, headers=headers, body=raw)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.body)
    assert response.headers["Content-Type"] == "application/problem+json"
    return dict(json.loads(response.body))


def fields_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def test_an_event_is_created_as_a_draft_and_read_back(env: Env) -> None:
    event = create(env)
    assert event["status"] == "draft"
    assert event["version"] == 1
    assert event["counts"] == {"registered": 0, "waitlisted": 0, "attended": 0, "cancelled": 0, "no_show": 0}
    assert event["starts_at"].endswith("Z") and event["timezone"] == "Europe/Berlin"
    got = call(env, "GET", f"/v1/events/{event['id']}")
    assert got.status_code == 200 and got.json_body["name"] == "Autumn career fair"
    assert got.json_body["venue"]["city"] == "Berlin"
    listed = call(env, "GET", "/v1/events").json_body
    assert [e["id"] for e in listed["items"]] == [event["id"]] and listed["next_cursor"] is None


def test_list_latest_start_first_by_status_and_paged(env: Env) -> None:
    ids = [
        create(
            env,
            name=f"Meetup {n}",
            starts_at=in_days(3 + n).isoformat(),
            ends_at=(in_days(3 + n) + timedelta(hours=2)).isoformat(),
        )["id"]
        for n in range(3)
    ]
    call(env, "POST", f"/v1/events/{ids[0]}/publish")
    first = call(env, "GET", "/v1/events?limit=2").json_body
    assert [e["id"] for e in first["items"]] == [ids[2], ids[1]]
    rest = call(env, "GET", f"/v1/events?limit=2&cursor={first['next_cursor']}").json_body
    assert [e["id"] for e in rest["items"]] == [ids[0]]
    published = call(env, "GET", "/v1/events?status=published").json_body["items"]
    assert [e["id"] for e in published] == [ids[0]]
    assert call(env, "GET", "/v1/events?status=draft").json_body["items"][0]["id"] == ids[2]


def test_patch_needs_the_version_read(env: Env) -> None:
    event = create(env)
    changed = call(env, "PATCH", f"/v1/events/{event['id']}", {"version": 1, "capacity": 50, "name": "Fair"})
    assert changed.status_code == 200, changed.body
    assert changed.json_body["capacity"] == 50 and changed.json_body["version"] == 2
    stale = call(env, "PATCH", f"/v1/events/{event['id']}", {"version": 1, "capacity": 5})
    problem(stale, 409)
    assert call(env, "GET", f"/v1/events/{event['id']}").json_body["capacity"] == 50


def test_a_new_time_raises_the_calendar_sequence(env: Env) -> None:
    event = create(env)
    later = in_days(8)
    moved = call(
        env,
        "PATCH",
        f"/v1/events/{event['id']}",
        {"version": 1, "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
    ).json_body
    assert moved["schedule_sequence"] == 1
    renamed = call(env, "PATCH", f"/v1/events/{event['id']}", {"version": 2, "name": "Renamed"}).json_body
    assert renamed["schedule_sequence"] == 1


def test_publish_cancel_and_finish(env: Env) -> None:
    event = create(env)
    published = call(env, "POST", f"/v1/events/{event['id']}/publish")
    assert published.status_code == 200 and published.json_body["status"] == "published"
    assert published.json_body["published_at"]
    again = call(env, "POST", f"/v1/events/{event['id']}/publish")
    assert again.status_code == 200 and again.json_body["version"] == published.json_body["version"]
    problem(call(env, "POST", f"/v1/events/{event['id']}/finish"), 409)  # not started yet
    cancelled = call(env, "POST", f"/v1/events/{event['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json_body["status"] == "cancelled"
    problem(call(env, "POST", f"/v1/events/{event['id']}/publish"), 409)
    body = {"version": cancelled.json_body["version"], "name": "Too late"}
    problem(call(env, "PATCH", f"/v1/events/{event['id']}", body), 409)


def test_an_online_event_needs_a_join_link_and_the_career_site_never_shows_it(env: Env) -> None:
    body = fair(mode="online", venue=None)
    response = json_post(env, "/v1/events", body, env.auth("recruiter"))
    assert fields_of(problem(response, 422)) == {"join_url"}
    online = create(env, mode="online", venue=None, join_url="https://meet.example.com/abc", kind="webinar")
    assert online["join_url"] == "https://meet.example.com/abc"
    call(env, "POST", f"/v1/events/{online['id']}/publish")
    page = env.client.http.get(f"/careers/events/{online['id']}").body.decode()
    assert "meet.example.com" not in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "2030-06-01T10:00:00"}, "starts_at"),
        ({"ends_at": "2030-06-01T10:00:00"}, "ends_at"),
        ({"registration_deadline": "2030-06-01T10:00"}, "registration_deadline"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"kind": "party"}, "kind"),
        ({"venue": None}, "venue"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_fields_are_422_naming_the_field(env: Env, changes: dict[str, Any], field: str) -> None:
    response = json_post(env, "/v1/events", fair(**changes), env.auth("recruiter"))
    assert field in fields_of(problem(response, 422))


def test_end_before_start_is_a_422_on_ends_at(env: Env) -> None:
    start = in_days(5)
    body = fair(starts_at=start.isoformat(), ends_at=(start - timedelta(hours=1)).isoformat())
    assert fields_of(problem(json_post(env, "/v1/events", body, env.auth("recruiter")), 422)) == {"ends_at"}
    event = create(env)
    patch = {
        "version": 1,
        "ends_at": (datetime.fromisoformat(event["starts_at"]) - timedelta(minutes=1)).isoformat(),
    }
    assert fields_of(problem(call(env, "PATCH", f"/v1/events/{event['id']}", patch), 422)) == {"ends_at"}


@pytest.mark.parametrize("start", ["0608-01-29T11:58:02Z", "9999-12-31T20:00:00Z", "1999-12-31T20:00:00Z"])
def test_times_in_a_year_no_event_has_are_a_422_and_the_pages_never_fail(env: Env, start: str) -> None:
    at = datetime.fromisoformat(start)
    body = fair(starts_at=at.isoformat(), ends_at=(at + timedelta(hours=2)).isoformat())
    assert "starts_at" in fields_of(problem(json_post(env, "/v1/events", body, env.auth("recruiter")), 422))
    event = create(env)
    patch = {"version": 1, "registration_deadline": "0608-01-01T00:00:00Z"}
    assert fields_of(problem(call(env, "PATCH", f"/v1/events/{event['id']}", patch), 422)) == {
        "registration_deadline"
    }


def test_a_time_without_a_zone_in_a_patch_is_a_422_naming_it(env: Env) -> None:
    event = create(env)
    patch = {"version": 1, "starts_at": "2031-01-01T10:00:00"}
    assert fields_of(problem(call(env, "PATCH", f"/v1/events/{event['id']}", patch), 422)) == {"starts_at"}
    assert fields_of(
        problem(call(env, "PATCH", f"/v1/events/{event['id']}", {"version": 1, "capacity": None}), 422)
    ) == {"capacity"}


def test_publishing_an_event_in_the_past_is_a_422(env: Env) -> None:
    event = create(
        env, starts_at=in_days(-2).isoformat(), ends_at=(in_days(-2) + timedelta(hours=1)).isoformat()
    )
    assert fields_of(problem(call(env, "POST", f"/v1/events/{event['id']}/publish"), 422)) == {"starts_at"}


def test_unknown_event_is_404(env: Env) -> None:
    for method, path in (
        ("GET", "/v1/events/nope"),
        ("POST", "/v1/events/nope/publish"),
        ("POST", "/v1/events/nope/cancel"),
        ("POST", "/v1/events/nope/finish"),
        ("GET", "/v1/events/nope/registrations"),
        ("GET", "/v1/events/nope/check-ins"),
    ):
        problem(call(env, method, path), 404)
    problem(call(env, "PATCH", "/v1/events/nope", {"version": 1, "name": "X"}), 404)


def test_reading_needs_credentials_and_writing_a_recruiter(env: Env) -> None:
    problem(env.client.http.get("/v1/events"), 401)
    assert call(env, "GET", "/v1/events", who="admin").status_code == 200
