"""A person, as the API reads and writes them: the public forms, the candidate record and its summary,
filters, notes, the timeline, applications. Every input is validated by one of these before it
reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from crm.custom_fields.models import MAX_FIELDS, filter_key
from crm.platform import times
from crm.platform.fields import (
    Email,
    Id,
    Name,
    Phone,
    ShortText,
    Slug,
    Stage,
    Tag,
    Tags,
    Url,
    Version,
    visible_text,
)
from crm.platform.models import Input, Model, Patch

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


def form_boolean(value: Any) -> Any:
    """A form's checkbox as a boolean: JSON true/false, or a form's on/off, yes/no, 1/0 (numbers
    are refused: a JSON 1 is not a choice someone made)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("give true or false (or a form's on/off)")
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in FORM_TRUE:
            return True
        if lowered in FORM_FALSE:
            return False
    return value


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
        return form_boolean(value)

    @property
    def is_spam(self) -> bool:
        return bool(self.website and self.website.strip())


Topic = Literal["marketing", "job_alerts", "events"]


TOPICS: tuple[Topic, ...] = ("marketing", "job_alerts", "events")


class Consent(Model):
    topic: Topic
    granted: bool
    at: str
    source: str


#: Custom-field values by key, each checked against its definition by the service
#: (``crm.custom_fields``): a wrong one is a 422 naming ``custom_fields.<key>``.
CustomValues = Annotated[dict[str, Any], Field(max_length=MAX_FIELDS)]


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
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    referral_code: ShortText | None = None
    custom_fields: CustomValues = Field(
        default_factory=dict,
        description="values of the custom fields an admin defined (GET /v1/custom-fields)",
    )


class CandidatePatch(Patch):
    """A partial update. ``version`` is the version the client read; a stale one is a conflict.
    ``null`` clears phone, location, LinkedIn URL, tags or leaves the consent as it is."""

    not_null = ("version", "email", "first_name", "last_name", "custom_fields")

    version: Version
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    location: ShortText | None = None
    linkedin_url: Url | None = None
    tags: Tags | None = None
    marketing_consent: bool | None = None
    custom_fields: CustomValues | None = Field(
        default=None, description="custom fields to set; a key left out keeps its value, null clears it"
    )


#: What brought a person to a record: a form, an application, a job-alert request, the API or the UI.
TouchForm = Literal[
    "signup", "application", "alert", "api", "ui", "import", "portal", "referral", "event", "other"
]


class Touch(Model):
    """One contact that brought the person in (``first_touch``) or back (``last_touch``): the
    record's source at the time, the campaign fields the form carried, which form, for which job."""

    source: str = Field(
        description="the source that contact recorded (talent-network, job-application, api...)"
    )
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    referral_code: str | None = None
    form: TouchForm = Field(description="signup, application, alert, api, ui, ...")
    job_id: str | None = Field(default=None, description="the job applied to (an application)")
    at: str


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
    first_touch: Touch | None = Field(
        default=None,
        description="the contact that created the record (absent for records kept before it was)",
    )
    last_touch: Touch | None = Field(
        default=None, description="the latest form, application or creation that touched the record"
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="custom-field values by key (private ones only for recruiters, admins and API keys)",
    )
    version: int
    created_at: str
    updated_at: str
    # merges: the addresses of people merged into this one (their email guards name this person)
    other_emails: list[str] = Field(
        default_factory=list, description="addresses of people merged into this one; intake finds them here"
    )


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


#: What a list shows of a candidate, and what each list projection carries.
SUMMARY_FIELDS: tuple[str, ...] = tuple(CandidateSummary.model_fields)


def _comma_list(value: Any) -> Any:
    """``"a,b"`` -> ``["a", "b"]`` (a query string or form sends one text)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _iso_date(value: Any) -> Any:
    """A date as a query string gives it: ``2026-12-31`` only (not a number of days or seconds)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("use a date like 2026-12-31")
    if isinstance(value, int | float):
        raise ValueError("use a date like 2026-12-31")
    return value.strip() if isinstance(value, str) else value


#: A day of a date range (both ends of a range are included).
Day = Annotated[date, BeforeValidator(_iso_date)]

