"""Admin API: the audit log (search by person, actor, action and time; export as CSV)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, endpoint, page
from crm.audit.models import AuditEntry, AuditSearch
from crm.audit.service import AuditLog

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/audit",
    "GET",
    summary="Search the audit log, newest first (admins)",
    tag="admin",
    permission="admin",
    query=AuditSearch,
    response=AuditEntry,
    paginated=True,
    description="Who read or changed what, when and from where. Entries are never changed; "
    "they are kept for the configured retention (AUDIT_RETENTION_DAYS, 2 years by default).",
)
def search_audit(call: Call) -> dict[str, Any]:
    items, next_cursor = AuditLog().search(call.query)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/audit/export",
    "GET",
    summary="The audit log's entries matching the search, as CSV (admins)",
    tag="admin",
    permission="admin",
    query=AuditSearch,
    success_media="text/csv",
)
def export_audit(call: Call) -> Response:
    body = "".join(AuditLog().export_csv(call.query))
    audit(call, "audit.exported", subject="audit:export", details={"bytes": len(body)})
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="audit-log.csv"',
        },
    )
