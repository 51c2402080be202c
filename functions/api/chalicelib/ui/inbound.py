"""The recruiter UI's part of inbound mail: downloading an attachment of a candidate's reply (the
replies themselves show in the profile's email threads, ``ui/candidates.py``)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.inbound import attachment_index
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, see_other, ui_route
from crm.inbound.service import InboundService

bp = Blueprint(__name__)


@ui_route(
    "/ui/candidates/{candidate_id}/replies/{reply_id}/attachments/{index}",
    "GET",
    "Recruiter UI: download an attachment of a candidate's reply (303 to a link that lasts five minutes)",
    blueprint=bp,
    errors=(404,),
)
def ui_reply_attachment(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, reply_id: str, index: str
) -> Response:
    return see_other(InboundService().attachment_url(candidate_id, reply_id, attachment_index(index)))
