"""The recruiter UI: nurture sequences (steps and editing them, enrolment, progress, pause and
resume, taking someone out) and the recruiter's reminders.

Views are thin: creating, editing the steps, pausing, enrolling and unenrolling go through
``crm.sequences.service``, exactly as ``POST /v1/sequences``, ``PATCH /v1/sequences/{id}`` and
``POST``/``DELETE /v1/sequences/{id}/enrollments`` do, so the forms get the same validation and
the same "enrolling again changes nothing" rule.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    Session,
    display_names,
    page,
    paging,
    query_value,
    see_other,
    text,
    ui_route,
)
from crm.candidates.service import CandidateService
from crm.platform import clock
from crm.platform.errors import NotFound, ValidationFailed, VersionConflict, validation_errors_from_pydantic
from crm.platform.ids import iso
from crm.pools.models import Pool
from crm.pools.service import PoolService
from crm.reminders.models import Reminder
from crm.reminders.service import ReminderService
from crm.sequences import service as sequences
from crm.sequences.models import (
    STOP_CHOICES,
    STOP_EVENTS,
    EnrollmentRequest,
    EnrollmentResult,
    Sequence,
    SequenceCreate,
    SequenceUpdate,
)
from crm.sequences.service import SequenceService
from crm.templates.models import EmailTemplate
from crm.templates.service import TemplateService

bp = Blueprint(__name__)

#: Step rows the new-sequence form shows; rows left empty are ignored.
STEP_ROWS = 5
MAX_STEP_ROWS = 20
#: Empty rows the edit form shows below a sequence's steps: filling one adds a step (no script needed).
EXTRA_ROWS = 3
#: Rows the edit form reads: as many steps as a sequence may have, and the empty rows below them.
EDIT_ROWS = MAX_STEP_ROWS + EXTRA_ROWS
PAGE_SIZE = 50
#: Stop rules the domain always applies, whatever the form says.
ALWAYS_STOP = ("erased", "unsubscribed")
STOP_LABELS = {
    "applied": "the candidate applies to a job",
    "unsubscribed": "the candidate unsubscribes (always)",
    "erased": "the candidate's record is erased (always)",
    "replied": "the candidate replies to a one-to-one email",
}
STOPPED_BECAUSE = {
    "applied": "they applied to a job",
    "unsubscribed": "they unsubscribed",
    "erased": "their record was erased",
    "replied": "they replied to an email",
    "no_consent": "skipped: they have not agreed to marketing email",
    "suppressed": "skipped: their address bounced or complained",
}
#: Why someone was not enrolled, as the enrolment form's notice says it.
SKIPPED_BECAUSE = {
    "no_consent": "they have not agreed to marketing email",
    "suppressed": "their address is suppressed (bounced, complained or unsubscribed from everything)",
    "unknown": "no such candidate (any more)",
    "already_enrolled": "already in this sequence (nothing changed for them)",
}
#: People the notice names after an enrolment (the rest are counted).
NAMED_SKIPS = 20
UNITS = ("days", "hours")
MAX_EMAILS = 500
EMAIL_SPLIT = re.compile(r"[\s,;]+")


def _all(list_page: Any, limit: int = 100, pages: int = 5) -> list[Any]:
    """Every item of a repository's ``list_page`` (a few pages at most: a form's choices)."""
    out: list[Any] = []
    cursor = None
    for _ in range(pages):
        items, cursor = list_page(limit=limit, cursor=cursor)
        out += items
        if not cursor:
            break
    return out


def _templates() -> list[EmailTemplate]:
    return _all(TemplateService().list_page)


def _pools() -> list[Pool]:
    return _all(PoolService().list_page)


def when(value: str | None) -> str:
    """An ISO time as a person reads it (UTC, to the minute)."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def delay_text(days: float) -> str:
    if days == 0:
        return "straight away"
    hours = days * 24
    if days != int(days) and abs(hours - round(hours)) < 1e-6:
        return f"{round(hours)} hour{'s' if round(hours) != 1 else ''}"
    shown = int(days) if days == int(days) else round(days, 2)
    return f"{shown} day{'s' if shown != 1 else ''}"


