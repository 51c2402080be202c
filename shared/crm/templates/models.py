"""Email templates: what a recruiter writes, and what a preview renders. Every input is validated by
one of these before it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    StringConstraints,
)

from crm.platform.fields import (
    Id,
    Label,
    Version,
    visible_text,
)
from crm.platform.models import Input, Model, Patch

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
