"""The audit log's records: who did what to which record, when and from where.

An entry names people by their ids only (a candidate's id, a user's Cognito sub or an API key's
id), never by name or address, so it can outlive the person's erasure without keeping their data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from crm.platform.fields import AwareDatetime, Id
from crm.platform.models import Model

#: What is recorded. Each is ``<record>.<what happened>``; integrations filter on these.
AuditAction = Literal[
    "candidate.read",
    "candidate.erased",
    "candidate.merged",
    "candidate.unmerged",
    "export.created",
    "export.downloaded",
    "import.created",
    "user.invited",
    "user.group_changed",
    "user.disabled",
    "user.enabled",
    "api_key.created",
    "api_key.revoked",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.secret_rotated",
    "webhook.redelivered",
    "custom_field.created",
    "custom_field.updated",
    "custom_field.deleted",
    "audit.exported",
    # imports slice
    "import.started",
]
ACTIONS: tuple[str, ...] = AuditAction.__args__  # type: ignore[attr-defined]

#: How long the search may reach back in one query (and the longest retention there is).
MAX_RANGE_DAYS = 3660


class AuditEntry(Model):
    id: str
    at: str = Field(description="When it happened (UTC, ISO 8601).")
    actor: str = Field(description="Who: `user:<sub>`, `api-key:<id>`, `candidate:<id>` or `system`.")
    action: AuditAction
    subject: str = Field(description="The record acted on: `<kind>:<id>` (ids only).")
    person_id: str | None = Field(default=None, description="The candidate the record is about, if any.")
    source_ip: str | None = Field(default=None, description="Where the request came from.")
    user_agent: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, description="Ids and counts; never personal data.")


class AuditSearch(Model):
    """``GET /v1/audit``: by person, by actor, by action, within a time range (newest first)."""

    person: Id | None = Field(default=None, description="A candidate's id.")
    actor: str | None = Field(
        default=None, max_length=200, pattern=r"^(user|api-key|candidate):[A-Za-z0-9_-]{1,128}$|^system$"
    )
    action: AuditAction | None = None
    from_: AwareDatetime | None = Field(default=None, alias="from", description="With a time zone.")
    to: AwareDatetime | None = Field(default=None, description="With a time zone.")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2048)

    model_config = {"populate_by_name": True, "extra": "ignore", "defer_build": True}

    @field_validator("to")
    @classmethod
    def _not_before_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("from_")
        if value is not None and start is not None and start > value:
            raise ValueError("to must not be before from")
        return value

    def bounds(self, now: datetime, kept: timedelta) -> tuple[datetime, datetime]:
        """The range to read, within what can hold entries: none are older than the retention
        (``kept``, plus a month of slack for the TTL's lag) and none are in the future. A search
        from the year 488 reads two years of months, not fifteen centuries."""
        earliest = now - kept - timedelta(days=31)
        end = min(self.to or now, now)
        start = max(self.from_ or earliest, earliest)
        return start, end
