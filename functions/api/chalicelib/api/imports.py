"""Recruiter and integration API: CSV imports of candidates (upload, preview, start, progress, report)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, endpoint
from crm.imports.models import ImportCreate, ImportCreated, ImportPreview, ImportStart, ImportView
from crm.imports.service import ImportService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/imports",
    "POST",
    summary="Announce a CSV import; the answer is where to upload the file (an S3 presigned POST)",
    description=(
        "POST `upload.fields` and then the file (part `file`) to `upload.url` as multipart/form-data; "
        "with `with_resumes`, a ZIP of resumes the same way to `resumes_upload`. Then preview and start."
    ),
    tag="candidates",
    permission="write",
    body=ImportCreate,
    body_optional=True,
    response=ImportCreated,
    status=201,
)
def create_import(call: Call) -> dict[str, Any]:
    created = ImportService().create(call.body, actor=call.actor)
    audit(call, "import.created", subject=f"import:{created.id}")
    return created.model_dump(mode="json", by_alias=True)


@endpoint(
    bp,
    "/v1/imports/{import_id}/preview",
    "POST",
    summary="The uploaded file's columns, the guessed field of each, its first rows and its problems",
    tag="candidates",
    permission="write",
    response=ImportPreview,
    description="A 422 naming `file` until the CSV has been uploaded to the import's upload URL.",
    errors=(404, 422),
)
def preview_import(call: Call, import_id: str) -> ImportPreview:
    return ImportService().preview(import_id)


@endpoint(
    bp,
    "/v1/imports/{import_id}/start",
    "POST",
    summary="Start an import with a column mapping, tags, a pool and a source for the whole file",
    description=(
        "Each row goes through the same intake as the career site: one person per email; a known "
        "email only fills blank fields and adds tags, the source and the pool. `dry_run` reads and "
        "checks every row and writes no candidate. A file that is not UTF-8 or a mapping without "
        "email is a 422. Poll `GET /v1/imports/{import_id}` for progress."
    ),
    tag="candidates",
    permission="write",
    body=ImportStart,
    body_optional=True,
    response=ImportView,
    status=202,
    errors=(404, 409),
)
def start_import(call: Call, import_id: str) -> ImportView:
    started = ImportService().start(import_id, call.body, actor=call.actor)
    audit(
        call,
        "import.started",
        subject=f"import:{import_id}",
        details={"dry_run": started.dry_run, "bytes": started.bytes_total},
    )
    return started


@endpoint(
    bp,
    "/v1/imports/{import_id}",
    "GET",
    summary="An import: status, progress and its report (created, merged, skipped, failed)",
    tag="candidates",
    permission="write",
    response=ImportView,
    errors=(404,),
)
def get_import(call: Call, import_id: str) -> ImportView:
    return ImportService().get(import_id)


@endpoint(
    bp,
    "/v1/imports/{import_id}/failed-rows",
    "GET",
    summary="The rows an import did not import, as CSV with a reason column (spreadsheet-safe)",
    tag="candidates",
    permission="write",
    success_media="text/csv",
    errors=(404,),
)
def import_failed_rows(call: Call, import_id: str) -> Response:
    body = "".join(ImportService().failed_rows_csv(import_id))
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="import-{import_id}-failed-rows.csv"',
        },
    )
