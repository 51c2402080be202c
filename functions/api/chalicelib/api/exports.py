"""Recruiter and admin API: exports of a list (recruiters) or the whole account (admins) as one ZIP
of CSV or JSON Lines files, built by the export worker and downloaded through a presigned link."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, endpoint, page
from crm.exports.models import Export, ExportCreate, ExportLink, ExportListQuery
from crm.exports.service import ExportService

bp = Blueprint(__name__)


def _admin(call: Call) -> bool:
    return call.principal is not None and call.principal.allows("admin")


def export_details(export: Export) -> dict[str, Any]:
    """What the audit log keeps of an export: its scope, format and counts (ids and numbers only)."""
    details: dict[str, Any] = {
        "scope": export.scope,
        "format": export.format,
        "include_resumes": export.include_resumes,
    }
    if export.pool_id:
        details["pool_id"] = export.pool_id
    if export.candidate_ids is not None:
        details["candidates_named"] = len(export.candidate_ids)
    if export.filter is not None:
        details["filtered"] = True
    if export.status == "done":
        details.update({k: v for k, v in export.counts.model_dump().items() if v})
        details["bytes"] = export.size
    return details


@endpoint(
    bp,
    "/v1/exports",
    "POST",
    summary="Export a list (recruiters) or the whole account (admins) as one ZIP",
    description="`scope` is `candidates` (exactly one of `filter` (the filters of GET "
    "/v1/candidates), `pool_id` or `candidate_ids`) or `account` (everyone; admins only, else "
    "403). The ZIP holds candidates, applications, notes, interview feedback, consents and event "
    "registrations as CSV (cells a spreadsheet would run as formulas start with `'`) or JSON "
    "Lines, and the resumes under `resumes/<candidate_id>/` when `include_resumes`. Answers 202 "
    "at once; follow `GET /v1/exports/{export_id}` until `status` is `done`, then ask "
    "`/download` for a link. Exports are kept 7 days.",
    tag="exports",
    permission="write",
    body=ExportCreate,
    response=Export,
    status=202,
    errors=(403,),
)
def create_export(call: Call) -> Export:
    export = ExportService().create(call.body, actor=call.actor, admin=_admin(call))
    audit(call, "export.created", subject=f"export:{export.id}", details=export_details(export))
    return export


@endpoint(
    bp,
    "/v1/exports",
    "GET",
    summary="Exports, newest first (your own; an admin's: everyone's)",
    tag="exports",
    permission="write",
    query=ExportListQuery,
    response=Export,
    paginated=True,
)
def list_exports(call: Call) -> dict[str, Any]:
    q: ExportListQuery = call.query
    items, next_cursor = ExportService().list_page(
        actor=call.actor, admin=_admin(call), limit=q.limit, cursor=q.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/exports/{export_id}",
    "GET",
    summary="An export's status (queued, running, done, failed), counts and size",
    tag="exports",
    permission="write",
    response=Export,
    errors=(404,),
)
def get_export(call: Call, export_id: str) -> Export:
    return ExportService().get(export_id, actor=call.actor, admin=_admin(call))


@endpoint(
    bp,
    "/v1/exports/{export_id}/download",
    "GET",
    summary="A download link to a done export's ZIP, minted now (works for 5 minutes)",
    tag="exports",
    permission="write",
    response=ExportLink,
    errors=(404, 409),
)
def download_export(call: Call, export_id: str) -> ExportLink:
    export, link = ExportService().link(export_id, actor=call.actor, admin=_admin(call))
    audit(call, "export.downloaded", subject=f"export:{export.id}", details=export_details(export))
    return link
