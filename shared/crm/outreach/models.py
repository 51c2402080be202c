"""One-to-one email: what a recruiter writes, and what the profile shows of it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm.platform.fields import Id, Label, visible_text
from crm.platform.models import Input, Model

#: Where a sent email stands, as the delivery ledger and SES's events tell it.
EmailState = Literal["queued", "sent", "delivered", "opened", "clicked", "bounced", "complained", "not_sent"]


class EmailCreate(Input):
    subject: Label
    body: visible_text(20_000)  # type: ignore[valid-type]
    conversation_id: Id | None = Field(
        default=None, description="answer in this conversation (the id of its first email); none: a new one"
    )


class Email(Model):
    id: str
    candidate_id: str
    subject: str
    body: str
    sender: str = Field(description="who wrote it (an actor: user:<sub> or api-key:<id>)")
    created_at: str
    conversation_id: str | None = Field(
        default=None, description="the conversation's first email (replies come back to it); none: this one"
    )
    state: EmailState = "queued"
    reason: str | None = Field(default=None, description="why it was not sent (suppressed, erased...)")
