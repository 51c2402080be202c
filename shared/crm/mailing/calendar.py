"""Calendar invitations (RFC 5545 ``.ics``, RFC 5546 methods) as email attachments.

Built with the ``icalendar`` library. One ``uid`` names one meeting for its whole life: an update
(a rescheduled interview, a changed event) is the same ``uid`` with a higher ``sequence``, and a
cancellation is ``method="CANCEL"`` with ``status`` CANCELLED, so a calendar replaces or removes the
entry it already holds instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from crm.mailing.compose import Attachment

#: The methods this product sends: an invitation (or its update), and its cancellation.
METHODS = ("REQUEST", "CANCEL")
PRODUCT_ID = "-//Candidate CRM//Invitations//EN"


@dataclass(frozen=True)
class Meeting:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str = ""
    organizer_email: str = ""
    organizer_name: str = ""
    sequence: int = 0


def ics(meeting: Meeting, attendee_email: str, *, attendee_name: str = "", method: str = "REQUEST") -> bytes:
    """The ``.ics`` file of one meeting for one attendee. ``start`` and ``end`` must be aware
    (a time without a zone is refused: it would mean a different hour to each calendar); they are
    written in UTC, which every calendar shows in its own user's zone."""
    from icalendar import Calendar, Event, vCalAddress, vText

    if method not in METHODS:
        raise ValueError(f"method is one of {METHODS}")
    if meeting.start.tzinfo is None or meeting.end.tzinfo is None:
        raise ValueError("a meeting's start and end need a time zone")
    if meeting.end <= meeting.start:
        raise ValueError("a meeting ends after it starts")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", meeting.start.astimezone(UTC))
    event.add("dtend", meeting.end.astimezone(UTC))
    event.add("summary", meeting.summary)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if meeting.description:
        event.add("description", meeting.description)
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.url:
        event.add("url", meeting.url)
    if meeting.organizer_email:
        organizer = vCalAddress(f"mailto:{meeting.organizer_email}")
        if meeting.organizer_name:
            organizer.params["cn"] = vText(meeting.organizer_name)
        event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{attendee_email}")
    if attendee_name:
        attendee.params["cn"] = vText(attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def invitation(
    meeting: Meeting, attendee_email: str, *, attendee_name: str = "", method: str = "REQUEST"
) -> Attachment:
    """The ``.ics`` as an email attachment (``text/calendar`` with its method, as calendars
    expect to find it)."""
    data = ics(meeting, attendee_email, attendee_name=attendee_name, method=method)
    name = "cancelled.ics" if method == "CANCEL" else "invite.ics"
    return Attachment(filename=name, content_type=f"text/calendar; method={method}; charset=utf-8", data=data)
