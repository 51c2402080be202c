"""An event as schema.org ``Event`` structured data (JSON-LD) for the career site's page, with what
Google's event rich results require (``name``, ``startDate`` with its offset, ``location``: a
``Place`` with its ``PostalAddress`` or a ``VirtualLocation`` with a ``url``) and what they
recommend (``endDate``, ``eventStatus``, ``eventAttendanceMode``, ``description``, ``organizer``).

An online event's location is its public page, never the join link (which only registered
people get). Times are written on the event's own clock, with its UTC offset.
"""

from __future__ import annotations

from typing import Any

from crm.events.models import Event

SCHEMA = "https://schema.org"
STATUS = {
    "draft": "EventScheduled",
    "published": "EventScheduled",
    "finished": "EventScheduled",
    "cancelled": "EventCancelled",
}
MODE = {"in_person": "OfflineEventAttendanceMode", "online": "OnlineEventAttendanceMode"}


def _address(event: Event) -> dict[str, Any]:
    venue = event.venue
    assert venue is not None
    address: dict[str, Any] = {
        "@type": "PostalAddress",
        "addressLocality": venue.city,
        "addressCountry": venue.country,
    }
    for key, value in (
        ("streetAddress", venue.street),
        ("postalCode", venue.postal_code),
        ("addressRegion", venue.region),
    ):
        if value:
            address[key] = value
    return address


def event_json_ld(event: Event, *, page_url: str, organizer_name: str, organizer_url: str) -> dict[str, Any]:
    location: dict[str, Any]
    if event.mode == "in_person" and event.venue is not None:
        location = {"@type": "Place", "name": event.venue.name, "address": _address(event)}
    else:
        location = {"@type": "VirtualLocation", "url": page_url}
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Event",
        "name": event.name,
        "startDate": event.local(event.starts_at).isoformat(timespec="seconds"),
        "endDate": event.local(event.ends_at).isoformat(timespec="seconds"),
        "eventStatus": f"{SCHEMA}/{STATUS[event.status]}",
        "eventAttendanceMode": f"{SCHEMA}/{MODE[event.mode]}",
        "location": location,
        "organizer": {
            "@type": "Organization",
            "name": event.organizer or organizer_name,
            "url": organizer_url,
        },
        "url": page_url,
    }
    if event.description:
        data["description"] = event.description
    if event.tags:
        data["keywords"] = ", ".join(event.tags)
    return data
