"""The recruiter UI of merges: the profile's panel (possible duplicates with "Merge...", and
"Undo merge" for 30 days after one), the merge page (both people side by side, a choice per field,
what moves), and the undo."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, page, query_value, see_other, text, ui_route
from crm.merges.models import CHOSEN_FIELDS, MergePair, MergeRequest
from crm.merges.service import MergeService
from crm.platform.errors import Conflict, NotFound, ValidationFailed, validation_errors_from_pydantic

bp = Blueprint(__name__)

FIELD_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "location": "Location",
    "linkedin_url": "LinkedIn URL",
}
REASONS = {"phone": "same phone", "linkedin": "same LinkedIn URL", "nameplace": "same name and location"}
NOTICES = {
    "merged": "The two people are merged into this one. You can undo it for 30 days.",
    "unmerged": "The merge is undone: both people are as they were.",
}


def profile_panel(candidate_id: str, done: str) -> dict[str, Any]:
    """What the profile shows of merges: its notice, the undoable merge, the possible duplicates."""
    service = MergeService()
    return {
        "notice": NOTICES.get(done),
        "undoable": service.undoable_for(candidate_id),
        "duplicates": [
            {**d, "why": REASONS.get(d["reason"], d["reason"])} for d in service.duplicates(candidate_id)
        ],
    }


def _merge_page(
    session: Session, survivor_id: str, merged_id: str, *, status: int = 200, problem: str | None = None
) -> Response:
    try:
        pair = MergePair.model_validate({"survivor_id": survivor_id, "merged_id": merged_id})
    except ValidationError as exc:
        raise NotFound("No such pair of candidates.") from exc
    try:
        preview = MergeService().preview(pair)
    except Conflict as exc:
        return page("ui_merge.html", status=409, session=session, preview=None, problem=exc.detail)
    return page(
        "ui_merge.html",
        status=status,
        session=session,
        preview=preview,
        labels=FIELD_LABELS,
        problem=problem,
        swap=f"/ui/merge?{urlencode({'survivor': merged_id, 'merged': survivor_id})}",
    )


@ui_route(
    "/ui/merge",
    "GET",
    "Recruiter UI: merge two candidates (preview, a choice per field)",
    errors=(404, 409),
    blueprint=bp,
)
def ui_merge(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _merge_page(session, query_value(call, "survivor"), query_value(call, "merged"))


@ui_route(
    "/ui/merge",
    "POST",
    "Recruiter UI: merge (form: csrf, survivor_id, merged_id, both versions, a choice per field)",
    errors=(403, 404, 409, 422),
    blueprint=bp,
)
def ui_do_merge(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    survivor_id, merged_id = text(fields.get("survivor_id")), text(fields.get("merged_id"))
    body = {
        "survivor_id": survivor_id,
        "merged_id": merged_id,
        "survivor_version": text(fields.get("survivor_version")),
        "merged_version": text(fields.get("merged_version")),
        "choices": {
            f: text(fields.get(f"choice_{f}")) for f in CHOSEN_FIELDS if text(fields.get(f"choice_{f}"))
        },
    }
    try:
        request = MergeRequest.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed("Invalid merge.", errors=validation_errors_from_pydantic(exc)) from exc
    try:
        merge = MergeService().merge(request, actor=session.principal.actor)
    except Conflict as exc:
        return _merge_page(session, survivor_id, merged_id, status=409, problem=exc.detail)
    details = {"merge_id": merge.id, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id}
    audit(
        call,
        "candidate.merged",
        subject=f"merge:{merge.id}",
        person_id=merge.survivor_id,
        details=details,
        actor=session.principal.actor,
    )
    return see_other(f"/ui/candidates/{quote(merge.survivor_id)}?done=merged")


@ui_route(
    "/ui/merges/{merge_id}/undo",
    "POST",
    "Recruiter UI: undo a merge (form: csrf)",
    errors=(403, 404, 409),
    blueprint=bp,
)
def ui_undo_merge(call: Call, session: Session, fields: dict[str, Any], merge_id: str) -> Response:
    service = MergeService()
    merge = service.get(merge_id)
    try:
        merge = service.undo(merge_id, actor=session.principal.actor)
    except Conflict as exc:
        return page("ui_merge.html", status=409, session=session, preview=None, problem=exc.detail)
    details = {"merge_id": merge.id, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id}
    audit(
        call,
        "candidate.unmerged",
        subject=f"merge:{merge.id}",
        person_id=merge.survivor_id,
        details=details,
        actor=session.principal.actor,
    )
    return see_other(f"/ui/candidates/{quote(merge.survivor_id)}?done=unmerged")
