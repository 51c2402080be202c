"""What the recruiter's pages show of interviews: each interview's state in words, the interviews
of a profile's applications (with those the viewer gave feedback on), and the time zone choices.
Pure reads; the forms are ``chalicelib.ui.interviews``'."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.web.ui import Session
from crm.candidates.models import Application
from crm.hiring.models import RECOMMENDATIONS, Feedback
from crm.hiring.service import HiringService
from crm.interviews.models import MAX_MINUTES, MIN_MINUTES, Interview, InterviewSlot
from crm.interviews.service import InterviewService
from crm.interviews.slots import moment, spoken, zone_groups

#: Date-and-time rows the offer form shows (an offer takes up to 20: the API takes more at once).
FORM_ROWS = 6
DEFAULT_MINUTES = 60


zone_choices = zone_groups


def describe(interview: Interview) -> dict[str, Any]:
    """One interview as the list shows it: its state in words, and what may be done with it."""
    when = ""
    if interview.start and interview.end:
        when = spoken(InterviewSlot(start=interview.start, end=interview.end), interview.timezone)
    if interview.state == "booked":
        state, kind = f"Booked for {when}", "ok"
    elif interview.state == "cancelled":
        by = "the candidate" if interview.cancelled_by == "candidate" else "a recruiter"
        state, kind = f"Cancelled by {by}" + (f" (was {when})" if when else ""), "bad"
    else:
        count = len(interview.slots)
        state, kind = f"Offered: {count} time{'s' if count != 1 else ''}, not booked yet", "info"
    return {
        "interview": interview,
        "state": state,
        "kind": kind,
        "times": [spoken(s, interview.timezone) for s in interview.slots],
        "card": card_words(interview),
    }


def card_words(interview: Interview) -> str:
    """An interview in a few words, for a card on a job's board (booked: in the offer's zone)."""
    if interview.state == "booked" and interview.start:
        start = moment(interview.start).astimezone(ZoneInfo(interview.timezone))
        return f"Interview {start:%a} {start.day} {start:%b}, {start:%H:%M} {start.tzname() or ''}".rstrip()
    if interview.state == "offered":
        return "Interview offered, not booked yet"
    return "Interview cancelled"


def board_cards(job_id: str) -> dict[str, str]:
    """Each application of a job's board with an interview: its newest interview in words."""
    return {k: card_words(i) for k, i in InterviewService().latest_by_application(job_id).items()}


@dataclass
class InterviewsView:
    """What the profile's applications show of interviews (``templates/ui_interviews.html``)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mine: set[str] = field(default_factory=set)  # interviews the viewer gave feedback on
    zones: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    recommendations: dict[str, str] = field(default_factory=lambda: dict(RECOMMENDATIONS))
    rows_shown: int = FORM_ROWS
    minutes: tuple[int, int, int] = (MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES)


def for_profile(candidate_id: str, applications: list[Application], session: Session) -> InterviewsView:
    """The interviews of the applications a profile shows, newest first per application."""
    wanted = {a.id for a in applications}
    interviews = [i for i in InterviewService().of_candidate(candidate_id) if i.application_id in wanted]
    rows: dict[str, list[dict[str, Any]]] = {}
    for interview in interviews:
        rows.setdefault(interview.application_id, []).append(describe(interview))
    mine: set[str] = set()
    if any(i.state == "booked" for i in interviews):
        given: list[Feedback] = []
        repository = HiringService().feedback
        for job_id in {i.job_id for i in interviews}:
            given.extend(repository.of_application(candidate_id, job_id))
        actor = session.principal.actor
        mine = {f.interview_id for f in given if f.interview_id and f.author == actor}
    return InterviewsView(rows=rows, mine=mine, zones=zone_choices())
