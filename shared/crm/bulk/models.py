"""Bulk actions on many candidates: what a recruiter asks for, and the job that carries it out.

A selection is either the ids ticked on a list (at most :data:`MAX_IDS`) or a list's filter ("all
N matching"). The job is paged like a campaign's audience: each page is applied, its outcome
recorded, then the job advances, so a retried or duplicated run changes nobody twice.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from crm.candidates.models import CandidateFilter
from crm.platform.fields import Id, Stage, Tag
from crm.platform.models import Input, Model

BulkActionKind = Literal["add_tags", "remove_tags", "add_to_pool", "enrol", "export"]
BulkStatus = Literal["queued", "running", "done"]
#: Why a person was left as they were, in the words a recruiter reads.
SkipReason = Literal[
    "unknown",  # no such candidate (erased, or a wrong id)
    "unchanged",  # already had the tags / had none of them
    "already_in_pool",
    "already_enrolled",
    "no_consent",
    "suppressed",
]
SKIP_WORDS: dict[str, str] = {
    "unknown": "no longer in the CRM",
    "unchanged": "nothing to change",
    "already_in_pool": "already in the pool",
    "already_enrolled": "already enrolled",
    "no_consent": "has not agreed to marketing email",
    "suppressed": "unsubscribed or their address bounced",
}
ACTION_WORDS: dict[str, str] = {
    "add_tags": "Add tags",
    "remove_tags": "Remove tags",
    "add_to_pool": "Add to a pool",
    "enrol": "Enrol in a sequence",
    "export": "Export as CSV",
}

#: Ids a request may name; larger selections are given as a filter.
MAX_IDS = 1_000
#: People an export holds (the file is built when it is downloaded).
MAX_EXPORT = 10_000
#: People applied per page of a job.
PAGE_SIZE = 100


class BulkFilter(CandidateFilter):
    """The list filters of ``GET /v1/candidates`` ("all N matching"); a name it does not know is
    a 422, as in every body."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


#: Each action's own field, as JSON Schema (the service answers 422 naming it when it is missing).
_ACTION_FIELDS: list[JsonValue] = [
    {
        "if": {"properties": {"action": {"enum": list(actions)}}, "required": ["action"]},
        "then": {"required": [needed], "properties": {needed: {"type": kind}}},
    }
    for actions, needed, kind in (
        (("add_tags", "remove_tags"), "tags", "array"),
        (("add_to_pool",), "pool_id", "string"),
        (("enrol",), "sequence_id", "string"),
    )
]


class BulkActionCreate(Input):
    """What to do to whom: ``candidate_ids`` or a ``filter`` (exactly one), and the action's own
    fields (``tags`` for tag changes, ``pool_id`` and ``stage`` for pools, ``sequence_id`` to
    enrol)."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={
            "oneOf": [
                {"required": ["candidate_ids"], "properties": {"candidate_ids": {"type": "array"}}},
                {"required": ["filter"], "properties": {"filter": {"type": "object"}}},
            ],
            "allOf": _ACTION_FIELDS,
        },
    )

    action: BulkActionKind
    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)] | None = None
    filter: BulkFilter | None = None
    tags: Annotated[list[Tag], Field(min_length=1, max_length=20)] | None = None
    pool_id: Id | None = None
    stage: Stage | None = None
    sequence_id: Id | None = None

    @model_validator(mode="after")
    def _one_of(self) -> BulkActionCreate:
        if (self.candidate_ids is None) == (self.filter is None):
            raise ValueError("give either candidate_ids or filter")
        return self


class Skipped(Model):
    candidate_id: str
    reason: SkipReason


class BulkAction(Model):
    """A bulk action as the API returns it: what, for whom, how far, and the outcome so far."""

    id: str
    action: BulkActionKind
    status: BulkStatus
    actor: str
    created_at: str
    finished_at: str | None = None
    total: int | None = Field(default=None, description="people selected (null while unknown)")
    processed: int = 0
    changed: int = 0
    skipped: int = 0
    skipped_people: list[Skipped] = Field(
        default_factory=list, description="who was left as they were and why (the first 500)"
    )
    candidate_ids: list[str] | None = None
    filter: BulkFilter | None = None
    tags: list[str] | None = None
    pool_id: str | None = None
    stage: str | None = None
    sequence_id: str | None = None


class PageOutcome(Model):
    """What one page of a job did: the people changed and those skipped, with why."""

    changed: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