#: How a list is ordered: newest or oldest first, by last name, or by latest activity.
CandidateSort = Literal["newest", "oldest", "name", "last_activity"]
#: A person's marketing consent: given, withdrawn, or never asked.
ConsentState = Literal["granted", "withdrawn", "none"]


class CandidateFilter(Model):
    """The filters of a candidate list. Each combines with the others; a combination the lists
    cannot answer exactly is a 422 naming the field (``crm.candidates.service.check_filter``)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    q: visible_text(100) | None = None  # type: ignore[valid-type]
    email: Email | None = None
    tag: Tag | None = None
    tags: Tags | None = Field(default=None, description="several tags, comma-separated (see match)")
    match: Literal["all", "any"] = Field(default="all", description="tags: every one of them, or any")
    pool: Id | None = None
    stage: Stage | None = Field(default=None, description="the stage in pool (needs pool)")
    source: Slug | None = None
    sources: Annotated[list[Slug], BeforeValidator(_comma_list), Field(max_length=10)] | None = Field(
        default=None, description="several sources, comma-separated: any of them"
    )
    location: visible_text(100) | None = Field(  # type: ignore[valid-type]
        default=None, description="words the location contains, in any case"
    )
    consent: ConsentState | None = Field(default=None, description="marketing consent")
    created_from: Day | None = None
    created_to: Day | None = None
    active_from: Day | None = Field(default=None, description="last activity on or after")
    active_to: Day | None = Field(default=None, description="last activity on or before")
    sort: CandidateSort | None = Field(
        default=None, description="newest (the default), oldest, name or last_activity; q ranks by match"
    )
    #: ``cf.<key>=<value>`` of the query string, by key (checked by the service against the fields).
    custom_fields: SkipJsonSchema[dict[str, str]] = Field(default_factory=dict, max_length=5)
    #: What the service made of ``custom_fields``: the list projections' terms (``<key>#<term>``).
    cf_terms: SkipJsonSchema[list[str]] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _custom_field_filters(cls, data: Any) -> Any:
        """``cf.<key>=<value>`` query parameters into ``custom_fields`` (a value of at most 200);
        ``cf_terms`` is the service's alone (never read from a request)."""
        if isinstance(data, dict) and "cf_terms" in data:
            data = {k: v for k, v in data.items() if k != "cf_terms"}
        if isinstance(data, dict) and any(isinstance(k, str) and filter_key(k) for k in data):
            given = dict(data.get("custom_fields") or {})
            for name, value in data.items():
                key = filter_key(name) if isinstance(name, str) else None
                if key is not None and isinstance(value, str) and value.strip():
                    given[key[:60]] = value.strip()[:200]
            kept = {k: v for k, v in data.items() if not (isinstance(k, str) and filter_key(k))}
            data = {**kept, "custom_fields": given}
        return data

    def all_tags(self) -> list[str]:
        """Every tag asked for (``tag`` and ``tags``), each once."""
        return list(dict.fromkeys([*([self.tag] if self.tag else []), *(self.tags or [])]))

    def all_sources(self) -> list[str]:
        return list(dict.fromkeys([*([self.source] if self.source else []), *(self.sources or [])]))


#: The names of a list's filters (query string, forms, a bulk action's filter).
LIST_FILTERS: tuple[str, ...] = tuple(
    name for name in CandidateFilter.model_fields if name not in ("custom_fields", "cf_terms")
)


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


#: Where a new application starts when its job names no stages (a job's first stage otherwise).
FIRST_STAGE = "applied"
#: The source of an application a recruiter made (the person has not applied themselves).
SOURCED = "sourced"


def application_id(candidate_id: str, job_id: str) -> str:
    """An application's id: its person and its job (one application per person and job)."""
    return f"{candidate_id}_{job_id}"


def split_application_id(value: str) -> tuple[str, str] | None:
    """``(candidate_id, job_id)`` of an id :func:`application_id` made; ``None`` for any other text."""
    candidate_id, sep, job_id = value.partition("_")
    if not sep or not candidate_id or not job_id or "_" in job_id:
        return None
    return candidate_id, job_id


class StageVisit(Model):
    """One stay of an application in one stage: who moved it there and when, and when it left."""

    stage: str
    entered_at: str
    left_at: str | None = None
    by: str = Field(description="who moved it there (an actor: user:<sub>, api-key:<id> or intake)")
    reason: str | None = Field(default=None, description="why it was rejected")


