"""Replies: what a candidate wrote back to a one-to-one email, as the profile shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crm.platform.models import Model

#: Why an inbound message was not attached to anybody (it is copied to ``quarantine/``).
QuarantineReason = Literal[
    "too_large",
    "malformed",
    "no_token",
    "bad_token",
    "expired_token",
    "unknown_candidate",
    "unknown_conversation",
]
#: Attachment types kept, by what their bytes are (never by what the sender says).
AttachmentKind = Literal["pdf", "docx", "png", "jpeg", "txt"]


class ReplyAttachment(Model):
    index: int = Field(description="its place among the reply's kept attachments (the download's name)")
    filename: str
    kind: AttachmentKind
    size: int


class DroppedAttachment(Model):
    filename: str
    reason: str = Field(description="why it was not kept (its type, its size)")


class Reply(Model):
    id: str = Field(
        description="the reply's id: the digest of its Message-ID (a redelivery is the same reply)"
    )
    candidate_id: str
    conversation_id: str = Field(description="the first email of the conversation it answers")
    sender: str = Field(description="the address it came from")
    subject: str
    text: str = Field(description="what the candidate wrote, quoted history taken off")
    received_at: str
    attachments: list[ReplyAttachment] = Field(default_factory=list)
    dropped: list[DroppedAttachment] = Field(default_factory=list)


class Outcome(Model):
    """What became of one inbound message (for the consumer's log and metrics: no personal data)."""

    status: Literal["stored", "duplicate", "quarantined", "gone"]
    reason: QuarantineReason | None = None
    reply_id: str | None = None


class AttachmentLink(Model):
    url: str = Field(description="a presigned download link")
    expires_in: int = Field(description="seconds the link works")
