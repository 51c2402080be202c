"""Recruiter and integration API: bulk actions on many candidates, run as jobs with progress."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.bulk.models import BulkAction, BulkActionCreate
from crm.bulk.service import BulkActionService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/bulk-actions",
    "POST",
    summary="Add or remove tags, add to a pool, enrol in a sequence or export many candidates at once",
    description=(
        "Give `candidate_ids` (at most 1,000) or a `filter` (the list's filters: all who match). "
        "The action runs as a job: poll `GET /v1/bulk-actions/{bulk_id}` for its progress and "
        "outcome. Every person is changed at most once, however often the job is retried."
    ),
    tag="candidates",
    permission="write",
    body=BulkActionCreate,
    response=BulkAction,
    status=202,
    errors=(503,),
)
def create_bulk_action(call: Call) -> BulkAction:
    return BulkActionService().create(call.body, actor=call.actor)


@endpoint(
    bp,
    "/v1/bulk-actions",
    "GET",
    summary="Recent bulk actions, newest first",
    tag="candidates",
    permission="read",
    query=PageQuery,
    response=BulkAction,
    paginated=True,
)
def list_bulk_actions(call: Call) -> dict[str, Any]:
    items, next_cursor = BulkActionService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/bulk-actions/{bulk_id}",
    "GET",
    summary="A bulk action: its progress, and who was changed or skipped and why",
    tag="candidates",
    permission="read",
    response=BulkAction,
    errors=(404,),
)
def get_bulk_action(call: Call, bulk_id: str) -> BulkAction:
    return BulkActionService().get(bulk_id)


@endpoint(
    bp,
    "/v1/bulk-actions/{bulk_id}/export",
    "GET",
    summary="The CSV of an export: the people it found, as they are now",
    tag="candidates",
    permission="write",
    errors=(404, 409),
    success_media="text/csv",
)
def download_export(call: Call, bulk_id: str) -> Response:
    job, text = BulkActionService().export_csv(bulk_id)
    return export_response(job, text)


def export_response(job: BulkAction, text: str) -> Response:
    """The CSV as a download (409 problem while the export is still running: see the service)."""
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="candidates-{job.created_at[:10]}.csv"',
            "Cache-Control": "no-store",
        },
    )