class Application(Model):
    candidate_id: str
    job_id: str
    source: str
    applied_at: str
    last_applied_at: str | None = Field(default=None, description="when they last applied again")
    resume_key: str | None = None
    utm: dict[str, str] = Field(default_factory=dict)
    stage: str = Field(default=FIRST_STAGE, description="a key of the job's stages, rejected or withdrawn")
    version: int = Field(default=1, description="send it back with a move; a stale one is a 409")
    reason: str | None = Field(default=None, description="the rejection reason, when rejected")
    stage_entered_at: str | None = None
    moved_by: str | None = None
    history: list[StageVisit] = Field(default_factory=list, description="every stage it was at, oldest first")
    feedback_count: int = Field(default=0, description="interview feedback given on it")
    feedback_strong_yes: int = 0
    feedback_yes: int = 0
    feedback_no: int = 0
    feedback_strong_no: int = 0
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, description="custom-field values of the application (entity application)"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        return application_id(self.candidate_id, self.job_id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def seconds_in_stages(self) -> dict[str, int]:
        """Time spent in each stage it has left (a stage visited twice: both stays added up)."""
        spent: dict[str, int] = {}
        for visit in self.history:
            left, entered = times.parse(visit.left_at), times.parse(visit.entered_at)
            if left is not None and entered is not None:
                seconds = (left - entered).total_seconds()
                spent[visit.stage] = spent.get(visit.stage, 0) + max(0, int(seconds))
        return spent


class ApplicationFieldsPatch(Input):
    """``PATCH /v1/applications/{id}/custom-fields``: ``version`` is the application's version read (a
    stale one is a 409); a key left out keeps its value, null clears it."""

    version: Version
    custom_fields: CustomValues


#: Where a resume came from.
ResumeSource = Literal["signup", "application", "recruiter", "portal", "referral"]


class StoredResume(Model):
    """A resume as kept under the person (``CAND#<id>/RESUME#<uploaded_at>#<id>``): the object's
    key in the private bucket and what a recruiter sees of it."""

    id: str
    candidate_id: str
    resume_key: str
    file_name: str
    content_type: str
    size: int | None = None
    source: ResumeSource
    job_id: str | None = None
    uploaded_at: str


class Resume(Model):
    """One of a person's resumes, newest first; ``current`` marks the newest."""

    id: str
    file_name: str
    content_type: str
    size: int | None = Field(default=None, description="bytes (unknown for a resume kept before this list)")
    source: ResumeSource
    job_id: str | None = None
    uploaded_at: str
    current: bool = False


InteractionKind = Literal["call", "meeting"]
InteractionOutcome = Literal["reached", "left_voicemail", "no_answer", "held", "no_show", "rescheduled"]


class InteractionCreate(Input):
    """A call or meeting a recruiter had with the candidate. ``happened_at`` defaults to now and
    may not be in the future."""

    kind: InteractionKind
    outcome: InteractionOutcome
    happened_at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")
    duration_minutes: int | None = Field(default=None, ge=1, le=600)
    notes: visible_text(10_000) | None = None  # type: ignore[valid-type]


class Interaction(Model):
    id: str
    candidate_id: str
    kind: InteractionKind
    outcome: InteractionOutcome
    happened_at: str
    duration_minutes: int | None = None
    notes: str | None = None
    author: str
    created_at: str


class ResumeLink(Model):
    """A presigned download link for one resume."""

    url: str
    expires_in: int = Field(description="seconds the link works")


class Received(Model):
    status: Literal["received"] = "received"


@dataclass(frozen=True)
class MergePlan:
    """What a public form changes on the person its email already names (the rules:
    ``crm.candidates.service.merge_plan``). Each field of ``fill`` is written only where the
    profile has no value, so a form never overwrites what is there; ``tags`` and ``sources`` are
    added to the sets on the profile; ``consent`` is recorded when the form grants one (a form
    never withdraws one); ``detail`` is what the timeline's ``merged`` entry says."""

    fill: dict[str, str]
    tags: list[str]
    sources: list[str]
    consent: Consent | None
    detail: dict[str, Any] = field(default_factory=dict)
    #: The form's contact: it becomes ``last_touch`` (``first_touch`` is kept as it is).
    touch: Touch | None = None
