"""The recruiter UI: recruiting events (list, new and edit forms, the event's page with its figures
and who came) and the phone-friendly check-in desk.

The forms use what the JSON API uses (``EventCreate``, ``EventPatch``, ``EventService``). A form
gives the day and the clock times in the event's own time zone; they are turned into aware times
here, so a time is never stored without its zone.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    UI_HEADERS,
    Session,
    field_errors,
    page,
    paging,
    query_value,
    see_other,
    text,
    ui_route,
)
from crm.events.models import (
    KIND_LABELS,
    MODE_LABELS,
    CheckIn,
    CheckInRequest,
    Event,
    EventCreate,
    EventPatch,
    WalkIn,
)
from crm.events.service import EventService, has_ended, local_text, local_time, when_text
from crm.events.tickets import read_checkin_token
from crm.platform.errors import Conflict, DomainError, ValidationFailed, validation_errors_from_pydantic
from crm.platform.ids import new_id

bp = Blueprint(__name__)

PAGE_SIZE = 50
#: Time zones offered first in the form (any IANA name may be typed).
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
EMPTY_FORM = {
    "name": "",
    "kind": "career_fair",
    "date": "",
    "start_time": "10:00",
    "end_date": "",
    "end_time": "16:00",
    "timezone": "Europe/Berlin",
    "mode": "in_person",
    "venue_name": "",
    "venue_street": "",
    "venue_postal_code": "",
    "venue_city": "",
    "venue_region": "",
    "venue_country": "",
    "join_url": "",
    "capacity": "50",
    "deadline": "",
    "description": "",
    "tags": "",
    "organizer": "",
}
#: Which form field shows the error of each model field.
ERROR_FIELDS = {
    "starts_at": "start_time",
    "ends_at": "end_time",
    "registration_deadline": "deadline",
    "venue": "venue_name",
    "venue.name": "venue_name",
    "venue.street": "venue_street",
    "venue.postal_code": "venue_postal_code",
    "venue.city": "venue_city",
    "venue.region": "venue_region",
    "venue.country": "venue_country",
}
NOTICES = {
    "created": "The event is created as a draft: publish it to put it on the career site.",
    "saved": "The event's details are saved.",
    "published": "The event is published: it is on the career site and takes registrations.",
    "cancelled": "The event is cancelled: everybody registered or waiting is told by email.",
    "finished": "The event is marked as over.",
}
ACTIONS = {"publish": "published", "cancel": "cancelled", "finish": "finished"}


# ---------------------------------------------------------------------------------- the form


def form_of(event: Event) -> dict[str, str]:
    """An event as its edit form shows it: the day and times on the event's clock."""
    start, end = event.local(event.starts_at), event.local(event.ends_at)
    venue = event.venue
    deadline = event.local(event.registration_deadline) if event.registration_deadline else None
    return {
        "name": event.name,
        "kind": event.kind,
        "date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_date": "" if end.date() == start.date() else end.date().isoformat(),
        "end_time": end.strftime("%H:%M"),
        "timezone": event.timezone,
        "mode": event.mode,
        "venue_name": venue.name if venue else "",
        "venue_street": (venue.street or "") if venue else "",
        "venue_postal_code": (venue.postal_code or "") if venue else "",
        "venue_city": venue.city if venue else "",
        "venue_region": (venue.region or "") if venue else "",
        "venue_country": venue.country if venue else "",
        "join_url": event.join_url or "",
        "capacity": str(event.capacity),
        "deadline": deadline.strftime("%Y-%m-%dT%H:%M") if deadline else "",
        "description": event.description,
        "tags": ", ".join(event.tags),
        "organizer": event.organizer or "",
    }


def _local(day: str, clock: str, zone: ZoneInfo | None, field: str, errors: dict[str, str]) -> str | None:
    """A day and a clock time on the event's clock, as an aware ISO time (None: an error noted)."""
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        errors.setdefault(field, "Give a day (YYYY-MM-DD) and a time (HH:MM)")
        return None
    if zone is None:
        return None
    return moment.replace(tzinfo=zone).isoformat()