# ------------------------------------------------------------------------------- list


@ui_route("/ui/sequences", "GET", "Recruiter UI: nurture sequences", blueprint=bp)
def ui_sequences(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    cursor = query_value(call, "cursor") or None
    items, next_cursor = SequenceService().list_page(limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_sequences.html",
        when=when,
        session=session,
        items=items,
        stop_labels=STOPPED_BECAUSE,
        **paging("/ui/sequences", cursor, next_cursor),
    )


# ------------------------------------------------------------------------------- new


def _blank_form() -> dict[str, Any]:
    return {
        "name": "",
        "stop_on": list(STOP_EVENTS),
        "steps": [{"template_id": "", "delay": "", "unit": "days"} for _ in range(STEP_ROWS)],
    }


def _new_page(
    session: Session,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    return page(
        "ui_sequence_new.html",
        status=status,
        session=session,
        form=form or _blank_form(),
        errors=errors or {},
        problem=problem,
        templates=_templates(),
        stop_events=STOP_CHOICES,
        always_stop=ALWAYS_STOP,
        stop_labels=STOP_LABELS,
        units=UNITS,
    )


@ui_route("/ui/sequences/new", "GET", "Recruiter UI: the new-sequence form", blueprint=bp)
def ui_new_sequence(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _new_page(session)


def _as_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [v.strip() for v in values if isinstance(v, str)]


def _typed_row(fields: dict[str, Any], index: int) -> dict[str, Any]:
    """Step row ``index`` of a form as typed (``remove``: its "Remove this step" box is ticked)."""
    return {
        "template_id": text(fields.get(f"step-{index}-template")),
        "delay": text(fields.get(f"step-{index}-delay")),
        "unit": text(fields.get(f"step-{index}-unit")) or "days",
        "remove": bool(text(fields.get(f"step-{index}-remove"))),
    }


def _filled(row: dict[str, Any]) -> bool:
    return bool(row["template_id"] or row["delay"])


def _typed_form(fields: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for index in range(MAX_STEP_ROWS):
        row = _typed_row(fields, index)
        if index < STEP_ROWS or row["template_id"] or row["delay"]:
            rows.append(row)
    while rows and len(rows) > STEP_ROWS and not (rows[-1]["template_id"] or rows[-1]["delay"]):
        rows.pop()
    chosen = [v for v in _as_list(fields.get("stop_on")) if v]
    return {"name": text(fields.get("name")), "stop_on": chosen, "steps": rows}


def _delay_days(row: dict[str, Any]) -> Any:
    """The typed delay in days (hours are converted); anything unreadable goes to the model as is,
    which names the field."""
    if row["unit"] not in UNITS:
        return None
    try:
        value = float(row["delay"])
    except ValueError:
        return row["delay"] or None
    return value / 24 if row["unit"] == "hours" else value


def _field_of(error_field: str, rows: list[int]) -> str:
    """A model error's field (``steps.1.template_id``) as the form's (``step-<row>-template``)."""
    parts = error_field.split(".")
    if parts[0] == "steps" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
        row = rows[int(parts[1])]
        if len(parts) >= 3 and parts[2] == "delay_days":
            return f"step-{row}-delay"
        return f"step-{row}-template"
    if parts[0] in ("name", "steps", "stop_on"):
        return parts[0]
    return "form"


MESSAGES = {
    "template": "Choose a template that exists.",
    "delay": "Enter a wait from 0 to 365 days (or the same in hours).",
    "name": "Give the sequence a name (at most 200 characters).",
    "steps": "Add at least one step (at most 20): choose a template and a wait.",
    "stop_on": "Choose stop rules from the list.",
}


def _message(field: str) -> str:
    return MESSAGES.get(
        field.rsplit("-", 1)[-1] if field.startswith("step-") else field, "This is not valid."
    )


def _steps_of(form: dict[str, Any], rows: list[int]) -> list[dict[str, Any]]:
    """The form's rows ``rows`` as the model's steps (``template_id``, ``delay_days``)."""
    return [
        {"template_id": form["steps"][i]["template_id"], "delay_days": _delay_days(form["steps"][i])}
        for i in rows
    ]


def _form_errors(exc: ValidationError | ValidationFailed, rows: list[int]) -> dict[str, str]:
    """A model's or the service's errors as the form's fields' messages (``rows``: the form row of
    each step sent, in order)."""
    found = validation_errors_from_pydantic(exc) if isinstance(exc, ValidationError) else exc.errors
    errors: dict[str, str] = {}
    for e in found:
        field = _field_of(str(e.get("field", "")), rows)
        errors.setdefault(field, _message(field))
    return errors


def _version(fields: dict[str, Any]) -> Any:
    """The form's hidden ``version`` for the model: a number when it reads as one, else as sent
    (the model names it)."""
    version = text(fields.get("version"))
    return int(version) if version.isdigit() and len(version) < 10 else version or None


@ui_route(
    "/ui/sequences",
    "POST",
    "Recruiter UI: create a sequence (form: csrf, name, stop_on, step-<n>-template, step-<n>-delay, "
    "step-<n>-unit)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_create_sequence(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = _typed_form(fields)
    rows = [i for i, row in enumerate(form["steps"]) if _filled(row)]
    data = {"name": form["name"], "stop_on": form["stop_on"], "steps": _steps_of(form, rows)}
    form["stop_on"] = sorted({*form["stop_on"], *ALWAYS_STOP})
    try:
        sequence = sequences.create_sequence(SequenceCreate.model_validate(data))
    except (ValidationError, ValidationFailed) as exc:
        errors = _form_errors(exc, rows)
    else:
        return see_other(f"/ui/sequences/{sequence.id}?done=created")
    problem = "The sequence was not saved: see the marked fields."
    if "form" in errors:
        problem = "This page is out of date; reload it and try again."
    return _new_page(session, status=422, form=form, errors=errors, problem=problem)


# ------------------------------------------------------------------------------- one sequence


def _count(query: dict[str, str], name: str) -> int:
    value = query.get(name) or ""
    return int(value) if value.isdigit() and len(value) < 7 else 0


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


NOTICES = {
    "created": "The sequence is saved. Enrol candidates below.",
    "paused": "The sequence is paused: nothing is sent until you resume it. Steps that fall due "
    "meanwhile wait.",
    "resumed": "The sequence is running again: steps that waited while it was paused go out within a minute.",
    "stale": "Someone else changed this sequence meanwhile; this is how it is now. Try again.",
    "saved": "Steps saved. People already in the sequence carry on from the step they are at.",
    "removed": "The candidate is out of the sequence: nothing more from it is sent to them.",
    "not-enrolled": "That candidate is not in this sequence (any more).",
}


def _enrol_report(query: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """The notice after an enrolment, and who was skipped (candidate id, why) as far as named."""
    enrolled = _count(query, "enrolled")
    notice = f"{_plural(enrolled, 'candidate was', 'candidates were')} enrolled."
    skipped = {reason: _count(query, reason) for reason in SKIPPED_BECAUSE}
    already = _count(query, "already") or skipped["already_enrolled"]
    missing = _count(query, "missing") or skipped["unknown"]
    others = skipped["no_consent"] + skipped["suppressed"]
    if already:
        notice += (
            f" {already} {'were' if already != 1 else 'was'} already enrolled (nothing changed for them)."
        )
    if missing:
        notice += f" {missing} could not be found."
    if others:
        notice += f" {_plural(others, 'was', 'were')} skipped because we may not email them:"
    named: list[tuple[str, str]] = []
    for entry in (query.get("skipped") or "").split(",")[:NAMED_SKIPS]:
        reason, _, candidate_id = entry.partition(":")
        if reason in ("no_consent", "suppressed") and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", candidate_id):
            named.append((candidate_id, reason))
    return notice, named


def _report_query(result: EnrollmentResult) -> dict[str, str]:
    """What the page after an enrolment shows, as its query: counts, and the first people skipped
    for consent or suppression by id (names are looked up when the page is shown)."""
    query = {"done": "enrolled", "enrolled": str(result.enrolled), "already": str(result.already_enrolled)}
    if result.not_found:
        query["missing"] = str(len(result.not_found))
    named = []
    for skip in result.skipped:
        if skip.reason in ("no_consent", "suppressed"):
            query[skip.reason] = str(int(query.get(skip.reason, "0")) + 1)
            named.append(f"{skip.reason}:{skip.candidate_id}")
    if named:
        query["skipped"] = ",".join(named[:NAMED_SKIPS])
    return query


def _sequence_page(
    call: Call,
    session: Session,
    sequence_id: str,
    *,
    status: int = 200,
    enrol: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    sequence: Sequence = SequenceService().get(sequence_id, with_progress=True)
    query = dict(call.request.query_params or {})
    cursor = query.get("cursor") or None
    rows, next_cursor = sequences.progress_page(sequence_id, limit=PAGE_SIZE, cursor=cursor)
    templates = TemplateService()
    ids = [s.template_id for s in sequence.steps]
    names = {i: i for i in ids} | display_names(templates.get, ids)  # a template removed since: its id
    here = f"/ui/sequences/{sequence_id}"
    notice, report, unnamed = None, [], 0
    if status == 200 and query.get("done") == "enrolled":
        notice, named = _enrol_report(query)
        people = CandidateService().get_many([c for c, _ in named]) if named else {}
        report = [(people.get(c), c, SKIPPED_BECAUSE[reason]) for c, reason in named]
        unnamed = _count(query, "no_consent") + _count(query, "suppressed") - len(report)
    elif status == 200:
        notice = NOTICES.get(query.get("done") or "")
    return page(
        "ui_sequence.html",
        when=when,
        status=status,
        session=session,
        sequence=sequence,
        template_names=names,
        delays=[delay_text(s.delay_days) for s in sequence.steps],
        stop_labels=STOP_LABELS,
        stopped_because=STOPPED_BECAUSE,
        pools=_pools(),
        rows=rows,
        **paging(here, cursor, next_cursor, anchor="#progress"),
        notice=notice,
        report=report,
        unnamed=max(0, unnamed),
        enrol=enrol or {"pool": "", "emails": ""},
        errors=errors or {},
        problem=problem,
    )


@ui_route(
    "/ui/sequences/{sequence_id}",
    "GET",
    "Recruiter UI: one sequence: its steps, an enrolment form and its progress",
    blueprint=bp,
    errors=(404,),
)
def ui_sequence(call: Call, session: Session, fields: dict[str, Any], sequence_id: str) -> Response:
    return _sequence_page(call, session, sequence_id)


# ------------------------------------------------------------------------------- edit the steps


def _wait_fields(days: float) -> tuple[str, str]:
    """A stored wait as the form shows it (number, unit): whole days, else whole hours, else days."""
    if days == int(days):
        return str(int(days)), "days"
    hours = days * 24
    if abs(hours - round(hours)) < 1e-6:
        return str(round(hours)), "hours"
    return repr(days), "days"


def _blank_row() -> dict[str, Any]:
    return {"template_id": "", "delay": "", "unit": "days", "remove": False}


def _padded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, then ``EXTRA_ROWS`` empty ones to add steps with (``EDIT_ROWS`` at most)."""
    return (rows + [_blank_row() for _ in range(EXTRA_ROWS)])[:EDIT_ROWS]


def _form_of(sequence: Sequence) -> dict[str, Any]:
    """The edit form as the sequence is now."""
    rows = []
    for step in sequence.steps:
        delay, unit = _wait_fields(step.delay_days)
        rows.append({"template_id": step.template_id, "delay": delay, "unit": unit, "remove": False})
    return {"name": sequence.name, "steps": _padded(rows)}


def _typed_edit_form(fields: dict[str, Any]) -> dict[str, Any]:
    """The edit form as typed: every row up to the last one filled in (or ticked for removal), each
    at the position it was sent from (so errors land on their row), and empty rows below."""
    rows = [_typed_row(fields, index) for index in range(EDIT_ROWS)]
    last = max((i for i, row in enumerate(rows) if _filled(row) or row["remove"]), default=-1)
    return {"name": text(fields.get("name")), "steps": _padded(rows[: last + 1])}


def _edit_page(
    session: Session,
    sequence: Sequence,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    version: str | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    unsaved: dict[str, Any] | None = None,
) -> Response:
    return page(
        "ui_sequence_edit.html",
        status=status,
        session=session,
        sequence=sequence,
        form=form or _form_of(sequence),
        version=str(sequence.version) if version is None else version,
        errors=errors or {},
        problem=problem,
        unsaved=unsaved,
        templates=_templates(),
        units=UNITS,
        max_steps=MAX_STEP_ROWS,
    )


@ui_route(
    "/ui/sequences/{sequence_id}/edit",
    "GET",
    "Recruiter UI: the form to edit a sequence's name and steps",
    blueprint=bp,
    errors=(404,),
)
def ui_edit_sequence(call: Call, session: Session, fields: dict[str, Any], sequence_id: str) -> Response:
    return _edit_page(session, SequenceService().get(sequence_id))


@ui_route(
    "/ui/sequences/{sequence_id}/edit",
    "POST",
    "Recruiter UI: save a sequence's name and steps (form: csrf, version, name, step-<n>-template, "
    "step-<n>-delay, step-<n>-unit, step-<n>-remove); a stale version is a 409 that changes nothing",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_save_sequence(call: Call, session: Session, fields: dict[str, Any], sequence_id: str) -> Response:
    sequence = SequenceService().get(sequence_id)  # 404 page for no such sequence
    form = _typed_edit_form(fields)
    rows = [i for i, row in enumerate(form["steps"]) if _filled(row) and not row["remove"]]
    data = {"version": _version(fields), "name": form["name"], "steps": _steps_of(form, rows)}
    try:
        sequences.update_sequence(sequence_id, SequenceUpdate.model_validate(data))
    except (ValidationError, ValidationFailed) as exc:
        errors = _form_errors(exc, rows)
        problem = "The steps were not saved: see the marked fields."
        if "form" in errors:
            problem = "This page is out of date; reload it and try again."
        version = text(fields.get("version"))
        return _edit_page(
            session, sequence, status=422, form=form, version=version, errors=errors, problem=problem
        )
    except VersionConflict:
        current = SequenceService().get(sequence_id)
        names = {t.id: t.name for t in _templates()}
        typed = [form["steps"][i] for i in rows]
        unsaved = {
            "name": form["name"],
            "steps": [
                (names.get(r["template_id"], r["template_id"]), delay_text(_delay_days(r))) for r in typed
            ],
        }
        return _edit_page(
            session,
            current,
            status=409,
            problem="Someone else saved this sequence after you opened the form, so nothing was saved.",
            unsaved=unsaved,
        )
    return see_other(f"/ui/sequences/{sequence_id}?done=saved")


def _emails(value: str) -> list[str]:
    return list(dict.fromkeys(e for e in EMAIL_SPLIT.split(value) if e))


def _enrol_request(enrol: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The enrolment form as an ``EnrollmentRequest`` body, or the form's errors."""
    emails = _emails(enrol["emails"])
    if enrol["pool"] and emails:
        return {}, {"pool": "Choose a pool or list emails, not both."}
    if enrol["pool"]:
        return {"pool": enrol["pool"]}, {}
    if not emails:
        return {}, {"pool": "Choose a pool, or list candidates' emails below."}
    if len(emails) > MAX_EMAILS:
        return {}, {"emails": f"At most {MAX_EMAILS} emails at a time."}
    ids, unknown = sequences.ids_by_email(emails)
    if unknown:
        shown = ", ".join(unknown[:50]) + (f" and {len(unknown) - 50} more" if len(unknown) > 50 else "")
        return {}, {"emails": f"No candidate has these emails: {shown}. Nobody was enrolled."}
    return {"candidate_ids": ids}, {}


@ui_route(
    "/ui/sequences/{sequence_id}/enrollments",
    "POST",
    "Recruiter UI: enrol a pool or candidates by email (form: csrf, pool or emails one per line)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_enroll(call: Call, session: Session, fields: dict[str, Any], sequence_id: str) -> Response:
    enrol = {"pool": text(fields.get("pool")), "emails": text(fields.get("emails"))}
    request, errors = _enrol_request(enrol)
    if not errors:
        try:
            result = sequences.enroll(sequence_id, EnrollmentRequest.model_validate(request))
        except ValidationError:
            errors["pool" if "pool" in request else "emails"] = "These are not valid; check and try again."
        except ValidationFailed as exc:
            fields_named = {e.get("field") for e in exc.errors}
            if "audience.pool" in fields_named:
                errors["pool"] = "That pool does not exist (any more); choose another."
            else:
                errors["pool" if "pool" in request else "emails"] = exc.detail
        else:
            return see_other(f"/ui/sequences/{sequence_id}?{urlencode(_report_query(result))}#enrol")
    return _sequence_page(
        call,
        session,
        sequence_id,
        status=422,
        enrol=enrol,
        errors=errors,
        problem="Nobody was enrolled: see the marked field.",
    )


@ui_route(
    "/ui/sequences/{sequence_id}/status",
    "POST",
    "Recruiter UI: pause or resume a sequence (form: csrf, version, status=paused|active)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_sequence_status(call: Call, session: Session, fields: dict[str, Any], sequence_id: str) -> Response:
    SequenceService().get(sequence_id)  # 404 page for no such sequence
    status = text(fields.get("status"))
    try:
        data = SequenceUpdate.model_validate({"version": _version(fields), "status": status})
    except ValidationError:
        return _sequence_page(
            call,
            session,
            sequence_id,
            status=422,
            problem="This page is out of date; reload it and try again.",
        )
    try:
        sequences.update_sequence(sequence_id, data)
    except VersionConflict:
        return see_other(f"/ui/sequences/{sequence_id}?done=stale")
    return see_other(f"/ui/sequences/{sequence_id}?done={'paused' if status == 'paused' else 'resumed'}")


@ui_route(
    "/ui/sequences/{sequence_id}/enrollments/{candidate_id}/remove",
    "POST",
    "Recruiter UI: take a candidate out of a sequence (form: csrf); a second click lands on the same page",
    blueprint=bp,
    errors=(403, 404),
)
def ui_unenroll(
    call: Call, session: Session, fields: dict[str, Any], sequence_id: str, candidate_id: str
) -> Response:
    service = SequenceService()
    service.get(sequence_id)  # 404 page for no such sequence
    try:
        service.unenroll(sequence_id, candidate_id, actor=session.principal.actor)
    except NotFound:
        return see_other(f"/ui/sequences/{sequence_id}?done=not-enrolled#progress")
    return see_other(f"/ui/sequences/{sequence_id}?done=removed#progress")


# ------------------------------------------------------------------------------- reminders


@ui_route("/ui/reminders", "GET", "Recruiter UI: your reminders, due ones first", blueprint=bp)
def ui_reminders(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    query = call.request.query_params or {}
    due_cursor, cursor = query.get("due_cursor") or None, query.get("cursor") or None
    repository, now = ReminderService(), iso(clock.now())
    due: list[Reminder] = []
    next_due = next_upcoming = None
    if not cursor:
        due, next_due = repository.list_page(
            owner=session.who, due_only=True, now=now, limit=PAGE_SIZE, cursor=due_cursor
        )
    upcoming: list[Reminder] = []
    if not due_cursor:
        upcoming, next_upcoming = repository.upcoming_page(
            owner=session.who, now=now, limit=PAGE_SIZE, cursor=cursor
        )
    candidates = CandidateService().get_many(list(dict.fromkeys(r.candidate_id for r in [*due, *upcoming])))
    notices = {
        "reminder-done": "The reminder is done.",
        "reminder-snoozed": "The reminder is snoozed.",
        "reminder-deleted": "The reminder is deleted.",
    }
    return page(
        "ui_reminders.html",
        when=when,
        notice=notices.get(query.get("done") or ""),
        session=session,
        due=due,
        upcoming=upcoming,
        candidates=candidates,
        paged=bool(cursor or due_cursor),
        more_due=f"/ui/reminders?{urlencode({'due_cursor': next_due})}" if next_due else None,
        more_upcoming=f"/ui/reminders?{urlencode({'cursor': next_upcoming})}" if next_upcoming else None,
    )
