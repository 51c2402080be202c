"""Recruiter API: candidates' replies to one-to-one email, and their attachments."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, endpoint
from crm.candidates.service import CandidateService
from crm.inbound.models import AttachmentLink, Reply
from crm.inbound.service import InboundService
from crm.platform.errors import NotFound

bp = Blueprint(__name__)


def attachment_index(index: str) -> int:
    """An attachment's place as the path names it; ``NotFound`` for anything but a small number."""
    if not index.isdigit() or len(index) > 2:
        raise NotFound("No such attachment.")
    return int(index)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/replies",
    "GET",
    summary="The candidate's replies to one-to-one emails, newest first (text without quoted history)",
    tag="candidates",
    permission="read",
    response=list[Reply],
    errors=(404,),
)
def list_replies(call: Call, candidate_id: str) -> dict[str, Any]:
    CandidateService().get(candidate_id)  # 404 for nobody
    return {"items": InboundService().replies(candidate_id)}


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/replies/{reply_id}/attachments/{index}",
    "GET",
    summary="A short-lived download link for an attachment a candidate's reply carried",
    tag="candidates",
    permission="read",
    response=AttachmentLink,
    errors=(404,),
)
def attachment_link(call: Call, candidate_id: str, reply_id: str, index: str) -> AttachmentLink:
    url = InboundService().attachment_url(candidate_id, reply_id, attachment_index(index))
    return AttachmentLink(url=url, expires_in=300)
