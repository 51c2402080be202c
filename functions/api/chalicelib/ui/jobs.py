"""The recruiter UI: jobs and their applicants.

The forms use what the JSON API uses: ``JobCreate`` / ``JobUpdate`` and ``JobRepository`` (opening
a job is the same update as ``PATCH /v1/jobs/{id}``, so job alerts follow from the stream as usual).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.ui import interview_view, pipeline
from chalicelib.ui.candidates import _profile as profile_page
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    Session,
    field_errors,
    page,
    paging,
    query_value,
    see_other,
    text,
    ui_route,
)
from crm.candidates.service import CandidateService
from crm.hiring.models import ApplicationMove, FeedbackCreate
from crm.hiring.service import HiringService
from crm.hiring.team import TeamScope
from crm.jobs.models import CLOSED_STAGES, Job, JobCreate, JobUpdate
from crm.jobs.service import JobService
from crm.platform.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from crm.templates.service import TemplateService

bp = Blueprint(__name__)

PAGE_SIZE = 50
FIELDS = (
    {"name": "title", "label": "Title", "type": "text"},
    {"name": "department", "label": "Department (optional)", "type": "text"},
    {"name": "location", "label": "Location (optional)", "type": "text"},
    {"name": "tags", "label": "Tags (comma-separated, optional)", "type": "text"},
)
EMPTY_FORM = {"title": "", "department": "", "location": "", "tags": "", "description": "", "status": "open"}
NOTICES = {
    "created": "The job is created.",
    "open": "The job is open: it is on the career site and takes applications.",
    "closed": "The job is closed: it is off the career site.",
    "saved": "The job's details are saved.",
    "moved": "The application is moved.",
    "pipeline": "The pipeline and hiring team are saved.",
    "added": "The candidate is in the job's pipeline.",
}
#: Cards a board column shows; the applicant list below the board pages through everyone.
BOARD_CARDS = 50
#: The fields "Edit the job" shows.
JOB_FIELDS = ("title", "location", "department", "tags", "description")


def _jobs_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    cursor = query_value(call, "cursor") or None
    items, next_cursor = TeamScope(session.principal).jobs_page(status=None, limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_jobs.html",
        status=status,
        session=session,
        items=items,
        **paging("/ui/jobs", cursor, next_cursor),
        fields=FIELDS,
        form=form or dict(EMPTY_FORM),
        errors=errors or {},
    )


@ui_route(
    "/ui/jobs",
    "GET",
    "Recruiter UI: jobs, newest first (?cursor), and the form for a new one (a hiring manager: their jobs)",
    blueprint=bp,
    team=True,
)
def ui_jobs(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _jobs_page(call, session)


@ui_route(
    "/ui/jobs",
    "POST",
    "Recruiter UI: create a job (form: csrf, title, department, location, tags, description, status)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_create_job(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = {name: text(fields.get(name)) for name in EMPTY_FORM}
    form["status"] = form["status"] or "open"
    data: dict[str, Any] = {
        "title": form["title"],
        "department": form["department"] or None,
        "location": form["location"] or None,
        "tags": [t.strip() for t in form["tags"].split(",") if t.strip()],
        "description": form["description"],
        "status": form["status"],
    }
    try:
        job = JobService().create(JobCreate.model_validate(data))
    except ValidationError as exc:
        return _jobs_page(call, session, status=422, form=form, errors=field_errors(exc))
    return see_other(f"/ui/jobs/{quote(job.id)}?done=created")


@ui_route(
    "/ui/jobs/{job_id}",
    "GET",
    "Recruiter UI: one job, its open/close button and its applicants (?cursor)",
    blueprint=bp,
    errors=(403, 404),
    team=True,
)
def ui_job(call: Call, session: Session, fields: dict[str, Any], job_id: str) -> Response:
    return _job_page(call, session, job_id)


def _job_page(
    call: Call,
    session: Session,
    job_id: str,
    *,
    status: int = 200,
    problem: str = "",
    edit_values: dict[str, str] | None = None,
    edit_errors: dict[str, str] | None = None,
    move_errors: dict[str, str] | None = None,
    pipeline_values: dict[str, str] | None = None,
    pipeline_errors: dict[str, str] | None = None,
) -> Response:
    jobs = JobService()
    job = TeamScope(session.principal, jobs).job(job_id)
    cursor = query_value(call, "cursor") or None
    candidates = CandidateService()
    hiring = HiringService(candidates, jobs)
    applications, next_cursor = candidates.applications_for_job(job_id, limit=PAGE_SIZE, cursor=cursor)
    columns = hiring.board(job, per_stage=BOARD_CARDS)
    on_board = [a for _, items, _ in columns for a in items]
    people = candidates.get_many(list({a.candidate_id for a in [*applications, *on_board]}))
    applicants = [{"application": a, "candidate": people.get(a.candidate_id)} for a in applications]
    here = f"/ui/jobs/{quote(job.id)}"
    return page(
        "ui_job.html",
        status=status,
        session=session,
        job=job,
        applicants=applicants,
        board=pipeline.board(job, columns, people),
        stage_choices=pipeline.stage_choices(job),
        reasons=hiring.rejection_reasons(),
        move_errors=move_errors or {},
        **paging(here, cursor, next_cursor, anchor="#applicants"),
        notice=NOTICES.get(query_value(call, "done")) if status == 200 else None,
        problem=problem,
        edit_values=edit_values or _job_form(job),
        edit_errors=edit_errors or {},
        board_cards=BOARD_CARDS,
        on_team=(session.principal.email or "").lower() in job.team(),
        pipeline_values=pipeline_values or _pipeline_form(job),
        pipeline_errors=pipeline_errors or {},
        templates=[] if session.team_only else _template_choices(job),
        interview_cards=interview_view.board_cards(job.id),
    )


#: Templates a status-email choice offers (and any template a stage names beyond them).
TEMPLATE_CHOICES = 100


def _template_choices(job: Job) -> list[tuple[str, str]]:
    """``(id, name)`` of the templates a stage's status email may be, by name; a template the job
    names that is not among the first ones is offered too, so saving the form keeps it."""
    templates = TemplateService()
    items, _ = templates.list_page(limit=TEMPLATE_CHOICES, cursor=None)
    choices = {t.id: t.name for t in items}
    named = [s.template_id for s in job.stages if s.template_id] + [job.rejection_template_id or ""]
    for template_id in named:
        if template_id and template_id not in choices:
            try:
                choices[template_id] = templates.get(template_id).name
            except NotFound:
                choices[template_id] = f"(a deleted template, {template_id})"
    return sorted(choices.items(), key=lambda c: c[1].casefold())


def _job_form(job: Any) -> dict[str, str]:
    return {
        "title": job.title,
        "location": job.location or "",
        "department": job.department or "",
        "tags": ", ".join(job.tags),
        "description": job.description or "",
    }


@ui_route(
    "/ui/jobs/{job_id}",
    "POST",
    "Recruiter UI: edit a job (form: csrf, title, location, department, tags, description)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_edit_job(call: Call, session: Session, fields: dict[str, Any], job_id: str) -> Response:
    JobService().get(job_id)  # an unknown job is the 404 page
    values = {name: str(fields.get(name) or "").strip() for name in JOB_FIELDS}
    data: dict[str, Any] = {
        "title": values["title"],
        "location": values["location"] or None,
        "department": values["department"] or None,
        "tags": values["tags"],
        "description": values["description"],
    }
    try:
        update = JobUpdate.model_validate(data)
    except ValidationError as exc:
        return _job_page(
            call,
            session,
            job_id,
            status=422,
            problem="Nothing was saved; see the marked fields.",
            edit_values=values,
            edit_errors=field_errors(exc),
        )
    JobService().update(job_id, update)
    return see_other(f"/ui/jobs/{quote(job_id)}?done=saved#details")


@ui_route(
    "/ui/jobs/{job_id}/status",
    "POST",
    "Recruiter UI: open or close a job (form: csrf, status = open | closed)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_job_status(call: Call, session: Session, fields: dict[str, Any], job_id: str) -> Response:
    try:
        update = JobUpdate.model_validate({"status": text(fields.get("status"))})
    except ValidationError:
        JobService().get(job_id)  # an unknown job is a 404 whatever the form says
        return _job_page(call, session, job_id, status=422, problem="Choose to open or to close the job.")
    job = JobService().update(job_id, update)
    return see_other(f"/ui/jobs/{quote(job.id)}?done={job.status}")


# ------------------------------------------------------------------------------- the pipeline

#: "key: Name | What the candidate sees", one stage per line.
_STAGE_LINE = re.compile(
    r"^\s*(?:(?P<key>[a-z][a-z0-9_]*)\s*:)?\s*(?P<name>[^|]*?)\s*(?:\|\s*(?P<public>.*?)\s*)?$"
)


def stage_key(name: str, taken: set[str]) -> str:
    """A key for a new stage from its name (``Phone screen`` -> ``phone_screen``), unlike ``taken``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_") or "stage"
    if not base[0].isalpha():
        base = f"s_{base}"
    base = base[:26]
    key, n = base, 2
    while key in taken or key in CLOSED_STAGES:
        key, n = f"{base}_{n}", n + 1
    return key


