"""What the engagement queues carry (message bodies are JSON of these models), and how one mail
message is named: the digest of its recipients (its lock, its campaign tally)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from crm.platform.models import Model

#: Recipients per mail-queue message: small enough to finish well inside the worker's timeout.
RECIPIENTS_PER_MESSAGE = 50

MailKind = Literal[
    "campaign",
    "sequence",
    "job_alert",
    "alert_confirm",
    "reminder",
    "portal_link",
    "outreach",
    "reply_notice",
    "stage_update",
    "referral_invite",
    "referral_status",
    "interview",
    "interview_team",
    "event",
    "webhook_disabled",  # webhooks: an endpoint's owner hears it was disabled
]


class DispatchRequest(Model):
    """Page an audience onto the mail queue (a campaign's, or a job's alert subscribers), or carry
    out a bulk action page by page; ``stage_update`` is a status email whose time has come (a
    rejection's, after its delay): its ``id`` is the mail message's ref."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: Literal["campaign", "job_alert", "bulk", "stage_update"]
    id: str
    run: str | None = Field(default=None, description="a job's alert run (the time it opened)")


class MailJob(Model):
    """Send one mailing to a few recipients (candidate ids; for reminders ``<candidate>/<reminder>``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: MailKind
    ref: str
    step: int | None = None
    recipients: Annotated[list[str], Field(min_length=1, max_length=RECIPIENTS_PER_MESSAGE)]


def chunks(values: list[str], size: int = RECIPIENTS_PER_MESSAGE) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def message_digest(recipients: list[str]) -> str:
    """One mail message's name: the same recipients (in any order) give the same digest, so every
    delivery and retry of a message finds the same lock and writes the same tally."""
    return hashlib.sha256("\n".join(sorted(recipients)).encode()).hexdigest()[:32]
