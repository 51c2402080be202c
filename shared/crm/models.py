"""Pydantic models: every input is validated by one of these before it reaches the data layer,
and every record the API returns is one of these."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import uuid4

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_TAGS = 30


def utcnow() -> str:
    """An ISO-8601 UTC timestamp with microseconds; sorts as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return uuid4().hex


def normalise_email(email: str) -> str:
    """The identity of a person: trimmed and case-insensitive."""
    return email.strip().lower()


def search_term(text: str) -> str:
    """Lower-cased and accent-stripped, for prefix search."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _no_control_chars(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _normalise_tag(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value.strip().lower())
    return value


def _split_tags(value: Any) -> Any:
    """Tags arrive as a list, a repeated form field, or one comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in (p.strip() for p in value.split(",")) if t]
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http(s) URL")
    return value


def _lower_email(value: str) -> str:
    return normalise_email(value)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_no_control_chars),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_control_chars)
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+()./ -]*$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_http_url)]
Email = Annotated[EmailStr, StringConstraints(max_length=254), AfterValidator(_lower_email)]
Tag = Annotated[
    str,
    BeforeValidator(_normalise_tag),
    StringConstraints(min_length=1, max_length=50, pattern=r"^[\w][\w .+#/-]*$"),
]
Tags = Annotated[list[Tag], BeforeValidator(_split_tags), AfterValidator(_unique), Field(max_length=MAX_TAGS)]
Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[\w.-]+$")
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Stage = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[\w -]+$")
]


class Model(BaseModel):
    """Every model builds its validator on first use, not at import: a cold start pays only
    for the models its request touches."""

    model_config = ConfigDict(defer_build=True)


class Input(Model):
    """A request body from the recruiter or integration API: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


# ---------------------------------------------------------------------------------- public forms


class PublicSubmission(Model):
    """A career-site form (talent network or job application). Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    email: Email
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags = Field(default_factory=list)
    marketing_consent: bool = False
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    referral_code: ShortText | None = None
    website: str | None = Field(default=None, description="Honeypot: humans leave it empty.")

    @field_validator(
        "phone",
        "location",
        "linkedin_url",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "referral_code",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("marketing_consent", mode="before")
    @classmethod
    def _form_boolean(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"on", "yes", "true", "1"}:
                return True
            if lowered in {"", "off", "no", "false", "0"}:
                return False
        return value

    @property
    def is_spam(self) -> bool:
        return bool(self.website and self.website.strip())


# ---------------------------------------------------------------------------------- candidates


Topic = Literal["marketing", "job_alerts", "events"]
TOPICS: tuple[Topic, ...] = ("marketing", "job_alerts", "events")


class Consent(Model):
    topic: Topic
    granted: bool
    at: str
    source: str


class CandidateCreate(Input):
    email: Email
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags = Field(default_factory=list)
    source: Slug = "api"
    marketing_consent: bool | None = None


class CandidatePatch(Input):
    """A partial update. ``version`` is the version the client read; a stale one is a conflict."""

    version: int = Field(ge=1)
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags | None = None
    marketing_consent: bool | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class Candidate(Model):
    id: str
    email: str
    first_name: str
    last_name: str
    phone: str | None = None
    location: str | None = None
    linkedin_url: str | None = None
    tags: list[str] = Field(default_factory=list)
    source: str
    sources: list[str] = Field(default_factory=list)
    pools: dict[str, str] = Field(default_factory=dict, description="pool id -> pipeline stage")
    consents: dict[str, Consent] = Field(default_factory=dict)
    version: int
    created_at: str
    updated_at: str


class CandidateSummary(Model):
    """What a list shows of a candidate."""

    id: str
    email: str
    first_name: str
    last_name: str
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    source: str
    sources: list[str] = Field(default_factory=list)
    pools: dict[str, str] = Field(default_factory=dict)
    version: int
    created_at: str
    updated_at: str


class CandidateFilter(Model):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    email: Email | None = None
    tag: Tag | None = None
    pool: Id | None = None
    source: Slug | None = None


class NoteCreate(Input):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]


class Note(Model):
    id: str
    candidate_id: str
    body: str
    author: str
    created_at: str


class Activity(Model):
    id: str
    candidate_id: str
    kind: str = Field(description="created, updated, merged, applied, note_added, pool_added, ...")
    actor: str
    at: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Application(Model):
    candidate_id: str
    job_id: str
    source: str
    applied_at: str
    resume_key: str | None = None
    utm: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------- jobs


JobStatus = Literal["open", "closed"]


class JobCreate(Input):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    department: ShortText | None = None
    location: ShortText | None = None
    tags: Tags = Field(default_factory=list)
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    status: JobStatus = "open"


