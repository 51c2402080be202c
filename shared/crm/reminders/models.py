"""Reminders: what a recruiter sets on a candidate, and how it is listed. Every input is validated by
one of these before it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from crm.platform.fields import (
    AwareDatetime,
    Id,
    visible_text,
)
from crm.platform.models import Input, Model, Patch


class ReminderCreate(Input):
    candidate_id: Id
    due_at: AwareDatetime
    note: visible_text(2000)  # type: ignore[valid-type]


class ReminderPatch(Patch):
    """Snooze (a new ``due_at``: it is pending again and emails again when due), reword (``note``)
    or complete (``done: true``: it leaves your list and never emails) a reminder."""

    not_null = ("due_at", "note", "done")

    due_at: AwareDatetime | None = None
    note: visible_text(2000) | None = None  # type: ignore[valid-type]
    done: Literal[True] | None = Field(default=None, description="true: the reminder is done")

    @model_validator(mode="after")
    def _one_kind_of_change(self) -> ReminderPatch:
        changes = self.changes()
        if not changes:
            raise ValueError("give due_at to snooze, note to reword, or done: true to complete")
        if "done" in changes and "due_at" in changes:
            raise ValueError("complete a reminder or snooze it, not both")
        return self


class Reminder(Model):
    id: str
    candidate_id: str
    due_at: str
    note: str
    owner: str = Field(description="the recruiter who set it (their sign-in email)")
    state: Literal["pending", "notified", "done"]
    due: bool = Field(default=False, description="due_at has passed")
    notified_at: str | None = None
    completed_at: str | None = None
    created_at: str


class ReminderQuery(Model):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    due: bool | None = Field(default=None, description="true: only reminders that are due")
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None
