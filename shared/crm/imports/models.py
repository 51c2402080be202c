"""An import's records: the run (status, mapping, checkpoint, report) and its failed rows.

A run goes ``created`` (the file may be uploaded) -> ``queued`` (started) -> ``running`` -> ``done``,
or ``failed`` with a ``reason`` (a file that is not UTF-8, no email column, no file). Progress is
counted in rows and in bytes of the file (its size is known before the rows are).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from crm.platform.fields import Id, Slug, Tags
from crm.platform.models import Input, Model

ImportStatus = Literal["created", "queued", "running", "done", "failed"]

#: The candidate fields a column can fill, and what the rest of a row may say.
ImportField = Literal[
    "email",
    "first_name",
    "last_name",
    "full_name",
    "phone",
    "location",
    "linkedin_url",
    "tags",
    "marketing_consent",
    "consent_date",
    "resume",
    "ignore",
]
FIELDS: tuple[str, ...] = ImportField.__args__  # type: ignore[attr-defined]

#: At most this many columns are read from a row (more are ignored).
MAX_COLUMNS = 200


class ImportCounts(Model):
    rows: int = Field(default=0, description="Rows read so far (the header not counted).")
    created: int = Field(default=0, description="New candidates (a dry run: would be created).")
    merged: int = Field(default=0, description="Known emails: blanks filled, tags and pool added.")
    skipped: int = Field(default=0, description="Empty rows.")
    failed: int = Field(default=0, description="Rows not imported: see the failed rows.")
    resumes: int = Field(default=0, description="Resumes attached from the ZIP.")


class Upload(Model):
    url: str = Field(description="POST the fields and then the file (part `file`) as multipart/form-data.")
    fields: dict[str, str]


class ImportRun(Model):
    id: str
    status: ImportStatus
    created_by: str
    created_at: str
    updated_at: str
    file_name: str | None = None
    with_resumes: bool = False
    mapping: dict[str, ImportField] = Field(default_factory=dict, description="column -> field")
    tags: list[str] = Field(default_factory=list)
    pool_id: str | None = None
    source: str = "import"
    dry_run: bool = False
    columns: list[str] = Field(default_factory=list, description="The header row, once read.")
    bytes_total: int = 0
    bytes_done: int = Field(default=0, description="Where the next chunk starts (the checkpoint).")
    chunks: int = Field(default=0, description="Chunks committed.")
    counts: ImportCounts = Field(default_factory=ImportCounts)
    reason: str | None = Field(default=None, description="Why the import failed, when it did.")
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.bytes_done / self.bytes_total) if self.bytes_total else 0


class ImportView(ImportRun):
    """``GET /v1/imports/{id}``."""

    progress: int = Field(description="Percent of the file read (0-100).")


class ImportCreate(Input):
    """``POST /v1/imports``: announce a file; the answer says where to upload it."""

    file_name: str | None = Field(default=None, max_length=255)
    with_resumes: bool = Field(default=False, description="Also upload a ZIP of resumes.")


class ImportCreated(Model):
    id: str
    upload: Upload
    resumes_upload: Upload | None = None
    import_: ImportView = Field(alias="import")

    model_config = {"populate_by_name": True, "defer_build": True}


class ImportPreview(Model):
    columns: list[str]
    mapping: dict[str, ImportField] = Field(description="The guessed field of each column.")
    rows: list[list[str]] = Field(description="The first rows as read.")
    problems: list[str] = Field(default_factory=list)


class ImportStart(Input):
    """``POST /v1/imports/{id}/start``."""

    mapping: dict[str, ImportField] | None = Field(
        default=None, description="column -> field; left out: the guesses."
    )
    tags: Tags = Field(default_factory=list, description="Added to every imported candidate.")
    pool_id: Id | None = Field(default=None, description="Every imported candidate joins this pool.")
    source: Slug = Field(default="import", description="The source of new candidates.")
    dry_run: bool = Field(default=False, description="Read and check every row; write no candidate.")

    @field_validator("mapping")
    @classmethod
    def _columns(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and (len(value) > MAX_COLUMNS or any(len(k) > 200 for k in value)):
            raise ValueError(f"at most {MAX_COLUMNS} columns of at most 200 characters")
        return value

    @model_validator(mode="after")
    def _one_column_a_field(self) -> ImportStart:
        if self.mapping:
            used = [f for f in self.mapping.values() if f not in ("ignore", "tags")]
            twice = sorted({f for f in used if used.count(f) > 1})
            if twice:
                raise ValueError(f"each field may come from one column only: {', '.join(twice)}")
        return self


class FailedRow(Model):
    row: int = Field(description="The row's number in the file (1: the first after the header).")
    values: list[str]
    reason: str
