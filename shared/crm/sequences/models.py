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

from crm.events.models import Attendance
from crm.platform.fields import (
    Id,
    Label,
    Version,
)
from crm.platform.models import Input, Model, Patch

SequenceStopEvent = Literal["applied", "unsubscribed", "erased", "replied"]


#: The stop rules a sequence has unless it says otherwise.
STOP_EVENTS: tuple[SequenceStopEvent, ...] = ("applied", "unsubscribed", "erased")
#: Every stop rule a sequence may choose: also ``replied`` (the candidate answered a one-to-one email).
STOP_CHOICES: tuple[SequenceStopEvent, ...] = (*STOP_EVENTS, "replied")

SequenceStatus = Literal["active", "paused"]

#: Held enrolments a resumed sequence releases per due-work tick; the rest at the next tick.
RELEASE_PAGE = 500

#: Why someone was not enrolled: no marketing consent, no such candidate, an address on the
#: suppression list (bounced, complained, unsubscribed from everything), or already in the sequence.
SkipReason = Literal["no_consent", "unknown", "suppressed", "already_enrolled"]


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
        default_factory=lambda: list(STOP_EVENTS), validate_default=True, max_length=len(STOP_CHOICES) * 3
    )

    @field_validator("stop_on")
    @classmethod
    def _stop_on_always_erased(cls, value: list[str]) -> list[str]:
        return _always_stop(value)


def _always_stop(value: list[str]) -> list[str]:
    # An erased person can never be mailed; unsubscribing always stops marketing mail.
    return sorted({*value, "erased", "unsubscribed"})


class SequenceUpdate(Patch):
    """A change to a sequence: pause or resume it (``status``), rename it, replace its steps or its
    stop rules. ``version`` is the version the client read (a stale one is a 409)."""

    not_null = ("version", "status", "name", "steps", "stop_on")

    version: Version
    status: SequenceStatus | None = None
    name: Label | None = None
    steps: Annotated[list[SequenceStep], Field(min_length=1, max_length=20)] | None = None
    stop_on: Annotated[list[SequenceStopEvent], Field(max_length=len(STOP_CHOICES) * 3)] | None = None

    @field_validator("stop_on")
    @classmethod
    def _stop_on_always_erased(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _always_stop(value)


class SequenceCounts(Model):
    """Enrolment counters kept on the sequence item, moved in the transaction of each change."""

    enrolled: int = Field(0, description="people enrolled (and not taken out again)")
    active: int = Field(0, description="waiting for their next step (also while the sequence is paused)")
    completed: int = Field(0, description="sent every step")
    stopped: int = Field(0, description="stopped by a stop rule, or because they could no longer be mailed")


class Sequence(Model):
    id: str
    name: str
    steps: list[SequenceStep]
    stop_on: list[str]
    created_at: str
    status: SequenceStatus = Field("active", description="paused: no step is sent until it is resumed")
    version: int = 1
    paused_at: str | None = None
    updated_at: str | None = None
    counts: SequenceCounts = Field(default_factory=SequenceCounts)
    enrollments: dict[str, int] = Field(
        default_factory=dict, description="enrolments by state: active, completed, stopped"
    )


class EnrollmentRequest(Input):
    """Whom to enrol: ``candidate_ids``, a whole ``pool``, or the people of an ``event`` by their
    ``attendance`` (exactly one of the three)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["candidate_ids"], "properties": {"candidate_ids": {"type": "array"}}},
                {"required": ["pool"], "properties": {"pool": {"type": "string"}}},
                {"required": ["event"], "properties": {"event": {"type": "string"}}},
            ]
        }
    )

    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None
    pool: Id | None = None
    event: Id | None = None
    attendance: Attendance | None = Field(
        default=None, description="with event: registered (default), attended or no_show"
    )

    @model_validator(mode="after")
    def _one_of(self) -> EnrollmentRequest:
        if sum(x is not None for x in (self.candidate_ids, self.pool, self.event)) != 1:
            raise ValueError("give either candidate_ids, pool or event")
        if self.attendance is not None and self.event is None:
            raise ValueError("attendance goes with event")
        return self


class EnrollmentSkip(Model):
    candidate_id: str
    reason: SkipReason


class EnrollmentResult(Model):
    """What an enrolment did, person by person. ``enrolled``, ``already_enrolled`` and
    ``not_found`` are the counts and ids this answer always had; ``enrolled_ids`` and ``skipped``
    say it per person."""

    enrolled: int = Field(description="how many were newly enrolled")
    already_enrolled: int = Field(description="how many were in the sequence already (nothing changed)")
    not_found: list[str] = Field(default_factory=list, description="ids no candidate has")
    enrolled_ids: list[str] = Field(default_factory=list, description="who was newly enrolled")
    skipped: list[EnrollmentSkip] = Field(default_factory=list, description="who was not enrolled, and why")

    def skip(self, candidate_id: str, reason: SkipReason) -> None:
        self.skipped.append(EnrollmentSkip(candidate_id=candidate_id, reason=reason))
        if reason == "unknown":
            self.not_found.append(candidate_id)
        elif reason == "already_enrolled":
            self.already_enrolled += 1


class Enrollment(Model):
    sequence_id: str
    candidate_id: str
    state: Literal["active", "completed", "stopped"]
    next_step: int
    due_at: str | None = None
    held: bool = Field(False, description="its step came due while the sequence was paused: sent on resume")
    stopped_reason: str | None = None
    enrolled_at: str
