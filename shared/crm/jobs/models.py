"""Jobs as recruiters create and update them, and as the career site shows them. Every input is
validated by one of these before it reaches a repository; every record the API returns is one of
these.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from crm.platform.fields import (
    Label,
    ShortText,
    Tags,
)
from crm.platform.models import Input, Model, Patch

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
