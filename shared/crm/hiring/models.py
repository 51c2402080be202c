"""What hiring takes and gives: a move of an application, a sourced application, the rejection
reasons an admin keeps. Every input is validated by one of these before it reaches a repository."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from crm.jobs.models import StageKey
from crm.platform.fields import Id, Version, one_line_text
from crm.platform.models import Input, Model

Reason = one_line_text(100, required=True)
MAX_REASONS = 30
DEFAULT_REJECTION_REASONS = (
    "Skills do not match the role",
    "Not enough experience",
    "Salary expectations",
    "Position filled",
    "Did not respond",
    "Other",
)


class ApplicationMove(Input):
    """Move an application to another stage of its job (or to ``rejected``, with a reason from the
    admin's list, or ``withdrawn``). ``version`` is the one read: a stale one is a 409."""

    stage: StageKey
    reason: Reason | None = Field(  # type: ignore[valid-type]
        default=None, description="required with stage rejected: one of GET /v1/rejection-reasons"
    )
    version: Version


class ApplicationAdd(Input):
    """Put a known candidate into a job's pipeline (source ``sourced``), at the job's first stage."""

    candidate_id: Id


def _unique(values: list[str]) -> list[str]:
    folded = [v.casefold() for v in values]
    if len(set(folded)) != len(folded):
        raise ValueError("each reason once")
    return values


class RejectionReasonsUpdate(Input):
    reasons: Annotated[
        list[Reason],  # type: ignore[valid-type]
        Field(min_length=1, max_length=MAX_REASONS),
        AfterValidator(_unique),
    ]


class RejectionReasons(Model):
    reasons: list[str]
