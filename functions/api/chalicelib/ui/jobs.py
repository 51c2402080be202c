"""The recruiter UI: jobs and their applicants.

The forms use what the JSON API uses: ``JobCreate`` / ``JobUpdate`` and ``JobRepository`` (opening
a job is the same update as ``PATCH /v1/jobs/{id}``, so job alerts follow from the stream as usual).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

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
from crm.jobs.models import JobCreate, JobUpdate
from crm.jobs.service import JobService

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
}
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
    items, next_cursor = JobService().list_page(status=None, limit=PAGE_SIZE, cursor=cursor)
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
    "/ui/jobs", "GET", "Recruiter UI: jobs, newest first (?cursor), and the form for a new one", blueprint=bp
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
    errors=(404,),
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
) -> Response:
    jobs = JobService()
    job = jobs.get(job_id)
    cursor = query_value(call, "cursor") or None
    candidates = CandidateService()
    applications, next_cursor = candidates.applications_for_job(job_id, limit=PAGE_SIZE, cursor=cursor)
    people = candidates.get_many([a.candidate_id for a in applications])
    applicants = [{"application": a, "candidate": people.get(a.candidate_id)} for a in applications]
    here = f"/ui/jobs/{quote(job.id)}"
    return page(
        "ui_job.html",
        status=status,
        session=session,
        job=job,
        applicants=applicants,
        **paging(here, cursor, next_cursor, anchor="#applicants"),
        notice=NOTICES.get(query_value(call, "done")) if status == 200 else None,
        problem=problem,
        edit_values=edit_values or _job_form(job),
        edit_errors=edit_errors or {},
    )


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
