"""What hiring takes and gives: a move of an application, a sourced application, the rejection
reasons an admin keeps. Every input is validated by one of these before it reaches a repository."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from crm.jobs.models import MAX_SCORECARD, ScoreLabel, StageKey
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


#: How long a rejection's email waits by default (a move in the meantime cancels it).
DEFAULT_REJECTION_EMAIL_DELAY_HOURS = 24
MAX_REJECTION_EMAIL_DELAY_HOURS = 24 * 30


class RejectionReasonsUpdate(Input):
    reasons: Annotated[
        list[Reason],  # type: ignore[valid-type]
        Field(min_length=1, max_length=MAX_REASONS),
        AfterValidator(_unique),
    ]
    email_delay_hours: int | None = Field(
        default=None,
        ge=0,
        le=MAX_REJECTION_EMAIL_DELAY_HOURS,
        description="how long the rejection email waits (0: at once); left out: unchanged",
    )


class RejectionReasons(Model):
    reasons: list[str]
    email_delay_hours: int = Field(
        default=DEFAULT_REJECTION_EMAIL_DELAY_HOURS,
        description="how long a rejection email waits; a move before then cancels it",
    )


Recommendation = Literal["strong_no", "no", "yes", "strong_yes"]
RECOMMENDATIONS: dict[str, str] = {
    "strong_yes": "Strong yes",
    "yes": "Yes",
    "no": "No",
    "strong_no": "Strong no",
}
Rating = Annotated[int, Field(ge=1, le=4)]


class FeedbackCreate(Input):
    """One interviewer's feedback on one interview of an application: every attribute of the job's
    scorecard rated 1 (poor) to 4 (excellent), an overall recommendation, and notes."""

    interview: ScoreLabel
    ratings: Annotated[
        dict[ScoreLabel, Rating],
        Field(max_length=MAX_SCORECARD, description="the job's scorecard attributes, each rated 1-4"),
    ] = Field(default_factory=dict)
    recommendation: Recommendation
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""


class Feedback(Model):
    id: str
    application_id: str
    candidate_id: str
    job_id: str
    interview: str
    interview_id: str | None = Field(
        default=None, description="the scheduled interview it is about (given on the interview)"
    )
    ratings: dict[str, int] = Field(default_factory=dict)
    recommendation: Recommendation
    notes: str = ""
    author: str = Field(description="who gave it (user:<sub>)")
    author_email: str | None = None
    submitted_at: str


class FeedbackPage(Model):
    """The feedback a caller may read on one application. ``hidden`` counts what others gave that
    stays hidden until the caller has given their own (so nobody is anchored by it)."""

    items: list[Feedback]
    hidden: int = 0
    mine_submitted: bool = False
