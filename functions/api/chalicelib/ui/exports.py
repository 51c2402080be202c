"""Recruiter UI: exports. Start one from a list ("Export this list" on the candidates list, carrying
its filters, and on a pool's page), or the whole account (admins); follow them on ``/ui/exports``;
"Download" mints a short-lived link at the click (audited) and sends the browser to it. The
Download is a link, not a form: the pages' CSP (``form-action 'self'``) stops a form whose answer
redirects to the bucket."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qsl

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api.exports import export_details
from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, paging, query_value, see_other, text, ui_route
from crm.candidates.models import LIST_FILTERS
from crm.exports.models import Export, ExportCreate
from crm.exports.service import ExportService
from crm.platform.errors import NotFound, ValidationFailed
from crm.pools.service import PoolService

bp = Blueprint(__name__)

PAGE_SIZE = 25
STATUS_WORDS = {
    "queued": "Waiting to start",
    "running": "Being built",
    "done": "Ready",
    "failed": "Failed",
}


def _admin(session: Session) -> bool:
    return session.principal.allows("admin")


def request_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The export a form asks for, as the API's body: the whole account, a pool, or a list's
    filters (its query string, carried as ``list_query``)."""
    body: dict[str, Any] = {
        "format": text(fields.get("format")) or "csv",
        "include_resumes": text(fields.get("include_resumes")) in ("on", "true", "1", "yes"),
    }
    scope = text(fields.get("scope")) or "candidates"
    if scope == "account":
        body["scope"] = "account"
    elif text(fields.get("pool_id")):
        body.update(scope="candidates", pool_id=text(fields.get("pool_id")))
    else:
        carried = parse_qsl(text(fields.get("list_query")))[:20]
        flt = {k: v.strip() for k, v in carried if k in LIST_FILTERS and v.strip()}
        body.update(scope=scope, filter=flt)
    return body


def _names(exports: list[Export]) -> dict[str, str]:
    """Pools' names for the exports of a pool."""
    names: dict[str, str] = {}
    pools = PoolService()
    for pool_id in dict.fromkeys(e.pool_id for e in exports if e.pool_id):
        with contextlib.suppress(NotFound):  # a pool removed meanwhile: its id is shown
            names[str(pool_id)] = pools.get(str(pool_id)).name
    return names


def _filter_words(export: Export) -> str:
    """A list's filters as ``name=value, ...`` (the default tag match left out)."""
    values = export.filter.model_dump(mode="json", exclude_none=True) if export.filter else {}
    if values.get("match") == "all":
        values.pop("match")
    return ", ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(values.items())
    )


@ui_route("/ui/exports", "GET", "Recruiter UI: exports, newest first (?cursor, started)", blueprint=bp)
def ui_exports(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _page(session, query_value(call, "cursor") or None, started=query_value(call, "started"))


def _page(
    session: Session,
    cursor: str | None,
    *,
    started: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    exports, next_cursor = ExportService().list_page(
        actor=session.principal.actor, admin=_admin(session), limit=PAGE_SIZE, cursor=cursor
    )
    return page(
        "ui_exports.html",
        status=status,
        session=session,
        exports=exports,
        pools=_names(exports),
        filters={e.id: _filter_words(e) for e in exports if e.filter is not None},
        words=STATUS_WORDS,
        admin=_admin(session),
        started=started,
        pending=any(e.status in ("queued", "running") for e in exports),
        errors=errors or {},
        **paging("/ui/exports", cursor, next_cursor),
    )


@ui_route(
    "/ui/exports",
    "POST",
    "Recruiter UI: start an export (form: csrf, scope, list_query or pool_id, format, include_resumes)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_start_export(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    errors: dict[str, str]
    try:
        data = ExportCreate.model_validate(request_of(fields))
        export = ExportService().create(data, actor=session.principal.actor, admin=_admin(session))
    except ValidationError as exc:
        errors = field_errors(exc)
    except ValidationFailed as failed:
        errors = {str(e.get("field")): str(e.get("message")) for e in failed.errors or []}
        errors = errors or {"filter": str(failed)}
    else:
        audit(
            call,
            "export.created",
            subject=f"export:{export.id}",
            details=export_details(export),
            actor=session.principal.actor,
        )
        return see_other(f"/ui/exports?started={export.id}")
    return _page(session, None, errors=errors, status=422)


@ui_route(
    "/ui/exports/{export_id}/download",
    "GET",
    "Recruiter UI: download an export (mints a 5-minute link at the click and goes to it)",
    blueprint=bp,
    errors=(404, 409),
)
def ui_download_export(call: Call, session: Session, fields: dict[str, Any], export_id: str) -> Response:
    export, link = ExportService().link(export_id, actor=session.principal.actor, admin=_admin(session))
    audit(
        call,
        "export.downloaded",
        subject=f"export:{export.id}",
        details=export_details(export),
        actor=session.principal.actor,
    )
    return see_other(link.url)
