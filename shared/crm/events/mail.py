"""The emails of an event, one mail plan for each: the confirmation of a place (with the calendar
invitation and the personal QR code), the waitlist notice, the reminders the day before and an
hour before, and the cancellation (with the calendar's CANCEL).

A mail-queue message of kind ``event`` has the ref ``<event id>:<what>``; its scope
``event#<event id>#<what>`` makes each email once per person and event (the delivery ledger),
however often the stream record or the tick queues it. Transactional (``topic`` None): it needs
no marketing consent; the suppression list still applies. At send time the registration must
still be what the email is about (a cancelled place gets no reminder; a promoted person's
waitlist notice is not sent late).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from crm.candidates.service import CandidateService
from crm.events.models import Event, Registration
from crm.events.service import EventService, when_text
from crm.events.tickets import QR_CID, checkin_token, checkin_url, manage_url, qr_png
from crm.mailing.calendar import Meeting, invitation
from crm.mailing.compose import Attachment
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_target
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.times import parse

SCOPE_PREFIX = "event#"
WHATS = ("confirmation", "waitlisted", "reminder-24h", "reminder-1h", "cancelled", "updated")

_DETAILS_HTML = (
    "<p><strong>{{ event.name }}</strong><br>{{ event.when }}"
    "{% if event.venue %}<br>{{ event.venue }}{% endif %}"
    '{% if event.join_url %}<br>Join online: <a href="{{ event.join_url }}">{{ event.join_url }}</a>'
    "{% endif %}</p>"
)
_DETAILS_TEXT = (
    "{{ event.name }}\n{{ event.when }}\n"
    "{% if event.venue %}{{ event.venue }}\n{% endif %}"
    "{% if event.join_url %}Join online: {{ event.join_url }}\n{% endif %}"
)
_TICKET_HTML = (
    "{% if checkin_url %}<p>Show this code at the entrance to check in:</p>"
    f'<p><img src="cid:{QR_CID}" alt="Your check-in code" width="240" height="240"></p>{{% endif %}}'
    '<p><a href="{{ manage_url }}">See or cancel your registration</a></p>'
)
_TICKET_TEXT = (
    "{% if checkin_url %}Your check-in code is attached to this email and on your registration page.\n"
    "{% endif %}"
    "See or cancel your registration: {{ manage_url }}\n"
)

TEMPLATES: dict[str, dict[str, str]] = {
    "confirmation": {
        "subject": "You're registered: {{ event.name }}",
        "html": "<p>Hello {{ first_name }},</p><p>Your place is booked.</p>"
        + _DETAILS_HTML
        + "<p>The calendar invitation is attached.</p>"
        + _TICKET_HTML,
        "text": "Hello {{ first_name }},\n\nYour place is booked.\n\n"
        + _DETAILS_TEXT
        + "\nThe calendar invitation is attached.\n"
        + _TICKET_TEXT,
    },
    "waitlisted": {
        "subject": "You're on the waitlist: {{ event.name }}",
        "html": "<p>Hello {{ first_name }},</p><p>The event is full, so you are on the waitlist"
        "{% if position %} (number {{ position }}){% endif %}. When a place frees up it goes to the "
        "next person in line, and we will email you your place.</p>"
        + _DETAILS_HTML
        + '<p><a href="{{ manage_url }}">See your place in line, or leave the waitlist</a></p>',
        "text": "Hello {{ first_name }},\n\nThe event is full, so you are on the waitlist"
        "{% if position %} (number {{ position }}){% endif %}. When a place frees up it goes to the next "
        "person in line, and we will email you your place.\n\n"
        + _DETAILS_TEXT
        + "\nSee your place in line, or leave the waitlist: {{ manage_url }}\n",
    },
    "reminder-24h": {
        "subject": "Tomorrow: {{ event.name }} at {{ event.time }}",
        "html": "<p>Hello {{ first_name }},</p><p>A reminder: see you tomorrow.</p>"
        + _DETAILS_HTML
        + _TICKET_HTML,
        "text": "Hello {{ first_name }},\n\nA reminder: see you tomorrow.\n\n"
        + _DETAILS_TEXT
        + "\n"
        + _TICKET_TEXT,
    },
    "reminder-1h": {
        "subject": "Starting in an hour: {{ event.name }}",
        "html": "<p>Hello {{ first_name }},</p><p>{{ event.name }} starts in an hour.</p>"
        + _DETAILS_HTML
        + _TICKET_HTML,
        "text": "Hello {{ first_name }},\n\n{{ event.name }} starts in an hour.\n\n"
        + _DETAILS_TEXT
        + "\n"
        + _TICKET_TEXT,
    },
    "updated": {
        "subject": "Changed: {{ event.name }}, now {{ event.when }}",
        "html": "<p>Hello {{ first_name }},</p><p>The time or place of <strong>{{ event.name }}</strong> "
        "has changed. Your place is kept; the attached invitation updates your calendar.</p>"
        + _DETAILS_HTML
        + _TICKET_HTML,
        "text": "Hello {{ first_name }},\n\nThe time or place of {{ event.name }} has changed. Your place is "
        "kept; the attached invitation updates your calendar.\n\n" + _DETAILS_TEXT + "\n" + _TICKET_TEXT,
    },
    "cancelled": {
        "subject": "Cancelled: {{ event.name }}",
        "html": "<p>Hello {{ first_name }},</p><p>We are sorry: <strong>{{ event.name }}</strong> "
        "({{ event.when }}) is cancelled. {% if had_place %}Your calendar entry is removed by the "
        "attached update.{% endif %}</p><p>We hope to see you at another event.</p>",
        "text": "Hello {{ first_name }},\n\nWe are sorry: {{ event.name }} ({{ event.when }}) is cancelled."
        "{% if had_place %} Your calendar entry is removed by the attached update.{% endif %}\n\n"
        "We hope to see you at another event.\n",
    },
}


def event_ref(event_id: str, what: str) -> str:
    return f"{event_id}:{what}"


def meeting(event: Event, *, cancelled: bool = False) -> Meeting:
    """The event as a calendar entry: one uid for its whole life, its sequence raised by each new
    time or place (and by the cancellation)."""
    base = get_settings().public_base_url.rstrip("/")
    host = urlsplit(base).hostname or "crm.invalid"
    name, address = parseaddr(get_settings().mail_from)
    start, end = parse(event.starts_at), parse(event.ends_at)
    assert start is not None and end is not None
    location = event.venue.one_line() if event.mode == "in_person" and event.venue else (event.join_url or "")
    return Meeting(
        uid=f"event-{event.id}@{host}",
        start=start,
        end=end,
        summary=event.name,
        description=event.description,
        location=location,
        url=f"{base}/careers/events/{event.id}",
        organizer_email=address,
        organizer_name=event.organizer or name,
        sequence=event.schedule_sequence + (1 if cancelled else 0),
    )


def _why_not(what: str, event: Event, registration: Registration, now: datetime) -> str | None:
    started = (parse(event.starts_at) or now) <= now
    if what == "cancelled":
        if event.status != "cancelled":
            return "not_cancelled"
        return None if registration.state in ("registered", "waitlisted") else "not_registered"
    if event.status != "published":
        return f"event_{event.status}"
    if what == "waitlisted":
        return None if registration.state == "waitlisted" else "not_waiting"
    if registration.state != "registered":
        return "not_registered"
    if started:
        return "started"
    return None


class EventPlan(Plan):
    topic = None

    def __init__(
        self, ref: str, *, events: EventService | None = None, candidates: CandidateService | None = None
    ) -> None:
        self.event_id, _, what = ref.partition(":")
        self.scope = f"{SCOPE_PREFIX}{self.event_id}#{what}"
        # "updated-<sequence>": one email per change of time or place
        sequence = ""
        if what.startswith("updated-"):
            what, _, sequence = what.partition("-")
        self.what = what
        self.sequence = int(sequence) if sequence.isdigit() else None
        self.events = events or EventService()
        self.candidates = candidates or CandidateService()
        self.event: Event | None = None

    def targets(self, recipients: list[str]) -> Verdicts:
        if self.what not in WHATS or (self.what == "updated") != (self.sequence is not None):
            return {r: Skip("malformed") for r in recipients}
        try:
            event = self.event = self.events.get(self.event_id)
        except NotFound:
            return {r: Skip("removed") for r in recipients}
        registrations = self.events.registrations_of(event.id, recipients)
        people = self.candidates.get_many(recipients)
        now = clock.now()
        verdicts: Verdicts = {}
        for recipient in recipients:
            person, registration = people.get(recipient), registrations.get(recipient)
            if person is None:
                verdicts[recipient] = Skip("erased")
                continue
            if registration is None:
                verdicts[recipient] = Skip("removed")
                continue
            why = _why_not(self.what, event, registration, now)
            if why is None and self.what == "updated" and event.schedule_sequence != self.sequence:
                why = "changed_again"  # the later change sends its own
            if why is not None:
                verdicts[recipient] = Skip(why)
                continue
            verdicts[recipient] = person_target(person, self._values(event, registration))
        return verdicts

    def _values(self, event: Event, registration: Registration) -> dict[str, Any]:
        holds_place = registration.state == "registered"
        values: dict[str, Any] = {
            "event": {
                "name": event.name,
                "when": when_text(event),
                "time": event.local().strftime("%H:%M"),
                "venue": event.venue.one_line() if event.mode == "in_person" and event.venue else "",
                "join_url": event.join_url if holds_place and event.mode == "online" else "",
            },
            "manage_url": manage_url(event.id, registration.candidate_id, ends_at=event.ends_at),
            "had_place": holds_place,
            "checkin_url": "",
            "position": None,
        }
        if holds_place and self.what != "cancelled":
            token = checkin_token(event.id, registration.candidate_id, ends_at=event.ends_at)
            values["checkin_url"] = checkin_url(event.id, token)
        if self.what == "waitlisted":
            values["position"] = self.events.waitlist_position(registration)
        return values

    def render(self, target: Target) -> RenderedEmail:
        rendered = render_builtin(TEMPLATES[self.what], target.context)
        assert self.event is not None
        attachments: list[Attachment] = []
        if self.what in ("confirmation", "reminder-24h", "reminder-1h", "updated"):
            attachments.append(invitation(meeting(self.event), target.email, attendee_name=target.name))
        elif self.what == "cancelled" and target.context.get("had_place"):
            attachments.append(
                invitation(
                    meeting(self.event, cancelled=True),
                    target.email,
                    attendee_name=target.name,
                    method="CANCEL",
                )
            )
        if target.context.get("checkin_url"):
            attachments.append(
                Attachment(
                    filename="check-in.png",
                    content_type="image/png",
                    data=qr_png(str(target.context["checkin_url"])),
                    content_id=QR_CID,
                )
            )
        return RenderedEmail(
            subject=rendered.subject, html=rendered.html, text=rendered.text, attachments=tuple(attachments)
        )
