"""The career site's event page carries schema.org ``Event`` JSON-LD with the fields Google's event
rich results require: parsed out of the page and checked field by field."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from tests.integration.conftest import Env
from tests.integration.test_events_api import call
from tests.integration.test_events_registration import published

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def json_ld(env: Env, event_id: str) -> dict[str, Any]:
    page = env.client.http.get(f"/careers/events/{event_id}")
    assert page.status_code == 200
    found = SCRIPT.findall(page.body.decode())
    assert len(found) == 1
    return dict(json.loads(found[0]))


def test_an_in_person_event_is_an_event_at_a_place(env: Env) -> None:
    event = published(env, description='Bring your CV </script><script>alert("x")</script>')
    data = json_ld(env, event["id"])
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["name"] == "Autumn career fair"
    start = datetime.fromisoformat(data["startDate"])
    assert start.utcoffset() is not None and start.utcoffset().total_seconds() in (3600, 7200)  # Berlin
    assert start == datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(data["endDate"]) > start
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    location = data["location"]
    assert location["@type"] == "Place" and location["name"] == "Kulturbrauerei"
    address = location["address"]
    assert address["@type"] == "PostalAddress"
    assert (address["streetAddress"], address["addressLocality"], address["addressCountry"]) == (
        "Schönhauser Allee 36",
        "Berlin",
        "DE",
    )
    assert data["description"].startswith("Bring your CV </script>")  # as text, inside the JSON
    assert data["organizer"]["@type"] == "Organization" and data["organizer"]["name"]
    assert data["url"].endswith(f"/careers/events/{event['id']}")


def test_an_online_event_is_at_its_page_never_its_join_link(env: Env) -> None:
    event = published(
        env,
        mode="online",
        venue=None,
        join_url="https://meet.example.com/secret",
        kind="webinar",
        organizer="Acme",
    )
    data = json_ld(env, event["id"])
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {"@type": "VirtualLocation", "url": data["url"]}
    assert data["organizer"]["name"] == "Acme"
    assert "secret" not in env.client.http.get(f"/careers/events/{event['id']}").body.decode()


def test_a_cancelled_event_says_so(env: Env) -> None:
    event = published(env)
    call(env, "POST", f"/v1/events/{event['id']}/cancel")
    assert json_ld(env, event["id"])["eventStatus"] == "https://schema.org/EventCancelled"
