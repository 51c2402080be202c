"""Pools and their members (each at a pipeline stage). Every input is validated by one of these before
it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    model_validator,
)

from crm.candidates.models import CandidateSummary
from crm.platform.fields import (
    Id,
    Name,
    Stage,
)
from crm.platform.models import Input, Model, Patch


class PoolCreate(Input):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""


class Pool(Model):
    id: str
    name: str
    description: str = ""
    archived: bool = Field(
        default=False, description="hidden from the pool list by default; takes no new members"
    )
    archived_at: str | None = None
    created_at: str


class PoolPatch(Patch):
    """Rename a pool (its name stays unique, trimmed and case-insensitively) or archive it
    (``archived: true``; ``false`` brings it back). At least one of the two."""

    not_null = ("name", "archived")

    name: Name | None = None
    archived: bool | None = Field(default=None, description="true: archive; false: unarchive")

    @model_validator(mode="after")
    def _something(self) -> PoolPatch:
        if not self.changes():
            raise ValueError("give a new name, or archived: true or false")
        return self


class PoolMemberAdd(Input):
    candidate_id: Id
    stage: Stage = "sourced"


class PoolMember(Model):
    candidate: CandidateSummary
    stage: str
