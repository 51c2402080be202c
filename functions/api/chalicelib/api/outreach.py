"""Recruiter API: one-to-one email to a candidate, kept on their profile."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, endpoint
from crm.candidates.service import CandidateService
from crm.outreach.models import Email, EmailCreate
from crm.outreach.service import EmailService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/emails",
    "POST",
    summary="Email the candidate (subject, body as plain text); queued, sent once, kept on the profile",
    tag="candidates",
    permission="write",
    body=EmailCreate,
    response=Email,
    status=202,
    errors=(404, 503),
)
def send_email(call: Call, candidate_id: str) -> Email:
    return EmailService().send(candidate_id, call.body, sender=call.actor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/emails",
    "GET",
    summary="The emails written to the candidate, newest first, each with its state",
    tag="candidates",
    permission="read",
    response=list[Email],
    errors=(404,),
)
def list_emails(call: Call, candidate_id: str) -> dict[str, Any]:
    CandidateService().get(candidate_id)  # 404 for nobody
    return {"items": EmailService().of_candidate(candidate_id)}
