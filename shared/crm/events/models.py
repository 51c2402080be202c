"""Recruiting events: what a recruiter creates and changes, what the career site shows, a person's
registration and check-in. Every input is validated by one of these before it reaches a
repository; every record the API returns is one of these.

Times are stored in UTC; ``timezone`` (an IANA name such as ``Europe/Berlin``) is how the event's
times are shown to people (pages, emails, "already checked in at 10:42").
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from crm.candidates.models import PublicSubmission, form_boolean
from crm.platform.fields import (
    AwareDatetime,
    Email,
    Id,
    Label,
    Name,
    ShortText,
    Tags,
    Url,
    Version,
    one_line_text,
)
from crm.platform.models import Input, Model, Patch

EventKind = Literal["career_fair", "webinar", "meetup", "open_day"]
KIND_LABELS: dict[str, str] = {
    "career_fair": "Career fair",
    "webinar": "Webinar",
    "meetup": "Meetup",
    "open_day": "Open day",
}
EventStatus = Literal["draft", "published", "cancelled", "finished"]
Mode = Literal["in_person", "online"]
MODE_LABELS: dict[str, str] = {"in_person": "In person", "online": "Online"}
RegistrationState = Literal["registered", "waitlisted", "cancelled"]
Attendance = Literal["registered", "attended", "no_show"]
MAX_CAPACITY = 100_000


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(value: str) -> str:
    value = value.strip()
    if value not in _zones() and value != "UTC":
        raise ValueError("give an IANA time zone name, e.g. Europe/Berlin or America/New_York")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("give an IANA time zone name, e.g. Europe/Berlin") from exc
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_zone),
    Field(description="IANA time zone the event's times are shown in, e.g. Europe/Berlin"),
]
Description = Annotated[str, StringConstraints(max_length=10_000)]


class Venue(Model):
    """Where an in-person event takes place (a schema.org PostalAddress on the career site)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: Label
    street: ShortText | None = None
    city: Name
    postal_code: one_line_text(20, required=False) | None = None  # type: ignore[valid-type]
    region: ShortText | None = None
    country: one_line_text(60, required=True)  # type: ignore[valid-type]

    def one_line(self) -> str:
        parts = [self.name, self.street, " ".join(p for p in (self.postal_code, self.city) if p)]
        parts += [self.region, self.country]
        return ", ".join(p for p in parts if p)


class EventFields(Input):
    """What describes an event (create, or an event as a patch leaves it)."""

    name: Label
    kind: EventKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: TimeZoneName
    mode: Mode = Field(description="in_person (needs venue) or online (needs join_url)")
    venue: Venue | None = None
    join_url: Url | None = Field(
        default=None, description="the online event's link: shown only to people registered"
    )
    capacity: int = Field(
        ge=1, le=MAX_CAPACITY, description="places; registrations beyond go to the waitlist"
    )
    registration_deadline: AwareDatetime | None = Field(
        default=None, description="registration closes then (by default at the start)"
    )
    description: Description = ""
    tags: Tags = Field(default_factory=list)
    organizer: ShortText | None = Field(default=None, description="who hosts it (the career site names them)")


#: The years an event's times may fall in (a year such as 608 or 9999 is a typing slip, and could
#: not be shown on every clock).
EVENT_YEARS = (2000, 2100)


def event_field_errors(fields: EventFields) -> list[tuple[str, str]]:
    """Each field that does not agree with the others, and why."""
    errors: list[tuple[str, str]] = []
    for name in ("starts_at", "ends_at", "registration_deadline"):
        value = getattr(fields, name)
        if value is not None and not EVENT_YEARS[0] <= value.astimezone(UTC).year < EVENT_YEARS[1]:
            errors.append((name, f"must be between the years {EVENT_YEARS[0]} and {EVENT_YEARS[1] - 1}"))
    if errors:
        return errors
    if fields.ends_at <= fields.starts_at:
        errors.append(("ends_at", "must be after starts_at"))
    if fields.mode == "in_person" and fields.venue is None:
        errors.append(("venue", "an in-person event needs a venue"))
    if fields.mode == "online" and not fields.join_url:
        errors.append(("join_url", "an online event needs a join link"))
    if fields.registration_deadline is not None and fields.registration_deadline > fields.starts_at:
        errors.append(("registration_deadline", "must not be after starts_at"))
    return errors


class EventCreate(EventFields):
    """A new event, created as a draft (``POST /v1/events/{id}/publish`` puts it on the career site).
    The service checks the fields agree (:func:`event_field_errors`), naming each that does not."""


class EventPatch(Patch):
    """Change an event's details against the ``version`` read (a stale one is a 409). A field left
    out keeps its value; ``null`` clears one that may be empty."""

    not_null = ("name", "kind", "starts_at", "ends_at", "timezone", "mode", "capacity")

    version: Version
    name: Label | None = None
    kind: EventKind | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    timezone: TimeZoneName | None = None
    mode: Mode | None = None
    venue: Venue | None = None
    join_url: Url | None = None
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    registration_deadline: AwareDatetime | None = None
    description: Description | None = None
    tags: Tags | None = None
    organizer: ShortText | None = None