def _zone(name: str, errors: dict[str, str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        errors.setdefault("timezone", "Give an IANA time zone name, e.g. Europe/Berlin")
        return None


def values_of(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as the API's fields, and the errors found turning it into them."""
    errors: dict[str, str] = {}
    zone = _zone(form["timezone"], errors) if form["timezone"] else None
    if not form["timezone"]:
        errors["timezone"] = "Choose the event's time zone"
    starts = _local(form["date"], form["start_time"], zone, "start_time", errors)
    ends = _local(form["end_date"] or form["date"], form["end_time"], zone, "end_time", errors)
    deadline = None
    if form["deadline"]:
        day, _, clock = form["deadline"].partition("T")
        deadline = _local(day, clock, zone, "deadline", errors)
    venue = None
    if form["mode"] == "in_person" or any(form[f"venue_{p}"] for p in ("name", "city", "country")):
        venue = {
            "name": form["venue_name"],
            "street": form["venue_street"] or None,
            "postal_code": form["venue_postal_code"] or None,
            "city": form["venue_city"],
            "region": form["venue_region"] or None,
            "country": form["venue_country"],
        }
        if form["mode"] == "online":
            venue = None
    capacity: Any = form["capacity"]
    if capacity.isdigit():
        capacity = int(capacity)
    values = {
        "name": form["name"],
        "kind": form["kind"],
        "starts_at": starts,
        "ends_at": ends,
        "timezone": form["timezone"],
        "mode": form["mode"],
        "venue": venue,
        "join_url": form["join_url"] or None,
        "capacity": capacity,
        "registration_deadline": deadline,
        "description": form["description"],
        "tags": form["tags"],
        "organizer": form["organizer"] or None,
    }
    return values, errors


def _errors_of(items: list[dict[str, str]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for e in items:
        field = e["field"]
        name = ERROR_FIELDS.get(field) or ERROR_FIELDS.get(field.split(".")[0]) or field.split(".")[0]
        errors.setdefault(name, e["message"])
    return errors


def _form_fields(fields: dict[str, Any]) -> dict[str, str]:
    return {name: text(fields.get(name)) for name in EMPTY_FORM}


def _form_page(
    session: Session, form: dict[str, str], errors: dict[str, str], *, event: Event | None, status: int = 200
) -> Response:
    return page(
        "ui_event_form.html",
        status=status,
        session=session,
        form=form,
        errors=errors,
        event=event,
        kinds=KIND_LABELS,
        modes=MODE_LABELS,
        zones=COMMON_ZONES,
    )


# ---------------------------------------------------------------------------------- pages


@ui_route(
    "/ui/events", "GET", "Recruiter UI: recruiting events, the latest start first (?cursor)", blueprint=bp
)
def ui_events(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    cursor = query_value(call, "cursor") or None
    items, next_cursor = EventService().list_page(status=None, limit=PAGE_SIZE, cursor=cursor)
    rows = [{"event": e, "when": when_text(e)} for e in items]
    return page("ui_events.html", session=session, rows=rows, **paging("/ui/events", cursor, next_cursor))


@ui_route("/ui/events/new", "GET", "Recruiter UI: the form for a new event", blueprint=bp)
def ui_new_event(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _form_page(session, dict(EMPTY_FORM), {}, event=None)


@ui_route(
    "/ui/events",
    "POST",
    "Recruiter UI: create an event as a draft (form: csrf, name, kind, date, start_time, end_time, timezone, "
    "mode, venue_*, join_url, capacity, deadline, description, tags, organizer)",
    blueprint=bp,
    errors=(422,),
)
def ui_create_event(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = _form_fields(fields)
    values, errors = values_of(form)
    if errors:
        return _form_page(session, form, errors, event=None, status=422)
    try:
        event = EventService().create(EventCreate.model_validate(values), actor=session.principal.actor)
    except ValidationError as exc:
        return _form_page(
            session, form, _errors_of(validation_errors_from_pydantic(exc)), event=None, status=422
        )
    except ValidationFailed as exc:
        return _form_page(session, form, _errors_of(exc.errors), event=None, status=422)
    return see_other(f"/ui/events/{quote(event.id)}?done=created")


@ui_route(
    "/ui/events/{event_id}",
    "GET",
    "Recruiter UI: one event: its details, status buttons, figures, who came and who registered",
    blueprint=bp,
    errors=(404,),
)
def ui_event(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    return _event_page(call, session, event_id)


def _event_page(
    call: Call, session: Session, event_id: str, *, problem: str = "", status: int = 200
) -> Response:
    service = EventService()
    event = service.get(event_id)
    registered, _ = service.registrations_page(event_id, state="registered", limit=500, cursor=None)
    waiting, _ = service.registrations_page(event_id, state="waitlisted", limit=500, cursor=None)
    came = sorted((r for r in registered if r.checked_in_at), key=lambda r: str(r.checked_in_at))
    now = service.now()
    return page(
        "ui_event.html",
        status=status,
        session=session,
        event=event,
        when=when_text(event),
        closes=local_text(event, event.closes_at),
        registered=registered,
        waiting=waiting,
        came=[{"registration": r, "at": local_time(event, str(r.checked_in_at))} for r in came],
        ended=has_ended(event, now),
        started=event.local() <= now,
        notice=NOTICES.get(query_value(call, "done"), ""),
        problem=problem,
    )


@ui_route(
    "/ui/events/{event_id}/edit",
    "GET",
    "Recruiter UI: the form to change an event's details",
    blueprint=bp,
    errors=(404,),
)
def ui_edit_event(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    event = EventService().get(event_id)
    return _form_page(session, form_of(event), {}, event=event)


@ui_route(
    "/ui/events/{event_id}",
    "POST",
    "Recruiter UI: save an event's details over the version read (form: csrf, version, the new-event fields)",
    blueprint=bp,
    errors=(404, 409, 422),
)
def ui_save_event(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    service = EventService()
    event = service.get(event_id)
    form = _form_fields(fields)
    values, errors = values_of(form)
    if errors:
        return _form_page(session, form, errors, event=event, status=422)
    patch_values = {k: v for k, v in values.items()}
    patch_values["version"] = text(fields.get("version")) or None
    try:
        service.update(event_id, EventPatch.model_validate(patch_values))
    except ValidationError as exc:
        return _form_page(
            session, form, _errors_of(validation_errors_from_pydantic(exc)), event=event, status=422
        )
    except ValidationFailed as exc:
        return _form_page(session, form, _errors_of(exc.errors), event=event, status=422)
    except Conflict as exc:
        current = service.get(event_id)
        return page(
            "ui_event_form.html",
            status=409,
            session=session,
            form=form,
            errors={},
            event=current,
            kinds=KIND_LABELS,
            modes=MODE_LABELS,
            zones=COMMON_ZONES,
            problem=exc.detail + " Nothing was saved: reload the page to see the event as it is now.",
        )
    return see_other(f"/ui/events/{quote(event_id)}?done=saved")


@ui_route(
    "/ui/events/{event_id}/status",
    "POST",
    "Recruiter UI: publish, cancel or finish an event (form: csrf, action)",
    blueprint=bp,
    errors=(404, 409, 422),
)
def ui_event_status(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    action = text(fields.get("action"))
    service = EventService()
    actor = session.principal.actor
    try:
        if action == "publish":
            service.publish(event_id, actor=actor)
        elif action == "cancel":
            service.cancel(event_id, actor=actor)
        elif action == "finish":
            service.finish(event_id, actor=actor)
        else:
            return _event_page(
                call, session, event_id, problem="Choose publish, cancel or finish.", status=422
            )
    except (Conflict, ValidationFailed) as exc:
        detail = exc.detail
        if isinstance(exc, ValidationFailed) and exc.errors:
            detail += " " + "; ".join(e["message"] for e in exc.errors) + "."
        return _event_page(
            call, session, event_id, problem=detail, status=409 if isinstance(exc, Conflict) else 422
        )
    except DomainError:
        raise
    return see_other(f"/ui/events/{quote(event_id)}?done={ACTIONS[action]}")


# ---------------------------------------------------------------------------------- the check-in desk


def _wants_json(call: Call) -> bool:
    return "application/json" in (call.request.headers.get("accept") or "")


def _desk(
    call: Call,
    session: Session,
    event_id: str,
    *,
    result: CheckIn | None = None,
    problem: str = "",
    status: int = 200,
    walk_in_form: dict[str, str] | None = None,
    walk_in_errors: dict[str, str] | None = None,
) -> Response:
    service = EventService()
    event = service.get(event_id)
    q = query_value(call, "q")[:100]
    token = query_value(call, "token")
    scanned = None
    if token and result is None and not problem:
        try:
            candidate_id = read_checkin_token(token, event_id=event_id, now=service.now())
        except ValidationFailed as exc:
            problem, status = exc.errors[0]["message"] if exc.errors else exc.detail, 422
        else:
            registration = service.registration(event_id, candidate_id)
            if registration is None or registration.state == "cancelled":
                problem, status = (
                    "This registration was cancelled: find the person by name to check them in.",
                    422,
                )
            else:
                scanned = registration
    matches = service.attendees(event_id, q=q, limit=30) if q else []
    return page(
        "ui_event_checkin.html",
        status=status,
        session=session,
        event=event,
        when=when_text(event),
        q=q,
        matches=matches,
        scanned=scanned,
        scanned_at=local_time(event, scanned.checked_in_at) if scanned and scanned.checked_in_at else "",
        token=token,
        result=result,
        problem=problem,
        request_id=new_id,
        walk_in=walk_in_form or {"first_name": "", "last_name": "", "email": ""},
        walk_in_errors=walk_in_errors or {},
    )


@ui_route(
    "/ui/events/{event_id}/check-in",
    "GET",
    "Recruiter UI: the check-in desk for a phone: scan a code (where the browser can), search by name or "
    "email (?q) and check in with one tap, or register a walk-in; ?token= is a scanned code to confirm",
    blueprint=bp,
    errors=(404, 422),
)
def ui_check_in_desk(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    return _desk(call, session, event_id)


@ui_route(
    "/ui/events/{event_id}/check-in",
    "POST",
    "Recruiter UI: check someone in (form: csrf, token or candidate_id, request_id; safe to retry). "
    "With Accept: application/json the answer is the check-in as JSON (the desk's scanner)",
    blueprint=bp,
    errors=(404, 409, 422),
)
def ui_check_in(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    values = {
        "token": text(fields.get("token")) or None,
        "candidate_id": text(fields.get("candidate_id")) or None,
        "request_id": text(fields.get("request_id")) or None,
    }
    try:
        request = CheckInRequest.model_validate(values)
        answer = EventService().check_in(event_id, request, actor=session.principal.actor)
    except ValidationError as exc:
        message = "; ".join(e["message"] for e in validation_errors_from_pydantic(exc))
        return _desk_refusal(call, session, event_id, message, 422)
    except (ValidationFailed, Conflict) as exc:
        message = exc.errors[0]["message"] if isinstance(exc, ValidationFailed) and exc.errors else exc.detail
        return _desk_refusal(
            call, session, event_id, message, 422 if isinstance(exc, ValidationFailed) else 409
        )
    if _wants_json(call):
        return Response(
            body=answer.model_dump_json(),
            status_code=200,
            headers={**UI_HEADERS, "Content-Type": "application/json"},
        )
    return _desk(call, session, event_id, result=answer)


def _desk_refusal(call: Call, session: Session, event_id: str, message: str, status: int) -> Response:
    if _wants_json(call):
        body = json.dumps({"status": status, "detail": message})
        return Response(
            body=body, status_code=status, headers={**UI_HEADERS, "Content-Type": "application/problem+json"}
        )
    return _desk(call, session, event_id, problem=message, status=status)


@ui_route(
    "/ui/events/{event_id}/walk-in",
    "POST",
    "Recruiter UI: register and check in someone new at the door (form: csrf, first_name, last_name, email, "
    "marketing_consent)",
    blueprint=bp,
    errors=(404, 409, 422),
)
def ui_walk_in(call: Call, session: Session, fields: dict[str, Any], event_id: str) -> Response:
    form = {name: text(fields.get(name)) for name in ("first_name", "last_name", "email")}
    try:
        data = WalkIn.model_validate(
            {**form, "marketing_consent": bool(text(fields.get("marketing_consent")))}
        )
        answer = EventService().walk_in(event_id, data, actor=session.principal.actor)
    except ValidationError as exc:
        return _desk(
            call,
            session,
            event_id,
            status=422,
            walk_in_form=form,
            walk_in_errors=field_errors(exc),
            problem="The walk-in was not registered; see the marked fields.",
        )
    except Conflict as exc:
        return _desk(call, session, event_id, problem=exc.detail, status=409, walk_in_form=form)
    return _desk(call, session, event_id, result=answer)
