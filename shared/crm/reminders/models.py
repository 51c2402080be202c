"""Reminders: what a recruiter sets on a candidate, and how it is listed. Every input is validated by
one of these before it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
)

from crm.platform.fields import (
    AwareDatetime,
    Id,
    visible_text,
)
from crm.platform.models import Input, Model


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
