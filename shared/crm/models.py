"""Pydantic models: every input is validated by one of these before it reaches the data layer,
and every record the API returns is one of these."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from crm.platform.fields import (
    MAX_TAGS,
    AwareDatetime,
    Email,
    Id,
    Label,
    Name,
    Phone,
    ShortText,
    Slug,
    Stage,
    Tag,
    Tags,
    Url,
    Version,
    one_line_text,
    visible_text,
)

__all__ = [
    "MAX_TAGS",
    "AwareDatetime",
    "Email",
    "Id",
    "Label",
    "Name",
    "Phone",
    "ShortText",
    "Slug",
    "Stage",
    "Tag",
    "Tags",
    "Url",
]


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


class Model(BaseModel):
    """Every model builds its validator on first use, not at import: a cold start pays only
    for the models its request touches."""

    model_config = ConfigDict(defer_build=True)


class Input(Model):
    """A request body from the recruiter or integration API: unknown fields are refused. Each
    field's type trims what should be trimmed (``crm.platform.fields``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def _refuse_nulls(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """JSON Schema of a ``Patch``: a field that may not be null says so (no ``null`` branch)."""
    for name in getattr(model, "not_null", ()):
        prop = schema.get("properties", {}).get(name)
        if not prop or "anyOf" not in prop:
            continue
        branches = [b for b in prop["anyOf"] if b != {"type": "null"}]
        prop.pop("default", None)
        if len(branches) == 1:
            prop.pop("anyOf")
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches


class Patch(Input):
    """A partial update: a field left out keeps its value, ``null`` clears a field that may be
    empty, and a field that may not be empty (``not_null``) refuses ``null`` with a 422 naming it,
    so no update can leave an item its own model cannot read."""

    model_config = ConfigDict(extra="forbid", defer_build=True, json_schema_extra=_refuse_nulls)
    not_null: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may not be null: leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (``version`` aside)."""
        return self.model_dump(exclude_unset=True, exclude={"version"})


# ---------------------------------------------------------------------------------- public forms

#: What a form's checkbox may send for a boolean (besides true and false).
FORM_TRUE = ("on", "yes", "true", "1")
FORM_FALSE = ("", "off", "no", "false", "0")
FORM_BOOLEAN = [
    {"type": "boolean"},
    {"type": "string", "enum": [*FORM_TRUE, *FORM_FALSE], "description": "as an HTML form sends it"},
]


#: The optional fields of a public form that an empty (or blank) value leaves out, as a form does.
BLANK_IS_ABSENT = (
    "phone",
    "location",
    "linkedin_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referral_code",
)
BLANK = {"type": "string", "pattern": r"^\s*$"}


def _honeypot_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """A public form's JSON Schema: the form, or anything at all with the honeypot ``website``
    filled in (answered 202 like any form, and nothing stored); a blank optional field is absent."""
    for name in BLANK_IS_ABSENT:
        prop = schema.get("properties", {}).get(name)
        if prop and "anyOf" in prop and BLANK not in prop["anyOf"]:
            prop["anyOf"].append(BLANK)
    keep = {"title", "description", "type"}
    form = {k: schema.pop(k) for k in list(schema) if k not in keep}
    honeypot = {"required": ["website"], "properties": {"website": {"type": "string", "pattern": r"\S"}}}
    schema["anyOf"] = [form, honeypot]


class PublicSubmission(Model):
    """A career-site form (talent network or job application). Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=_honeypot_schema)

    email: Email
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags = Field(default_factory=list)
    marketing_consent: Annotated[bool, WithJsonSchema({"anyOf": FORM_BOOLEAN})] = False
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    referral_code: ShortText | None = None
    website: str | None = Field(default=None, description="Honeypot: humans leave it empty.")

    @field_validator(*BLANK_IS_ABSENT, mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("marketing_consent", mode="before")
    @classmethod
    def _form_boolean(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError("give true or false (or a form's on/off)")
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in FORM_TRUE:
                return True
            if lowered in FORM_FALSE:
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


class CandidatePatch(Patch):
    """A partial update. ``version`` is the version the client read; a stale one is a conflict.
    ``null`` clears phone, location, LinkedIn URL, tags or leaves the consent as it is."""

    not_null = ("version", "email", "first_name", "last_name")

    version: Version
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags | None = None
    marketing_consent: bool | None = None


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
    model_config = ConfigDict(extra="ignore", defer_build=True)

    q: visible_text(100) | None = None  # type: ignore[valid-type]
    email: Email | None = None
    tag: Tag | None = None
    pool: Id | None = None
    source: Slug | None = None


class NoteCreate(Input):
    body: visible_text(10_000)  # type: ignore[valid-type]


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


class ResumeLink(Model):
    """A presigned download link for one resume."""

    url: str
    expires_in: int = Field(description="seconds the link works")


# ---------------------------------------------------------------------------------- jobs


JobStatus = Literal["open", "closed"]


class JobCreate(Input):
    title: Label
    department: ShortText | None = None
    location: ShortText | None = None
    tags: Tags = Field(default_factory=list)
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    status: JobStatus = "open"


class JobUpdate(Patch):
    """A partial update; ``null`` clears the department or location."""

    not_null = ("status", "title", "tags", "description")

    status: JobStatus | None = None
    title: Label | None = None
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


# ---------------------------------------------------------------------------------- access


Role = Literal["admin", "recruiter"]
KeyScope = Literal["read", "read-write"]


class LoginRequest(Input):
    username: one_line_text(254, required=True)  # type: ignore[valid-type]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Tokens(Model):
    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int


class ApiKeyCreate(Input):
    name: Name
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


Subject = visible_text(500)


class TemplateCreate(Input):
    name: Label
    subject: Subject  # type: ignore[valid-type]
    html: TemplateText
    text: TemplateText


class TemplateUpdate(Patch):
    """A partial update; ``version`` is the version the client read."""

    not_null = ("version", "name", "subject", "html", "text")

    version: Version
    name: Label | None = None
    subject: Subject | None = None  # type: ignore[valid-type]
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


def iso(value: datetime) -> str:
    """A datetime as the sortable text every stored timestamp uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Audience(Model):
    """Who a campaign is for: every candidate in the pool, with all the tags, from the source
    (each optional; none at all means everyone). Consent and suppression are checked per send."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    pool: Id | None = None
    tags: Tags = Field(default_factory=list)
    source: Slug | None = None


class CampaignCreate(Input):
    name: Label
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


# ---------------------------------------------------------------------------------- job alerts


#: What a job alert matches on: some tags, a location, or both.
_SOMETHING_TO_MATCH = [
    {
        "required": ["tags"],
        "properties": {
            "tags": {"anyOf": [{"type": "array", "minItems": 1}, {"type": "string", "pattern": r"[^\s,]"}]}
        },
    },
    {"required": ["location"], "properties": {"location": {"type": "string", "pattern": r"\S"}}},
]


def _job_alert_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    schema["allOf"] = [{"anyOf": _SOMETHING_TO_MATCH}]
    _honeypot_schema(schema, model)


class JobAlertSubmission(PublicSubmission):
    """The career site's job-alert form: the person, and what jobs they want to hear about
    (tags, a location, or both)."""

    model_config = ConfigDict(json_schema_extra=_job_alert_schema)

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
    note: visible_text(2000)  # type: ignore[valid-type]


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