class EventCounts(Model):
    registered: int = Field(default=0, description="people holding a place (walk-ins included)")
    waitlisted: int = 0
    attended: int = Field(default=0, description="people checked in")
    cancelled: int = Field(default=0, description="registrations cancelled")
    no_show: int = Field(default=0, description="registered, not checked in, once the event has ended")


class Event(Model):
    id: str
    name: str
    kind: EventKind
    status: EventStatus
    starts_at: str
    ends_at: str
    timezone: str
    mode: Mode
    venue: Venue | None = None
    join_url: str | None = None
    capacity: int
    registration_deadline: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    organizer: str | None = None
    counts: EventCounts = Field(default_factory=EventCounts)
    schedule_sequence: int = Field(
        default=0, description="calendar SEQUENCE: raised when the time or place changes"
    )
    version: int
    created_at: str
    updated_at: str
    published_at: str | None = None
    cancelled_at: str | None = None
    finished_at: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, value: str | None = None) -> datetime:
        """``value`` (a stored UTC time; the start by default) in the event's time zone."""
        return datetime.fromisoformat((value or self.starts_at).replace("Z", "+00:00")).astimezone(self.zone)

    @property
    def closes_at(self) -> str:
        """When registration closes: the deadline, or the start."""
        return self.registration_deadline or self.starts_at

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def mode_label(self) -> str:
        return MODE_LABELS.get(self.mode, self.mode)

    @property
    def full(self) -> bool:
        return self.counts.registered >= self.capacity

    @property
    def places_left(self) -> int:
        return max(0, self.capacity - self.counts.registered)

    def fields(self) -> dict[str, Any]:
        """The describing fields as an ``EventFields`` reads them (for a patch to be checked whole)."""
        values = self.model_dump(include=set(EventFields.model_fields))
        if self.venue is not None:
            values["venue"] = self.venue.model_dump(exclude_none=True)
        return {k: v for k, v in values.items() if v is not None}


class PublicEvent(Model):
    """An event as the career site shows it: never the join link."""

    id: str
    name: str
    kind: EventKind
    status: EventStatus
    starts_at: str
    ends_at: str
    timezone: str
    mode: Mode
    venue: Venue | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    organizer: str | None = None
    registration_open: bool
    places_left: int
    waitlist: bool = Field(description="full: a registration now joins the waitlist")


class EventListQuery(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    status: EventStatus | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


class Registration(Model):
    """A person's place (or place in line) at one event. Their name and email are kept with it, so
    the check-in desk searches an event's people without reading each profile; it lives in the
    person's partition and goes with them on erasure."""

    event_id: str
    candidate_id: str
    email: str
    first_name: str
    last_name: str
    state: RegistrationState
    registered_at: str = Field(description="when they first asked for a place")
    state_at: str = Field(description="when they entered their current state (their place in the waitlist)")
    walk_in: bool = Field(default=False, description="registered at the door")
    checked_in_at: str | None = None
    checked_in_by: str | None = None
    check_in_request: str | None = Field(default=None, description="the request that checked them in")
    promoted_at: str | None = None
    cancelled_at: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def attended(self) -> bool:
        return self.state == "registered" and self.checked_in_at is not None


class RegistrationListQuery(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    state: RegistrationState | None = None
    q: Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)] | None = Field(
        default=None, description="name or email (any word of it starts with q)"
    )
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=2048)


class EventRegistrationForm(PublicSubmission):
    """The career site's registration form: the talent-network fields, plus whether the person
    wants to hear about future events (the ``events`` consent). Unknown fields are ignored."""

    events_consent: bool = False

    @field_validator("events_consent", mode="before")
    @classmethod
    def _form_boolean_events(cls, value: Any) -> Any:
        return form_boolean(value)


RequestId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class CheckInRequest(Input):
    """Check someone in: by the ``token`` their QR code carries, or by ``candidate_id`` (search at
    the desk; someone not registered is registered as a walk-in). ``request_id`` (or the
    ``Idempotency-Key`` header) makes a retried request answer as the first one did."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    candidate_id: Id | None = None
    request_id: RequestId | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CheckInRequest:
        if (self.token is None) == (self.candidate_id is None):
            raise ValueError("give either token or candidate_id")
        return self


class WalkIn(Input):
    """Someone new at the door: registered and checked in at once (through the same intake as the
    career site's forms, so a known email is the same person)."""

    email: Email
    first_name: Name
    last_name: Name
    marketing_consent: bool = False


class CheckIn(Model):
    """What a check-in answers: checked in now, or already (and when, in the event's time zone)."""

    status: Literal["checked_in", "already_checked_in"]
    event_id: str
    candidate_id: str
    name: str
    checked_in_at: str
    checked_in_local: str = Field(description="the time of the check-in in the event's time zone, e.g. 10:42")
    walk_in: bool = False
    message: str


class Attendee(Model):
    """One person at an event, as the check-in list shows them."""

    candidate_id: str
    name: str
    email: str
    state: RegistrationState
    walk_in: bool = False
    checked_in_at: str | None = None
    checked_in_local: str | None = None


class EventAudience(Model):
    """``{"event": id, "attendance": ...}``: the people of one event, for a campaign or sequence.
    ``registered``: everyone holding a place; ``attended``: those checked in; ``no_show``: those
    registered but not checked in once the event has ended."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    event: Id
    attendance: Attendance = "registered"
