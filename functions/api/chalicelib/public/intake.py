"""Public endpoints for career sites: no credentials, CORS for configured origins."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.public.careers import browser_form
from chalicelib.web.endpoint import Call, endpoint, preflight, request_form
from crm.candidates.models import Received
from crm.candidates.service import CandidateService
from crm.jobs.models import PublicJob
from crm.jobs.service import JobService

bp = Blueprint(__name__)

for _path in ("/public/jobs", "/public/talent-network", "/public/jobs/{job_id}/applications"):
    preflight(bp, _path)


@endpoint(
    bp,
    "/public/jobs",
    "GET",
    summary="Open jobs, for the career site",
    tag="public",
    permission=None,
    response=list[PublicJob],
    cors=True,
)
def list_open_jobs(call: Call) -> dict[str, Any]:
    jobs, _ = JobService().list_page(status="open", limit=100, cursor=None)
    return {"items": [PublicJob.model_validate(j.model_dump()) for j in jobs]}


def _accept(call: Call, job_id: str | None) -> Received:
    decoded = request_form(call.request)
    CandidateService().submit(
        decoded.fields,
        resume=decoded.files.get("resume"),
        job_id=job_id,
        idempotency_key=call.request.headers.get("idempotency-key"),
        lambda_context=call.request.lambda_context,
    )
    return Received()


@endpoint(
    bp,
    "/public/talent-network",
    "POST",
    summary="Join the talent network",
    tag="public",
    permission=None,
    body=None,
    response=Received,
    status=202,
    form=True,
    cors=True,
    answers="negotiated",
    redirects=True,
    errors=(400, 413, 415, 422),
)
def join_talent_network(call: Call) -> Received | Response:
    return browser_form(call, "talent-network", lambda: _accept(call, None))


@endpoint(
    bp,
    "/public/jobs/{job_id}/applications",
    "POST",
    summary="Apply to an open job (resume optional)",
    tag="public",
    permission=None,
    response=Received,
    status=202,
    form=True,
    cors=True,
    answers="negotiated",
    redirects=True,
    errors=(400, 404, 413, 415, 422),
)
def apply_to_job(call: Call, job_id: str) -> Received | Response:
    return browser_form(call, "application", lambda: _accept(call, job_id), job_id=job_id)