def stages_from_text(value: str) -> list[dict[str, Any]]:
    """The stages a recruiter typed, in order; validation (``JobUpdate``) says what is wrong."""
    stages: list[dict[str, Any]] = []
    lines = [line for line in value.splitlines() if line.strip()]
    explicit = {m.group("key") for line in lines if (m := _STAGE_LINE.match(line)) and m.group("key")}
    taken = set(explicit)
    for line in lines:
        match = _STAGE_LINE.match(line)
        key = match.group("key") if match else None
        name = match.group("name") if match else line.strip()
        public = (match.group("public") if match else None) or None
        if not key:
            key = stage_key(name, taken)
            taken.add(key)
        stages.append({"key": key, "name": name, "public_name": public})
    return stages


#: The pipeline form's status-email fields: ``template-<stage key>`` per stage, and this one.
REJECTION_TEMPLATE_FIELD = "template-rejected"


def with_templates(stages: list[dict[str, Any]], job: Job, fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Each typed stage with its status email: the form's ``template-<key>`` choice ("" = none),
    else the one the stage has now (a stage the form has no choice for keeps its email; a new
    stage has none until the next save offers the choice)."""
    stored = {s.key: s.template_id for s in job.stages}
    for stage in stages:
        field = f"template-{stage['key']}"
        stage["template_id"] = (
            (text(fields.get(field)) or None) if field in fields else stored.get(stage["key"])
        )
    return stages


def _template_field(name: str, stages: list[dict[str, Any]]) -> str:
    """The form field of a template error (``stages.2.template_id`` -> ``template-<its key>``)."""
    where = name.split(".")
    if where[0] == "stages" and len(where) > 1 and where[1].isdigit() and int(where[1]) < len(stages):
        return f"template-{stages[int(where[1])]['key']}"
    return REJECTION_TEMPLATE_FIELD


def stages_text(job: Job) -> str:
    return "\n".join(
        f"{s.key}: {s.name}" + (f" | {s.public_name}" if s.public_name else "") for s in job.stages
    )


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


PIPELINE_FIELDS = ("stages", "hiring_managers", "interviewers", "scorecard", "interviews")


def _pipeline_form(job: Job) -> dict[str, str]:
    return {
        **{f"template-{s.key}": s.template_id or "" for s in job.stages},
        REJECTION_TEMPLATE_FIELD: job.rejection_template_id or "",
        "stages": stages_text(job),
        "hiring_managers": ", ".join(job.hiring_managers),
        "interviewers": ", ".join(job.interviewers),
        "scorecard": "\n".join(job.scorecard),
        "interviews": "\n".join(job.interviews),
    }


def _pipeline_errors(exc: ValidationError) -> dict[str, str]:
    """Each error under the form field it came from (``stages.2.name`` -> ``stages``)."""
    errors: dict[str, str] = {}
    for name, message in field_errors(exc).items():
        top = name.split(".", 1)[0]
        if top == "rejection_template_id":
            top = REJECTION_TEMPLATE_FIELD
        if (top in PIPELINE_FIELDS or top == REJECTION_TEMPLATE_FIELD) and top not in errors:
            where = name.split(".")
            if top == "stages" and len(where) > 1 and where[1].isdigit():
                message = f"line {int(where[1]) + 1}: {message}"
            errors[top] = message
    return errors


@ui_route(
    "/ui/jobs/{job_id}/pipeline",
    "POST",
    "Recruiter UI: a job's stages, hiring team, scorecard and interviews "
    "(form: csrf, stages, hiring_managers, interviewers, scorecard, interviews, "
    "template-<stage key> and template-rejected: the status emails)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_job_pipeline(call: Call, session: Session, fields: dict[str, Any], job_id: str) -> Response:
    current = JobService().get(job_id)
    values = {name: text(fields.get(name)) for name in PIPELINE_FIELDS}
    stages = with_templates(stages_from_text(values["stages"]), current, fields)
    values.update({name: text(v) for name, v in fields.items() if name.startswith("template-")})
    data: dict[str, Any] = {
        "stages": stages,
        "hiring_managers": _lines(values["hiring_managers"]),
        "interviewers": _lines(values["interviewers"]),
        "scorecard": [line.strip() for line in values["scorecard"].splitlines() if line.strip()],
        "interviews": [line.strip() for line in values["interviews"].splitlines() if line.strip()],
    }
    if REJECTION_TEMPLATE_FIELD in fields:
        values[REJECTION_TEMPLATE_FIELD] = text(fields.get(REJECTION_TEMPLATE_FIELD))
        data["rejection_template_id"] = values[REJECTION_TEMPLATE_FIELD] or None
    try:
        HiringService().update_job(job_id, JobUpdate.model_validate(data))
    except ValidationError as exc:
        errors = _pipeline_errors(exc)
    except ValidationFailed as exc:  # a status email naming a template that is gone
        errors = {_template_field(e["field"], stages): e["message"] for e in exc.errors}
    except Conflict as exc:
        errors = {exc.field or "stages": exc.detail}
    else:
        return see_other(f"/ui/jobs/{quote(job_id)}?done=pipeline#pipeline")
    return _job_page(
        call,
        session,
        job_id,
        status=422 if not any("still has applications" in e for e in errors.values()) else 409,
        problem="Nothing was saved; see the marked fields.",
        pipeline_values=values,
        pipeline_errors=errors,
    )


@ui_route(
    "/ui/applications/{application_id}/move",
    "POST",
    "Recruiter UI: move an application to another stage (form: csrf, stage, reason, version, back)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_move_application(
    call: Call, session: Session, fields: dict[str, Any], application_id: str
) -> Response:
    hiring = HiringService()
    application, job = hiring.application(application_id)
    back = text(fields.get("back"))
    data = {
        "stage": text(fields.get("stage")),
        "reason": text(fields.get("reason")) or None,
        "version": text(fields.get("version")),
    }
    problem, status, error = "", 200, ""
    try:
        hiring.move(application_id, ApplicationMove.model_validate(data), actor=session.principal.actor)
    except ValidationError as exc:
        status, error = 422, "; ".join(field_errors(exc).values())
    except ValidationFailed as exc:
        status, error = 422, "; ".join(e["message"] for e in exc.errors) or exc.detail
    except VersionConflict:
        status = 409
        problem = (
            "Someone moved this application meanwhile: here is where it is now. "
            "Move it again if you still want to."
        )
    if status == 200:
        if back == "profile":
            return see_other(f"/ui/candidates/{quote(application.candidate_id)}?done=moved#applications")
        return see_other(f"/ui/jobs/{quote(job.id)}?done=moved#board")
    if back == "profile":
        return profile_page(
            call,
            session,
            application.candidate_id,
            status=status,
            problem=problem or f"The application was not moved: {error}",
        )
    return _job_page(
        call,
        session,
        job.id,
        status=status,
        problem=problem or "The application was not moved; see the marked card.",
        move_errors={application_id: error} if error else {},
    )


@ui_route(
    "/ui/candidates/{candidate_id}/applications",
    "POST",
    "Recruiter UI: put a candidate into an open job's pipeline (form: csrf, job_id)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_add_to_job(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    CandidateService().get(candidate_id)  # an unknown person is the 404 page
    job_id = text(fields.get("job_id"))
    try:
        if not job_id:
            raise Conflict("Choose a job.", field="job_id")
        HiringService().add_candidate(job_id, candidate_id, actor=session.principal.actor)
    except (Conflict, NotFound) as exc:
        detail = "Choose an open job." if isinstance(exc, NotFound) else exc.detail
        return profile_page(
            call, session, candidate_id, status=409 if isinstance(exc, Conflict) else 422, problem=detail
        )
    return see_other(f"/ui/candidates/{quote(candidate_id)}?done=added#applications")


@ui_route(
    "/ui/applications/{application_id}/feedback",
    "POST",
    "Recruiter UI: give interview feedback on an application "
    "(form: csrf, interview, rating-<n> per scorecard attribute, recommendation, notes)",
    blueprint=bp,
    errors=(403, 404, 422),
    team=True,
)
def ui_give_feedback(call: Call, session: Session, fields: dict[str, Any], application_id: str) -> Response:
    hiring = HiringService()
    application, job = TeamScope(session.principal).application(application_id)
    form = {name: text(value) for name, value in fields.items() if name != "csrf"}
    ratings = {
        attribute: value
        for n, attribute in enumerate(job.scorecard)
        if (value := text(fields.get(f"rating-{n}")))
    }
    data = {
        "interview": text(fields.get("interview")),
        "ratings": ratings,
        "recommendation": text(fields.get("recommendation")),
        "notes": text(fields.get("notes")),
    }
    principal = session.principal
    try:
        hiring.give_feedback(
            application_id,
            FeedbackCreate.model_validate(data),
            actor=principal.actor,
            subject=principal.subject,
            email=principal.email,
        )
    except ValidationError as exc:
        error = "; ".join(f"{_feedback_field(k)}: {v}" for k, v in field_errors(exc).items())
    except ValidationFailed as exc:
        error = "; ".join(e["message"] for e in exc.errors) or exc.detail
    else:
        where = f"/ui/candidates/{quote(application.candidate_id)}?done=feedback"
        return see_other(f"{where}#feedback-{quote(application_id)}")
    return profile_page(
        call,
        session,
        application.candidate_id,
        status=422,
        problem="The feedback was not saved; see the form.",
        feedback_form={**form, "application_id": application_id, "error": error[:1].upper() + error[1:]},
    )


def _feedback_field(name: str) -> str:
    """An error's field in the form's words (``ratings.Python`` -> ``Python``)."""
    if name.startswith("ratings."):
        return name.split(".", 1)[1]
    return {"recommendation": "Overall recommendation", "ratings": "Scorecard"}.get(name, name.capitalize())
