"""The recruiter UI's interviews: on each application of a profile, the list of its interviews with
their state (offered, booked at ..., cancelled), the form "Offer interview slots" (several
date-and-time rows read in one time zone, a length, interviewers), cancelling, and feedback on a
booked interview. A form with errors comes back on a page of its own with what was typed.

The time zone select starts at the recruiter's browser zone (``/ui/static/interview-zone.js``),
UTC without the script; each row is a wall time in that zone, so "10:00" on either side of a
daylight-saving change is 10:00 there. A wall time the clocks skip is refused, naming the row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.ui.candidates import _profile as profile_page
from chalicelib.ui.interview_view import DEFAULT_MINUTES, FORM_ROWS, describe, zone_choices
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, page, see_other, text, ui_route
from crm.candidates.models import Application
from crm.hiring.service import HiringService
from crm.hiring.team import TeamScope
from crm.interviews.models import (
    MAX_INTERVIEWERS,
    MAX_MINUTES,
    MAX_SLOTS,
    MIN_MINUTES,
    InterviewFeedback,
    InterviewOffer,
    time_zones,
)
from crm.interviews.service import InterviewService
from crm.jobs.models import Job
from crm.platform.errors import Conflict, DomainError, ValidationFailed, validation_errors_from_pydantic

bp = Blueprint(__name__)

# ------------------------------------------------------------------------------- the offer form


def slots_from_rows(
    fields: dict[str, Any], zone: str
) -> tuple[list[dict[str, str]], list[int], dict[str, str]]:
    """The filled rows as slots with the zone's offset, which row each came from, and each bad
    row's error (``slot-<n>``): not a date and time, or a wall time the clocks skip in ``zone``."""
    slots: list[dict[str, str]] = []
    rows: list[int] = []
    errors: dict[str, str] = {}
    tz = ZoneInfo(zone)
    for n in range(MAX_SLOTS):
        value = text(fields.get(f"slot-{n}"))
        if not value:
            continue
        try:
            wall = datetime.fromisoformat(value)
        except ValueError:
            errors[f"slot-{n}"] = "Use a date and a time, e.g. 2026-05-04 10:00."
            continue
        if wall.tzinfo is not None:
            wall = wall.replace(tzinfo=None)
        local = wall.replace(tzinfo=tz)
        try:
            round_trip = local.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        except OverflowError:
            errors[f"slot-{n}"] = "Use a date between the years 2 and 9998."
            continue
        if round_trip != wall:
            errors[f"slot-{n}"] = (
                f"There is no {wall:%H:%M} on {wall:%d %b} in {zone}: the clocks change then."
            )
            continue
        slots.append({"start": local.isoformat()})
        rows.append(n)
    return slots, rows, errors


def offer_data(fields: dict[str, Any]) -> tuple[dict[str, Any], list[int], dict[str, str]]:
    """The body ``InterviewOffer`` validates, the form row of each slot, and the rows' own errors."""
    zone = text(fields.get("timezone")) or "UTC"
    errors: dict[str, str] = {}
    if zone not in time_zones():
        errors["timezone"] = "Choose a time zone from the list."
        slots: list[dict[str, str]] = []
        rows: list[int] = []
    else:
        slots, rows, errors = slots_from_rows(fields, zone)
    minutes = text(fields.get("duration_minutes"))
    interviewers = [p.strip() for p in text(fields.get("interviewers")).replace("\n", ",").split(",")]
    data: dict[str, Any] = {
        "title": text(fields.get("title")) or None,
        "slots": slots,
        "duration_minutes": int(minutes) if minutes.isdigit() else minutes,
        "timezone": zone,
        "interviewers": [p for p in interviewers if p],
        "location": text(fields.get("location")),
        "message": text(fields.get("message")),
    }
    return data, rows, errors


def form_errors(errors: list[dict[str, str]], rows: list[int]) -> dict[str, str]:
    """Errors by form field: ``slots.<n>.start`` is the row it came from, ``slots`` the rows."""
    found: dict[str, str] = {}
    for error in errors:
        parts = error["field"].split(".")
        name = parts[0]
        if name == "slots" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(rows):
            name = f"slot-{rows[int(parts[1])]}"
        found.setdefault(name, error["message"][:1].upper() + error["message"][1:])
    return found


def _rows_shown(values: dict[str, str]) -> int:
    """Rows enough for every filled one the form came back with (at least the usual number)."""
    filled = [
        int(name[5:]) + 1
        for name, value in values.items()
        if name.startswith("slot-") and name[5:].isdigit() and int(name[5:]) < MAX_SLOTS and value
    ]
    return max([FORM_ROWS, *filled])


