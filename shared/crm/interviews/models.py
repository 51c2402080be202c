"""What interview scheduling takes and gives: a recruiter's offer of slots, the interview as
stored and returned, and what a candidate's link shows and sends. Every input is validated by one
of these before it reaches a repository."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from crm.hiring.models import Rating, Recommendation
from crm.jobs.models import MAX_SCORECARD, ScoreLabel
from crm.platform.fields import AwareDatetime, Email, one_line_text
from crm.platform.models import Input, Model

MIN_MINUTES = 10
MAX_MINUTES = 8 * 60
MAX_SLOTS = 20
MAX_INTERVIEWERS = 10
#: How far ahead a slot may be offered.
MAX_DAYS_AHEAD = 366

InterviewState = Literal["offered", "booked", "cancelled"]
CancelledBy = Literal["candidate", "recruiter"]
Action = Literal["book", "cancel"]


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this runtime knows (the ``tzdata`` package's)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones() | {"UTC"})


def _known_zone(value: str) -> str:
    value = value.strip()
    if value not in time_zones():
        raise ValueError("use an IANA time zone name, e.g. Europe/Berlin or America/New_York")
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_known_zone),
    Field(description="an IANA time zone name, e.g. Europe/Berlin"),
]


def _unique_emails(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class SlotOffer(Input):
    start: AwareDatetime = Field(description="when it starts, ISO 8601 with a time zone")


class InterviewOffer(Input):
    """``POST /v1/applications/{id}/interviews``: the times the candidate may choose from (each with
    its time zone), one length for all, who interviews, and the zone the candidate's page starts
    in. ``title`` is one of the job's interviews (its first when left out)."""

    title: one_line_text(60, required=True) | None = None  # type: ignore[valid-type]
    slots: Annotated[list[SlotOffer], Field(min_length=1, max_length=MAX_SLOTS)]
    duration_minutes: int = Field(ge=MIN_MINUTES, le=MAX_MINUTES, description="the length of each slot")
    timezone: TimeZoneName
    interviewers: Annotated[
        list[Email], Field(max_length=MAX_INTERVIEWERS), AfterValidator(_unique_emails)
    ] = Field(default_factory=list, description="sign-in addresses; none: the recruiter who offers")
    location: one_line_text(300, required=False) = ""  # type: ignore[valid-type]
    message: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] = Field(
        default="", description="a few words to the candidate, shown on their page and in the email"
    )


class InterviewSlot(Model):
    start: str = Field(description="UTC, ISO 8601")
    end: str = Field(description="UTC, ISO 8601")


class Interview(Model):
    id: str
    application_id: str
    candidate_id: str
    job_id: str
    title: str
    duration_minutes: int
    timezone: str = Field(description="the zone the offer was made in (the candidate's page starts in it)")
    slots: list[InterviewSlot]
    interviewers: list[str] = Field(default_factory=list)
    organizer_email: str | None = Field(default=None, description="the recruiter who offered the slots")
    offered_by: str = Field(description="who offered them (an actor: user:<sub> or api-key:<id>)")
    location: str = ""
    message: str = ""
    state: InterviewState
    start: str | None = Field(default=None, description="the booked slot's start (kept once cancelled)")
    end: str | None = None
    candidate_timezone: str | None = Field(default=None, description="the zone the candidate booked in")
    sequence: int = Field(default=0, description="the calendar invitation's sequence (0 at booking)")
    version: int = 1
    created_at: str
    updated_at: str
    booked_at: str | None = None
    cancelled_at: str | None = None
    cancelled_by: CancelledBy | None = None

    def team(self) -> list[str]:
        """Who is on the company's side: the interviewers and the recruiter who offered (once each)."""
        people = [*self.interviewers, *([self.organizer_email] if self.organizer_email else [])]
        return list(dict.fromkeys(p.lower() for p in people))

    def calendars(self) -> list[str]:
        """Whose calendars a booking takes time in: the interviewers', or the recruiter's when the
        offer names none. A slot is free only where every one of them is free."""
        owners = self.interviewers or ([self.organizer_email] if self.organizer_email else [])
        return list(dict.fromkeys(p.lower() for p in owners))

    def slot(self, start: str) -> InterviewSlot | None:
        return next((s for s in self.slots if s.start == start), None)


class InterviewFeedback(Input):
    """Feedback on one scheduled interview: the job's scorecard rated 1-4, a recommendation, notes."""

    ratings: Annotated[
        dict[ScoreLabel, Rating],
        Field(max_length=MAX_SCORECARD, description="the job's scorecard attributes, each rated 1-4"),
    ] = Field(default_factory=dict)
    recommendation: Recommendation
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""


class InterviewPage(Model):
    items: list[Interview]
    next_cursor: str | None = None


class BookingForm(Model):
    """What the candidate's page posts (a form or JSON): the link's token, what to do, the slot
    (its start, as the page lists it) and the zone the page showed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    token: str = Field(max_length=4096, description="the signed token from the emailed link")
    action: Action = "book"
    slot: str | None = Field(default=None, max_length=40, description="the chosen slot's start (book)")
    tz: TimeZoneName | None = Field(default=None, description="the zone the page showed the times in")
    seen: str | None = Field(
        default=None,
        max_length=40,
        description="the booked start the page showed ('' when none): a booking made meanwhile is a 409",
    )


class ShownSlot(Model):
    """A slot as the candidate's page shows it, in the zone they chose."""

    start: str
    end: str
    day: str
    time: str
    zone: str


class PublicInterview(Model):
    """What the candidate's link shows (JSON): no interviewer addresses, no ids but the interview's."""

    id: str
    title: str
    job_title: str
    duration_minutes: int
    state: InterviewState
    timezone: str
    location: str = ""
    message: str = ""
    booked: ShownSlot | None = None
    free_slots: list[ShownSlot] = Field(default_factory=list)


def interview_id(candidate_id: str, job_id: str, suffix: str) -> str:
    """An interview's id: its application's (person and job) and a suffix of its own, so the id
    alone finds the interview in the person's partition."""
    return f"{candidate_id}_{job_id}_{suffix}"


def split_interview_id(value: str) -> tuple[str, str, str] | None:
    """``(candidate_id, job_id, suffix)`` of an id :func:`interview_id` made; None for other text."""
    parts = value.split("_")
    if len(parts) != 3 or not all(parts) or len(value) > 200:
        return None
    if not all(p.replace("-", "").isalnum() and p.isascii() for p in parts):
        return None
    return parts[0], parts[1], parts[2]
