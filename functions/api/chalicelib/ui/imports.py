"""Recruiters' CSV import pages: upload a file (the browser posts it straight to S3 through the
import's presigned POST), map its columns (the guesses preselected), start, watch a progress bar,
read the report and download the failed rows (``crm.imports``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import UI_HEADERS, Session, field_errors, page, see_other, text, ui_route
from crm.imports.models import FIELDS, ImportCreate, ImportStart, ImportView
from crm.imports.service import ImportService
from crm.platform.errors import DomainError
from crm.pools.service import PoolService

bp = Blueprint(__name__)

FIELD_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split in two)",
    "phone": "Phone",
    "location": "Location",
    "linkedin_url": "LinkedIn URL",
    "tags": "Tags (separated by ; or ,)",
    "marketing_consent": "Marketing consent (yes/no)",
    "consent_date": "Date of the consent",
    "resume": "Resume file name (in the ZIP)",
    "ignore": "Do not import",
}


def _headers_for(upload_url: str) -> dict[str, str]:
    """The UI's headers, letting this page's script post the file to the upload's origin."""
    parts = urlsplit(upload_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    policy = UI_HEADERS["Content-Security-Policy"].replace(
        "connect-src 'self'", f"connect-src 'self' {origin}"
    )
    return {"Content-Security-Policy": policy}


@ui_route("/ui/imports", "GET", "Recruiter UI: CSV imports (start one, recent ones)", blueprint=bp)
def ui_imports(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return page("ui_imports.html", session=session, imports=ImportService().recent(20))


@ui_route("/ui/imports", "POST", "Recruiter UI: announce a CSV import", blueprint=bp)
def ui_create_import(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    wanted = ImportCreate(with_resumes=bool(text(fields.get("with_resumes"))))
    created = ImportService().create(wanted, actor=session.principal.actor).id
    audit(call, "import.created", subject=f"import:{created}", actor=session.principal.actor)
    return see_other(f"/ui/imports/{created}")


def _import_page(
    session: Session,
    import_id: str,
    *,
    problem: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    service = ImportService()
    run = service.get(import_id)
    values: dict[str, Any] = {
        "session": session,
        "run": run,
        "labels": FIELD_LABELS,
        "fields": FIELDS,
        "problem": problem,
        "errors": errors or {},
    }
    headers: dict[str, str] = {}
    if run.status == "created":
        csv_up, zip_up = service.uploaded(import_id)
        values["uploaded"] = csv_up and (zip_up or not run.with_resumes)
        if values["uploaded"]:
            values["preview"] = service.preview(import_id)
            values["pools"] = PoolService().list_page(limit=100, cursor=None)[0]
        else:
            upload, resumes = service.upload_forms(import_id)
            values["upload"] = upload
            values["resumes_upload"] = resumes
            headers = _headers_for(upload.url)
    return page("ui_import.html", status=status, headers=headers, **values)


@ui_route(
    "/ui/imports/{import_id}",
    "GET",
    "Recruiter UI: one import (upload, mapping, progress, report)",
    blueprint=bp,
)
def ui_import(call: Call, session: Session, fields: dict[str, Any], import_id: str) -> Response:
    return _import_page(session, import_id)


@ui_route(
    "/ui/imports/{import_id}/start",
    "POST",
    "Recruiter UI: start an import with its mapping",
    blueprint=bp,
    errors=(409, 422),
)
def ui_start_import(call: Call, session: Session, fields: dict[str, Any], import_id: str) -> Response:
    service = ImportService()
    preview = service.preview(import_id)
    mapping = {
        column: text(fields.get(f"col-{index}")) or "ignore" for index, column in enumerate(preview.columns)
    }
    try:
        start = ImportStart.model_validate(
            {
                "mapping": mapping,
                "tags": text(fields.get("tags")) or [],
                "pool_id": text(fields.get("pool_id")) or None,
                "source": text(fields.get("source")) or "import",
                "dry_run": bool(text(fields.get("dry_run"))),
            }
        )
    except ValidationError as exc:
        return _import_page(
            session,
            import_id,
            problem="Not started; see the marked fields.",
            errors=field_errors(exc),
            status=422,
        )
    try:
        started = service.start(import_id, start, actor=session.principal.actor)
    except DomainError as error:
        message = "; ".join(e.get("message", "") for e in error.errors) or error.detail
        return _import_page(session, import_id, problem=f"Not started: {message}", status=422)
    audit(
        call,
        "import.started",
        subject=f"import:{import_id}",
        details={"dry_run": started.dry_run, "bytes": started.bytes_total},
        actor=session.principal.actor,
    )
    return see_other(f"/ui/imports/{import_id}")


def _status(run: ImportView) -> dict[str, Any]:
    return {
        "status": run.status,
        "progress": run.progress,
        "counts": run.counts.model_dump(),
        "reason": run.reason,
    }


@ui_route(
    "/ui/imports/{import_id}/status",
    "GET",
    "Recruiter UI: an import's progress (JSON, for the bar)",
    blueprint=bp,
)
def ui_import_status(call: Call, session: Session, fields: dict[str, Any], import_id: str) -> Response:
    body = json.dumps(_status(ImportService().get(import_id)))
    return Response(body=body, status_code=200, headers={**UI_HEADERS, "Content-Type": "application/json"})


@ui_route(
    "/ui/imports/{import_id}/failed-rows", "GET", "Recruiter UI: an import's failed rows as CSV", blueprint=bp
)
def ui_import_failed_rows(call: Call, session: Session, fields: dict[str, Any], import_id: str) -> Response:
    body = "".join(ImportService().failed_rows_csv(import_id))
    return Response(
        body=body,
        status_code=200,
        headers={
            **UI_HEADERS,
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="import-{import_id}-failed-rows.csv"',
        },
    )
