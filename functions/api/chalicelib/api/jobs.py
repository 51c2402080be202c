"""Recruiter and integration API: jobs."""

from __future__ import annotations

from typing import Any, Literal

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.hiring.service import HiringService
from crm.hiring.team import TeamScope
from crm.jobs.models import Job, JobCreate, JobUpdate

bp = Blueprint(__name__)


class JobListQuery(PageQuery):
    status: Literal["open", "closed"] | None = None


@endpoint(
    bp,
    "/v1/jobs",
    "GET",
    summary="List jobs (filter: status); a hiring manager gets the jobs that name them",
    tag="jobs",
    permission="team",
    query=JobListQuery,
    response=Job,
    paginated=True,
)
def list_jobs(call: Call) -> dict[str, Any]:
    q: JobListQuery = call.query
    items, next_cursor = TeamScope(call.principal).jobs_page(status=q.status, limit=q.limit, cursor=q.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/jobs",
    "POST",
    summary="Create a job",
    tag="jobs",
    permission="write",
    body=JobCreate,
    response=Job,
    status=201,
)
def create_job(call: Call) -> Job:
    return HiringService().create_job(call.body)


@endpoint(
    bp,
    "/v1/jobs/{job_id}",
    "GET",
    summary="Get a job (a hiring manager: only one that names them)",
    tag="jobs",
    permission="team",
    response=Job,
    errors=(403, 404),
)
def get_job(call: Call, job_id: str) -> Job:
    return TeamScope(call.principal).job(job_id)


@endpoint(
    bp,
    "/v1/jobs/{job_id}",
    "PATCH",
    summary="Update a job (open or close it, its stages, hiring team and scorecard)",
    tag="jobs",
    permission="write",
    body=JobUpdate,
    response=Job,
    errors=(404, 409),
)
def update_job(call: Call, job_id: str) -> Job:
    return HiringService().update_job(job_id, call.body)
