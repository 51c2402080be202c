"""Jobs as recruiters create and update them, and as the career site shows them. Every input is
validated by one of these before it reaches a repository; every record the API returns is one of
these.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    StringConstraints,
)

from crm.platform.fields import (
    Email,
    Id,
    Label,
    ShortText,
    Tags,
    one_line_text,
)
from crm.platform.models import Input, Model, Patch

JobStatus = Literal["open", "closed"]

#: The stages every application can also reach, whatever the job's own list: not ordered, and the
#: end of the pipeline (a move out of them is allowed: a mistake is undone by moving back).
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
CLOSED_STAGES = (REJECTED, WITHDRAWN)
#: What a candidate sees of the two in the portal.
CLOSED_STAGE_NAMES = {REJECTED: "Not moving forward", WITHDRAWN: "Withdrawn"}
MAX_STAGES = 12
MAX_TEAM = 20
MAX_SCORECARD = 15

#: A stage's key: lower-case letters, digits and ``_``, starting with a letter (``phone_screen``).
STAGE_KEY = r"^[a-z][a-z0-9_]{0,29}$"
StageKey = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=STAGE_KEY)]
StageName = one_line_text(60, required=True)
#: A scorecard attribute or an interview's name ("Python", "Technical interview").
ScoreLabel = one_line_text(60, required=True)


class JobStage(Model):
    """One step of a job's pipeline, in order. ``public_name`` is what the candidate sees in the
    portal (the stage's name when not set); ``template_id`` is the email the candidate gets on
    entering it (none: no email)."""

    key: StageKey
    name: StageName  # type: ignore[valid-type]
    public_name: StageName | None = None  # type: ignore[valid-type]
    template_id: Id | None = None


def _unique_keys(stages: list[JobStage]) -> list[JobStage]:
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        raise ValueError("each stage needs a key of its own")
    if set(keys) & set(CLOSED_STAGES):
        raise ValueError("rejected and withdrawn are every job's closing stages: use other keys")
    return stages


def _unique_labels(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value.casefold() not in [s.casefold() for s in seen]:
            seen.append(value)
    return seen


Stages = Annotated[list[JobStage], Field(min_length=1, max_length=MAX_STAGES), AfterValidator(_unique_keys)]
Team = Annotated[list[Email], Field(max_length=MAX_TEAM), AfterValidator(_unique_labels)]
ScoreLabels = Annotated[
    list[ScoreLabel],  # type: ignore[valid-type]
    Field(max_length=MAX_SCORECARD),
    AfterValidator(_unique_labels),
]


def default_stages() -> list[JobStage]:
    return [
        JobStage(key="applied", name="Applied", public_name="Application received"),
        JobStage(key="screen", name="Screen", public_name="Under review"),
        JobStage(key="interview", name="Interview", public_name="Interviewing"),
        JobStage(key="offer", name="Offer", public_name="Offer"),
        JobStage(key="hired", name="Hired", public_name="Hired"),
    ]


def default_scorecard() -> list[str]:
    return ["Skills for the role", "Communication", "Motivation"]


def default_interviews() -> list[str]:
    return ["Screening call", "Interview"]


class JobCreate(Input):
    title: Label
    department: ShortText | None = None
    location: ShortText | None = None
    tags: Tags = Field(default_factory=list)
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    status: JobStatus = "open"
    stages: Stages = Field(default_factory=default_stages)
    hiring_managers: Team = Field(default_factory=list, description="sign-in addresses")
    interviewers: Team = Field(default_factory=list, description="sign-in addresses")
    scorecard: ScoreLabels = Field(default_factory=default_scorecard, description="attributes rated 1-4")
    interviews: ScoreLabels = Field(
        default_factory=default_interviews, description="each gets its own feedback"
    )
    rejection_template_id: Id | None = Field(
        default=None, description="the email a rejected candidate gets, after the admin's delay"
    )


class JobUpdate(Patch):
    """A partial update; ``null`` clears the department or location."""

    not_null = (
        "status",
        "title",
        "tags",
        "description",
        "stages",
        "hiring_managers",
        "interviewers",
        "scorecard",
        "interviews",
    )

    status: JobStatus | None = None
    title: Label | None = None
    department: ShortText | None = None
    location: ShortText | None = None
    tags: Tags | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    stages: Stages | None = Field(
        default=None, description="the whole list, in order; a stage that holds applications stays"
    )
    hiring_managers: Team | None = None
    interviewers: Team | None = None
    scorecard: ScoreLabels | None = None
    interviews: ScoreLabels | None = None
    rejection_template_id: Id | None = Field(default=None, description="null: no rejection email")


class Job(Model):
    id: str
    title: str
    department: str | None = None
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    status: JobStatus
    stages: list[JobStage] = Field(default_factory=default_stages)
    hiring_managers: list[str] = Field(default_factory=list)
    interviewers: list[str] = Field(default_factory=list)
    scorecard: list[str] = Field(default_factory=default_scorecard)
    interviews: list[str] = Field(default_factory=default_interviews)
    rejection_template_id: str | None = None
    created_at: str
    updated_at: str

    def stage_keys(self) -> list[str]:
        """Every stage an application of this job may be at: the job's own, then the closing ones."""
        return [s.key for s in self.stages] + list(CLOSED_STAGES)

    def stage_name(self, key: str) -> str:
        for stage in self.stages:
            if stage.key == key:
                return stage.name
        return key.capitalize()

    def public_stage_name(self, key: str) -> str:
        """What a candidate sees for ``key`` (a stage the job no longer has: its key, tidied)."""
        if key in CLOSED_STAGE_NAMES:
            return CLOSED_STAGE_NAMES[key]
        for stage in self.stages:
            if stage.key == key:
                return stage.public_name or stage.name
        return key.replace("_", " ").capitalize()

    def team(self) -> set[str]:
        """Who outside the recruiters may see this job's applicants and give feedback."""
        return {*self.hiring_managers, *self.interviewers}


class PublicJob(Model):
    id: str
    title: str
    department: str | None = None
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    posted_at: str = Field(
        default="", validation_alias=AliasChoices("posted_at", "created_at"), description="when it was posted"
    )
