"""Pools and their members (each at a pipeline stage). Every input is validated by one of these before
it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    StringConstraints,
)

from crm.candidates.models import CandidateSummary
from crm.platform.fields import (
    Id,
    Name,
    Stage,
)
from crm.platform.models import Input, Model


class PoolCreate(Input):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""


class Pool(Model):
    id: str
    name: str
    description: str = ""
    created_at: str


class PoolMemberAdd(Input):
    candidate_id: Id
    stage: Stage = "sourced"


class PoolMember(Model):
    candidate: CandidateSummary
    stage: str
