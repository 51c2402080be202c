"""Recruiter API: possible duplicates of a person, and merging two people (preview, merge, read,
undo within 30 days)."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, endpoint
from crm.candidates.models import CandidateSummary
from crm.merges.models import Merge, MergePair, MergePreview, MergeRequest
from crm.merges.service import MergeService
from crm.platform.errors import NotFound
from crm.platform.fields import ID
from crm.platform.models import Model

bp = Blueprint(__name__)


def check_id(value: str, what: str) -> None:
    """A path id that no record can have is a 404 (never a store error)."""
    if not re.fullmatch(ID, value) or len(value) > 64:
        raise NotFound(f"No record with this {what}.")


class Duplicate(Model):
    candidate: CandidateSummary
    reason: str = Field(description="phone, linkedin, or nameplace (the same name and location)")


class Duplicates(Model):
    items: list[Duplicate]


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/duplicates",
    "GET",
    summary="Possible duplicates of a candidate (same phone, LinkedIn URL, or name and location)",
    tag="candidates",
    permission="read",
    response=Duplicates,
    errors=(404,),
)
def candidate_duplicates(call: Call, candidate_id: str) -> dict[str, Any]:
    check_id(candidate_id, "candidate_id")
    return {"items": MergeService().duplicates(candidate_id)}


@endpoint(
    bp,
    "/v1/merges/preview",
    "POST",
    summary="Preview merging two candidates: both profiles, each field's values, what moves",
    tag="candidates",
    permission="write",
    body=MergePair,
    response=MergePreview,
    errors=(404, 409, 422),
)
def preview_merge(call: Call) -> MergePreview:
    return MergeService().preview(call.body)


@endpoint(
    bp,
    "/v1/merges",
    "POST",
    summary="Merge a candidate into another (undoable for 30 days)",
    tag="candidates",
    permission="write",
    body=MergeRequest,
    response=Merge,
    status=201,
    errors=(404, 409, 422),
    description="Send the versions the preview showed; a person changed since is a 409. The same "
    "request again answers the same merge (a retry is safe). The merged person's email then finds "
    "the survivor; their applications, notes, feedback, timeline, consents (the stricter per topic), "
    "tags and pools move to the survivor.",
)
def create_merge(call: Call) -> Merge:
    merge = MergeService().merge(call.body, actor=call.actor)
    details = {"merge_id": merge.id, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id}
    audit(call, "candidate.merged", subject=f"merge:{merge.id}", person_id=merge.survivor_id, details=details)
    return merge


@endpoint(
    bp,
    "/v1/merges/{merge_id}",
    "GET",
    summary="A merge: who, when, what moved, whether it can still be undone",
    tag="candidates",
    permission="read",
    response=Merge,
    errors=(404,),
)
def get_merge(call: Call, merge_id: str) -> Merge:
    check_id(merge_id, "merge_id")
    return MergeService().get(merge_id)


@endpoint(
    bp,
    "/v1/merges/{merge_id}/undo",
    "POST",
    summary="Undo a merge (within 30 days): both people exactly as they were",
    tag="candidates",
    permission="write",
    response=Merge,
    errors=(404, 409),
    description="Refused (409) when the survivor or an item the merge moved changed since, or "
    "after 30 days. What was added to the survivor after the merge stays with the survivor.",
)
def undo_merge(call: Call, merge_id: str) -> Merge:
    check_id(merge_id, "merge_id")
    merge = MergeService().undo(merge_id, actor=call.actor)
    details = {"merge_id": merge.id, "survivor_id": merge.survivor_id, "merged_id": merge.merged_id}
    audit(
        call, "candidate.unmerged", subject=f"merge:{merge.id}", person_id=merge.survivor_id, details=details
    )
    return merge
