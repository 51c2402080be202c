"""Exports: what a recruiter or admin asks for, and the export as the API returns it.

An export is one ZIP in S3 holding candidates, applications, notes, interview feedback, consents and
event registrations as CSV files (formula-safe) or JSON Lines, and the resumes when asked. Its item
holds ids, counts and the object's key only; the personal data is in the object, which expires with
the item after :data:`KEEP_DAYS` days.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from crm.candidates.models import CandidateFilter
from crm.platform.fields import Id, Slug
from crm.platform.models import Input, Model

ExportScope = Literal["account", "candidates"]
ExportFormat = Literal["csv", "jsonl"]
ExportStatus = Literal["queued", "running", "done", "failed"]

#: How long an export (its item and its object) is kept.
KEEP_DAYS = 7
#: Ids a request may name; larger selections are given as a filter.
MAX_IDS = 1_000
#: How long a download link works (minted at the click).
LINK_SECONDS = 300
#: The files of an export, in order (``<name>.csv`` or ``<name>.jsonl``).
FILES = ("candidates", "applications", "notes", "feedback", "consents", "event_registrations")
#: The account's own records, in an account export only.
ACCOUNT_FILES = ("jobs", "events")


class ExportFilter(CandidateFilter):
    """The list filters of ``GET /v1/candidates``; a name it does not know is a 422. The custom
    fields' filters (``cf.<key>`` of the list) are ``custom_fields`` by key here, in the document
    too; the projection terms the service derives from them are never stored or shown."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    custom_fields: dict[str, str] = Field(
        default_factory=dict, max_length=5, description="custom-field filters: key -> value (cf.<key>)"
    )
    cf_terms: SkipJsonSchema[list[str]] = Field(default_factory=list, exclude=True)
    #: A JSON body's lists are arrays (the list's query string may give them comma-separated).
    sources: Annotated[list[Slug], Field(max_length=10)] | None = Field(
        default=None, description="several sources: any of them"
    )


class ExportCreate(Input):
    """``scope``: ``account`` (everyone, admins only) or ``candidates``: a list's ``filter``, a
    pool's members (``pool_id``) or the ``candidate_ids`` ticked (exactly one of the three)."""

    scope: ExportScope = "candidates"
    filter: ExportFilter | None = None
    pool_id: Id | None = None
    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)] | None = None
    format: ExportFormat = "csv"
    include_resumes: bool = False

    @model_validator(mode="after")
    def _selection(self) -> ExportCreate:
        given = [n for n in ("filter", "pool_id", "candidate_ids") if getattr(self, n) is not None]
        if self.scope == "account" and given:
            raise ValueError(f"an account export takes no {given[0]}")
        if self.scope == "candidates" and len(given) != 1:
            raise ValueError("give exactly one of filter, pool_id or candidate_ids")
        return self


class ExportCounts(Model):
    candidates: int = 0
    applications: int = 0
    notes: int = 0
    feedback: int = 0
    consents: int = 0
    event_registrations: int = 0
    resumes: int = 0
    jobs: int = Field(default=0, description="an account export only")
    events: int = Field(default=0, description="an account export only")


class Export(Model):
    """An export as the API returns it."""

    id: str
    scope: ExportScope
    format: ExportFormat
    include_resumes: bool = False
    status: ExportStatus
    actor: str = Field(description="who asked for it")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    expires_at: str = Field(description="when the export and its file are deleted")
    filter: ExportFilter | None = None
    pool_id: str | None = None
    candidate_ids: list[str] | None = None
    counts: ExportCounts = Field(default_factory=ExportCounts)
    size: int | None = Field(default=None, description="bytes of the ZIP (once done)")
    error: str | None = Field(default=None, description="why it failed")
    file_name: str = Field(description="the ZIP's name when downloaded")


class ExportLink(Model):
    url: str = Field(description="a presigned link to the ZIP, minted now")
    expires_at: str
    expires_in: int = Field(description="seconds the link works")


class ExportListQuery(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)


class ExportRequest(Model):
    """The export queue's message."""

    export_id: Id
