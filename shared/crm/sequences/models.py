"""Nurture sequences: steps, stop rules, enrolments. Every input is validated by one of these before it
reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from crm.platform.fields import (
    Id,
    Label,
)
from crm.platform.models import Input, Model

SequenceStopEvent = Literal["applied", "unsubscribed", "erased"]


STOP_EVENTS: tuple[SequenceStopEvent, ...] = ("applied", "unsubscribed", "erased")


class SequenceStep(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    template_id: Id
    delay_days: Annotated[float, Field(ge=0, le=365)] = Field(
        description="days after enrolment (first step) or after the previous step"
    )


class SequenceCreate(Input):
    name: Label
    steps: Annotated[list[SequenceStep], Field(min_length=1, max_length=20)]
    stop_on: list[SequenceStopEvent] = Field(
        default_factory=lambda: list(STOP_EVENTS), validate_default=True, max_length=len(STOP_EVENTS) * 3
    )

    @field_validator("stop_on")
    @classmethod
    def _stop_on_always_erased(cls, value: list[str]) -> list[str]:
        # An erased person can never be mailed; unsubscribing always stops marketing mail.
        return sorted({*value, "erased", "unsubscribed"})


class Sequence(Model):
    id: str
    name: str
    steps: list[SequenceStep]
    stop_on: list[str]
    created_at: str
    enrollments: dict[str, int] = Field(
        default_factory=dict, description="enrolments by state: active, completed, stopped"
    )


class EnrollmentRequest(Input):
    """Whom to enrol: ``candidate_ids`` or a whole ``pool`` (exactly one of them)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["candidate_ids"], "properties": {"candidate_ids": {"type": "array"}}},
                {"required": ["pool"], "properties": {"pool": {"type": "string"}}},
            ]
        }
    )

    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None
    pool: Id | None = None

    @model_validator(mode="after")
    def _one_of(self) -> EnrollmentRequest:
        if (self.candidate_ids is None) == (self.pool is None):
            raise ValueError("give either candidate_ids or pool")
        return self


class EnrollmentResult(Model):
    enrolled: int = Field(description="newly enrolled")
    already_enrolled: int
    not_found: list[str] = Field(default_factory=list)


class Enrollment(Model):
    sequence_id: str
    candidate_id: str
    state: Literal["active", "completed", "stopped"]
    next_step: int
    due_at: str | None = None
    stopped_reason: str | None = None
    enrolled_at: str