def _offer_page(
    session: Session,
    application: Application,
    job: Job,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status: int,
) -> Response:
    return page(
        "ui_interview_offer.html",
        status=status,
        session=session,
        application=application,
        job=job,
        interviews=[describe(i) for i in InterviewService().of_application(application.id)],
        values=values,
        errors=errors,
        zones=zone_choices(),
        rows_shown=_rows_shown(values),
        minutes=(MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES),
        max_interviewers=MAX_INTERVIEWERS,
        problem="Nothing was offered; see the marked fields." if errors else None,
    )


@ui_route(
    "/ui/applications/{application_id}/interviews",
    "GET",
    "Recruiter UI: an application's interviews and the form to offer slots",
    blueprint=bp,
    errors=(404,),
)
def ui_interviews(call: Call, session: Session, fields: dict[str, Any], application_id: str) -> Response:
    application, job = HiringService().application(application_id)
    values = {"duration_minutes": str(DEFAULT_MINUTES), "timezone": "UTC"}
    return _offer_page(session, application, job, values, {}, status=200)


@ui_route(
    "/ui/applications/{application_id}/interviews",
    "POST",
    "Recruiter UI: offer interview slots (form: csrf, title, slot-0..slot-19 as local date-times, "
    "timezone, duration_minutes, interviewers, location, message)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_offer(call: Call, session: Session, fields: dict[str, Any], application_id: str) -> Response:
    application, job = HiringService().application(application_id)
    values = {name: text(value) for name, value in fields.items() if name != "csrf"}
    data, rows, errors = offer_data(fields)
    if not errors:
        try:
            offer = InterviewOffer.model_validate(data)
            principal = session.principal
            InterviewService().offer(application_id, offer, actor=principal.actor, email=principal.email)
        except ValidationError as exc:
            errors = form_errors(validation_errors_from_pydantic(exc), rows)
        except ValidationFailed as exc:
            errors = form_errors(exc.errors, rows) or {"form": exc.detail}
        except Conflict as exc:
            return _offer_page(session, application, job, values, {"form": exc.detail}, status=409)
    if errors:
        return _offer_page(session, application, job, values, errors, status=422)
    where = f"/ui/candidates/{quote(application.candidate_id)}?done=interview-offered"
    return see_other(f"{where}#interviews-{quote(application_id)}")


# ------------------------------------------------------------------------------- cancel, feedback


@ui_route(
    "/ui/interviews/{interview_id}/cancel",
    "POST",
    "Recruiter UI: cancel an interview (form: csrf)",
    blueprint=bp,
    errors=(403, 404, 409),
)
def ui_cancel(call: Call, session: Session, fields: dict[str, Any], interview_id: str) -> Response:
    service = InterviewService()
    interview = service.get(interview_id)
    try:
        service.cancel(interview_id, by="recruiter", actor=session.principal.actor)
    except DomainError as exc:
        return profile_page(call, session, interview.candidate_id, status=409, problem=exc.detail)
    where = f"/ui/candidates/{quote(interview.candidate_id)}?done=interview-cancelled"
    return see_other(f"{where}#interviews-{quote(interview.application_id)}")


@ui_route(
    "/ui/interviews/{interview_id}/feedback",
    "POST",
    "Recruiter UI: give feedback on a booked interview "
    "(form: csrf, rating-<n> per scorecard attribute, recommendation, notes)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
    team=True,
)
def ui_interview_feedback(
    call: Call, session: Session, fields: dict[str, Any], interview_id: str
) -> Response:
    service = InterviewService()
    interview = service.get(interview_id)
    _, job = TeamScope(session.principal).application(interview.application_id)
    ratings = {a: v for n, a in enumerate(job.scorecard) if (v := text(fields.get(f"rating-{n}")))}
    data = {
        "ratings": ratings,
        "recommendation": text(fields.get("recommendation")),
        "notes": text(fields.get("notes")),
    }
    principal = session.principal
    try:
        service.give_feedback(
            interview_id,
            InterviewFeedback.model_validate(data),
            actor=principal.actor,
            subject=principal.subject,
            email=principal.email,
        )
    except ValidationError as exc:
        problem = "; ".join(f"{e['field']}: {e['message']}" for e in validation_errors_from_pydantic(exc))
    except (ValidationFailed, Conflict) as exc:
        problem = "; ".join(e["message"] for e in exc.errors) or exc.detail
    else:
        where = f"/ui/candidates/{quote(interview.candidate_id)}?done=feedback"
        return see_other(f"{where}#interviews-{quote(interview.application_id)}")
    problem = problem.replace("ratings.", "").replace("recommendation:", "Overall recommendation:")
    return profile_page(
        call,
        session,
        interview.candidate_id,
        status=422,
        problem=f"The feedback was not saved: {problem[:1].upper()}{problem[1:]}",
    )
