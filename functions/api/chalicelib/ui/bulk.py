"""Recruiter UI: act on many candidates at once (the list's ticked rows, or all who match), and
follow the job that does it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api.bulk import export_response
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, see_other, text, ui_route
from crm.bulk.models import ACTION_WORDS, SKIP_WORDS, BulkActionCreate
from crm.bulk.service import BulkActionService
from crm.candidates.models import LIST_FILTERS
from crm.candidates.service import CandidateService
from crm.platform.errors import ValidationFailed
from crm.pools.service import PoolService
from crm.sequences.service import SequenceService

bp = Blueprint(__name__)

#: Skipped people named on the result page (the rest are counted).
NAMED = 100
FILTERS = ("q", "tag", "pool", "source")


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def request_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The bulk action a list's form asks for, as the API's body."""
    action = text(fields.get("action"))
    body: dict[str, Any] = {"action": action}
    if text(fields.get("scope")) == "all":
        body["filter"] = _list_filter(fields)
    else:
        body["candidate_ids"] = _ids(fields.get("candidate_ids"))
    if action in ("add_tags", "remove_tags"):
        body["tags"] = [t.strip() for t in text(fields.get("tags")).split(",") if t.strip()]
    elif action == "add_to_pool":
        body["pool_id"] = text(fields.get("pool_id"))
        body["stage"] = text(fields.get("stage")) or "sourced"
    elif action == "enrol":
        body["sequence_id"] = text(fields.get("sequence_id"))
    return body


def _list_filter(fields: dict[str, Any]) -> dict[str, str]:
    """The list's filters: the list's query string as the form carries it (``list_query``), or
    the filters named one by one."""
    given = {name: text(fields.get(name)) for name in FILTERS if text(fields.get(name))}
    carried = text(fields.get("list_query"))
    if carried:
        given.update(
            {
                k: v.strip()
                for k, v in parse_qsl(carried)[:20]
                if (k in LIST_FILTERS or k.startswith("cf.")) and v.strip()  # cf.<key>: custom fields
            }
        )
    return given


def _back(fields: dict[str, Any]) -> str:
    given = _list_filter(fields)
    return "/ui/candidates" + (f"?{urlencode(given)}" if given else "")


@ui_route(
    "/ui/bulk",
    "POST",
    "Recruiter UI: apply an action to the ticked candidates or to all who match (form: csrf, action, "
    "scope, candidate_ids, list_query or q/tag/pool/source, tags, pool_id, stage, sequence_id)",
    blueprint=bp,
    errors=(422,),
)
def ui_bulk(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    body = request_of(fields)
    errors: dict[str, str] = {}
    if "candidate_ids" in body and not body["candidate_ids"]:
        errors["candidate_ids"] = "Tick at least one person, or choose “all who match”."
    else:
        try:
            job = BulkActionService().create(
                BulkActionCreate.model_validate(body), actor=session.principal.actor
            )
            return see_other(f"/ui/bulk/{job.id}")
        except ValidationError as exc:
            errors = field_errors(exc)
        except ValidationFailed as failed:
            errors = {str(e.get("field")): str(e.get("message")) for e in failed.errors or []}
            errors = errors or {"action": str(failed)}
    return page(
        "ui_bulk.html",
        status=422,
        session=session,
        job=None,
        errors=errors,
        back=_back(fields),
        action_words=ACTION_WORDS,
    )


@ui_route("/ui/bulk/{bulk_id}", "GET", "Recruiter UI: a bulk action's progress and outcome", blueprint=bp)
def ui_bulk_job(call: Call, session: Session, fields: dict[str, Any], bulk_id: str) -> Response:
    job = BulkActionService().get(bulk_id)
    shown = job.skipped_people[:NAMED]
    people = CandidateService().get_many([s.candidate_id for s in shown])
    target = ""
    if job.pool_id:
        target = PoolService().get(job.pool_id).name
    elif job.sequence_id:
        target = SequenceService().get(job.sequence_id).name
    return page(
        "ui_bulk.html",
        session=session,
        job=job,
        errors={},
        back="/ui/candidates",
        action_words=ACTION_WORDS,
        target=target,
        skipped=[
            {"id": s.candidate_id, "person": people.get(s.candidate_id), "why": SKIP_WORDS[s.reason]}
            for s in shown
        ],
        unnamed=job.skipped - len(shown),
    )


@ui_route("/ui/bulk/{bulk_id}/export", "GET", "Recruiter UI: download an export (CSV)", blueprint=bp)
def ui_bulk_export(call: Call, session: Session, fields: dict[str, Any], bulk_id: str) -> Response:
    job, csv_text = BulkActionService().export_csv(bulk_id)
    return export_response(job, csv_text)