class JobUpdate(Input):
    status: JobStatus | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        None
    )
    department: ShortText | None = None
    location: ShortText | None = None
    tags: Tags | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None


class Job(Model):
    id: str
    title: str
    department: str | None = None
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    status: JobStatus
    created_at: str
    updated_at: str


class PublicJob(Model):
    id: str
    title: str
    department: str | None = None
    location: str | None = None
    tags: list[str] = Field(default_factory=list)
    description: str = ""


# ---------------------------------------------------------------------------------- pools


class PoolCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
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


# ---------------------------------------------------------------------------------- access


Role = Literal["admin", "recruiter"]
KeyScope = Literal["read", "read-write"]


class LoginRequest(Input):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Tokens(Model):
    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int


class ApiKeyCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scope: KeyScope = "read"


class ApiKey(Model):
    id: str
    name: str
    scope: KeyScope
    created_at: str
    created_by: str
    revoked_at: str | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret, shown once. Only its hash is stored.")


class Received(Model):
    status: Literal["received"] = "received"


@dataclass(frozen=True)
class Upload:
    """A file as the API received it (a resume)."""

    filename: str
    data: bytes


# ---------------------------------------------------------------------------------- engagement

TemplateText = Annotated[str, StringConstraints(max_length=100_000)]


class TemplateCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    html: TemplateText
    text: TemplateText


class TemplateUpdate(Input):
    """A partial update; ``version`` is the version the client read."""

    version: int = Field(ge=1)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    html: TemplateText | None = None
    text: TemplateText | None = None


class EmailTemplate(Model):
    id: str
    name: str
    subject: str
    html: str
    text: str
    version: int
    created_at: str
    updated_at: str


class PreviewRequest(Input):
    candidate_id: Id


class RenderedEmailOut(Model):
    subject: str
    html: str
    text: str


# ---------------------------------------------------------------------------------- campaigns


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware_utc)]


def iso(value: datetime) -> str:
    """A datetime as the sortable text every stored timestamp uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Audience(Model):
    """Who a campaign is for: every candidate in the pool, with all the tags, from the source
    (each optional; none at all means everyone). Consent and suppression are checked per send."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    pool: Id | None = None
    tags: Tags = Field(default_factory=list)
    source: Slug | None = None


class CampaignCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    template_id: Id
    audience: Audience = Field(default_factory=Audience)
    send_at: AwareDatetime | None = Field(default=None, description="Launch sends at this time (UTC).")


CampaignStatus = Literal["draft", "scheduled", "sending", "sent"]


class CampaignStats(Model):
    recipients: int = 0
    sent: int = 0
    suppressed: int = Field(default=0, description="not mailed: no consent, unsubscribed, bounced, erased")
    failed: int = 0
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    opened: int = 0
    clicked: int = 0


class Campaign(Model):
    id: str
    name: str
    template_id: str
    audience: Audience
    send_at: str | None = None
    status: CampaignStatus
    stats: CampaignStats = Field(default_factory=CampaignStats)
    launched_at: str | None = None
    dispatched_at: str | None = Field(default=None, description="when the whole audience was queued")
    created_at: str
    updated_at: str


class AudienceSize(Model):
    audience: Audience
    candidates: int = Field(description="candidates matching pool, tags and source")


# ---------------------------------------------------------------------------------- sequences

SequenceStopEvent = Literal["applied", "unsubscribed", "erased"]
STOP_EVENTS: tuple[SequenceStopEvent, ...] = ("applied", "unsubscribed", "erased")


class SequenceStep(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    template_id: Id
    delay_days: Annotated[float, Field(ge=0, le=365)] = Field(
        description="days after enrolment (first step) or after the previous step"
    )


class SequenceCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    steps: Annotated[list[SequenceStep], Field(min_length=1, max_length=20)]
    stop_on: list[SequenceStopEvent] = Field(default_factory=lambda: list(STOP_EVENTS), validate_default=True)

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


# ---------------------------------------------------------------------------------- job alerts


class JobAlertSubmission(PublicSubmission):
    """The career site's job-alert form: the person, and what jobs they want to hear about."""

    location: ShortText | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> JobAlertSubmission:
        if not self.tags and not self.location:
            raise ValueError("give tags or a location to match jobs on")
        return self


# ---------------------------------------------------------------------------------- reminders


class ReminderCreate(Input):
    candidate_id: Id
    due_at: AwareDatetime
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Reminder(Model):
    id: str
    candidate_id: str
    due_at: str
    note: str
    owner: str = Field(description="the recruiter who set it (their sign-in email)")
    state: Literal["pending", "notified"]
    due: bool = Field(default=False, description="due_at has passed")
    notified_at: str | None = None
    created_at: str


class ReminderQuery(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    due: bool | None = Field(default=None, description="true: only reminders that are due")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None
