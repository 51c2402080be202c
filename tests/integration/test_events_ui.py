# ruff: noqa: F811 - the session fixture is imported, then named by the tests that use it
"""The recruiter's event pages: the list, the new and edit forms (times on the event's own clock),
publish / cancel / finish, and the event's page with its figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tests.integration.conftest import Env
from tests.integration.test_ui import csrf_of, get, post_form, session  # noqa: F401 - the fixture

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


def form(csrf: str, **changes: str) -> dict[str, str]:
    fields = {
        "csrf": csrf,
        "name": "Spring open day",
        "kind": "open_day",
        "date": NEXT_WEEK,
        "start_time": "10:00",
        "end_time": "15:30",
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue_name": "Head office",
        "venue_street": "Hauptstraße 1",
        "venue_city": "Berlin",
        "venue_country": "DE",
        "capacity": "40",
        "description": "Tour the office <b>and</b> meet the team.",
        "tags": "engineering, open-day",
    }
    fields.update(changes)
    return fields


def new_event(env: Env, cookie: str, **changes: str) -> str:
    page = get(env, "/ui/events/new", cookie)
    assert page.status_code == 200
    response = post_form(env, "/ui/events", form(csrf_of(page.body), **changes), cookie)
    assert response.status_code == 303, response.body
    location = response.headers["Location"]
    assert location.endswith("?done=created")
    return urlsplit(location).path.rsplit("/", 1)[1]


def api_event(env: Env, event_id: str) -> dict[str, Any]:
    return dict(env.client.http.get(f"/v1/events/{event_id}", headers=env.auth("recruiter")).json_body)


def test_the_menu_leads_to_events(env: Env, session: str) -> None:
    home = get(env, "/ui/candidates", session).body.decode()
    assert '<a href="/ui/events">Events</a>' in home
    listing = get(env, "/ui/events", session)
    assert listing.status_code == 200 and "No events yet" in listing.body.decode()


def test_a_new_event_keeps_its_times_on_its_own_clock(env: Env, session: str) -> None:
    event_id = new_event(env, session)
    event = api_event(env, event_id)
    start = datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    from zoneinfo import ZoneInfo

    local = start.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.date().isoformat(), local.strftime("%H:%M")) == (NEXT_WEEK, "10:00")
    assert event["status"] == "draft" and event["capacity"] == 40
    page = get(env, f"/ui/events/{event_id}?done=created", session).body.decode()
    assert "Spring open day" in page and "The event is created as a draft" in page
    assert "Tour the office &lt;b&gt;and&lt;/b&gt; meet the team." in page
    assert re.search(r"10:00 to 15:30 CE[S]?T", page)
    assert "Head office, Hauptstraße 1, Berlin, DE" in page
    listing = get(env, "/ui/events", session).body.decode()
    assert f'href="/ui/events/{event_id}"' in listing and "0 / 40" in listing


def test_form_errors_are_shown_next_to_their_fields(env: Env, session: str) -> None:
    csrf = csrf_of(get(env, "/ui/events/new", session).body)
    early = post_form(env, "/ui/events", form(csrf, end_time="09:00"), session)
    assert early.status_code == 422
    body = early.body.decode()
    assert 'id="e-end_time"' in body and "must be after starts_at" in body
    assert 'value="Spring open day"' in body  # what was typed stays
    none = post_form(env, "/ui/events", form(csrf, capacity="0"), session)
    assert none.status_code == 422 and 'id="e-capacity"' in none.body.decode()
    zone = post_form(env, "/ui/events", form(csrf, timezone="Nowhere/Town"), session)
    assert zone.status_code == 422 and 'id="e-timezone"' in zone.body.decode()
    venue = post_form(env, "/ui/events", form(csrf, venue_name="", venue_city="", venue_country=""), session)
    assert venue.status_code == 422 and 'id="e-venue_name"' in venue.body.decode()
    listed = env.client.http.get("/v1/events", headers=env.auth("recruiter")).json_body["items"]
    assert listed == []


def test_edit_publish_and_cancel(env: Env, session: str) -> None:
    event_id = new_event(env, session)
    edit = get(env, f"/ui/events/{event_id}/edit", session)
    body = edit.body.decode()
    assert 'value="10:00"' in body and 'value="Europe/Berlin"' in body and 'name="version" value="1"' in body
    saved = post_form(
        env,
        f"/ui/events/{event_id}",
        {**form(csrf_of(edit.body), start_time="11:00", capacity="25"), "version": "1"},
        session,
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?done=saved")
    assert api_event(env, event_id)["capacity"] == 25
    stale = post_form(env, f"/ui/events/{event_id}", {**form(csrf_of(edit.body)), "version": "1"}, session)
    assert stale.status_code == 409 and "Nothing was saved" in stale.body.decode()

    csrf = csrf_of(get(env, f"/ui/events/{event_id}", session).body)
    published = post_form(env, f"/ui/events/{event_id}/status", {"csrf": csrf, "action": "publish"}, session)
    assert published.status_code == 303 and published.headers["Location"].endswith("?done=published")
    page = get(env, f"/ui/events/{event_id}", session).body.decode()
    assert "Check-in desk" in page and f"/careers/events/{event_id}" in page
    cancelled = post_form(env, f"/ui/events/{event_id}/status", {"csrf": csrf, "action": "cancel"}, session)
    assert cancelled.status_code == 303
    assert api_event(env, event_id)["status"] == "cancelled"
    again = post_form(env, f"/ui/events/{event_id}/status", {"csrf": csrf, "action": "publish"}, session)
    assert again.status_code == 409 and "only a draft can be published" in again.body.decode()


def test_pages_need_a_session_and_posts_their_csrf(env: Env, session: str) -> None:
    assert env.client.http.get("/ui/events").status_code == 303
    refused = post_form(env, "/ui/events", form("not-the-token"), session)
    assert refused.status_code == 403
    assert get(env, "/ui/events/nope", session).status_code == 404
