"""Inbound mail: a candidate's reply to a one-to-one email comes back to the conversation.

SES receiving (the local stack: its SMTP server) writes each raw message under ``inbound/`` in the
inbound bucket; the bucket's notification puts it on the inbound queue; ``InboundMailFunction``
hands each object's key to :meth:`InboundService.receive`, which

1. reads the message (at most ``MAX_INBOUND_MAIL_BYTES``; a larger one is quarantined) and parses
   it (``parsing.parse``: never more than ``MalformedMail``);
2. finds a reply address in To/Cc/Delivered-To and checks its token (``crm.outreach.replies``):
   no token, a forged or expired one, an unknown candidate or conversation -> quarantine;
3. keeps the attachments of the allowed types and size under the person's prefix in the private
   bucket (erased with them), notes the others as dropped;
4. stores the reply under the person with a ``replied`` timeline entry, in one transaction that
   fails when the reply (keyed by the digest of its Message-ID) is already there: a redelivered
   message stores nothing twice;
5. stops the person's sequences that stop on ``replied``, queues the email that tells the
   recruiter who wrote the conversation's latest email (the delivery ledger sends it once), and
   deletes the raw message (its content now lives under the person). Steps 5 are idempotent and
   run again for a redelivered message, so a crash between 4 and 5 loses nothing.

Quarantine copies the raw message to ``quarantine/`` (the bucket's lifecycle expires it), deletes
the original and counts it (a counter item per day and reason); it is never attached to anybody.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote_plus

from crm.candidates.service import CandidateService
from crm.inbound.models import DroppedAttachment, Outcome, QuarantineReason, Reply, ReplyAttachment
from crm.inbound.parsing import CONTENT_TYPES, MalformedMail, ParsedMail, parse, sniff
from crm.inbound.repository import ReplyRepository
from crm.mailing.messages import MailJob
from crm.outreach.models import Email
from crm.outreach.replies import read_reply_token, token_of
from crm.outreach.service import EmailService
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.ids import iso, utcnow
from crm.platform.objects import ObjectStore
from crm.platform.queues import send_message
from crm.platform.signing import InvalidLink
from crm.sequences.service import SequenceService

RAW_PREFIX = "inbound/"
QUARANTINE_PREFIX = "quarantine/"
#: The delivery ledger's scope of one reply's notice to the recruiter.
NOTICE_SCOPE_PREFIX = "reply#"


class Quarantined(Exception):
    def __init__(self, reason: QuarantineReason) -> None:
        super().__init__(reason)
        self.reason: QuarantineReason = reason


class Queue(Protocol):
    def __call__(self, queue_url: str, body: str) -> None: ...


def reply_id_of(message_id: str) -> str:
    """A reply's id: the same Message-ID gives the same id (idempotency), whatever its case."""
    return hashlib.sha256(message_id.strip().lower().encode()).hexdigest()[:32]


def object_keys(body: str) -> list[str]:
    """The object keys an S3 event notification (an SQS message's body) names; none for S3's test
    event. ``ValueError`` for a body that is not a notification (the message is retried, then dead)."""
    document: Any = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("not an S3 event notification")
    if document.get("Event") == "s3:TestEvent":
        return []
    records = document.get("Records")
    if not isinstance(records, list):
        raise ValueError("not an S3 event notification")
    keys = []
    for record in records:
        key = (
            ((record or {}).get("s3") or {}).get("object", {}).get("key")
            if isinstance(record, dict)
            else None
        )
        if not isinstance(key, str) or not key:
            raise ValueError("an S3 event record without an object key")
        if str(record.get("eventName", "ObjectCreated")).startswith("ObjectCreated"):
            keys.append(unquote_plus(key))  # S3 sends keys URL-encoded
    return keys


def notice_scope(reply_id: str) -> str:
    return f"{NOTICE_SCOPE_PREFIX}{reply_id}"


class InboundService:
    def __init__(
        self,
        repository: ReplyRepository | None = None,
        *,
        raw: ObjectStore | None = None,
        files: ObjectStore | None = None,
        candidates: CandidateService | None = None,
        emails: EmailService | None = None,
        sequences: SequenceService | None = None,
        queue: Queue | None = None,
    ) -> None:
        settings = get_settings()
        self.repository = repository or ReplyRepository()
        self.raw = raw or ObjectStore(settings.inbound_mail_bucket)
        self.files = files or ObjectStore(settings.resume_bucket)
        self.candidates = candidates or CandidateService()
        self.emails = emails or EmailService(candidates=self.candidates)
        self.sequences = sequences or SequenceService()
        self.queue = queue or send_message

    # ------------------------------------------------------------------ reading

    def replies(self, candidate_id: str) -> list[Reply]:
        """The person's replies, newest first (``NotFound`` is the caller's: it reads the person)."""
        return self.repository.of_candidate(candidate_id)

    def get(self, candidate_id: str, reply_id: str) -> Reply | None:
        return self.repository.get(candidate_id, reply_id)

    def attachment_url(self, candidate_id: str, reply_id: str, index: int, *, expires_in: int = 300) -> str:
        """A short-lived link to one kept attachment; ``NotFound`` for none."""
        key = self.repository.attachment_key(candidate_id, reply_id, index)
        if key is None:
            raise NotFound("No such attachment.")
        return self.files.download_url(key, expires_in=expires_in)

    # ------------------------------------------------------------------ receiving

    def receive(self, key: str) -> Outcome:
        """Handle the raw message at ``key`` in the inbound bucket (see the module docstring)."""
        if not key.startswith(RAW_PREFIX):
            return Outcome(status="gone")  # not ours to read (a quarantined copy, a test object)
        limit = get_settings().max_inbound_mail_bytes
        size = self.raw.size(key)
        if size is None:
            return Outcome(status="gone")  # handled (and deleted) by an earlier delivery
        try:
            if size > limit:
                raise Quarantined("too_large")
            if size == 0:
                raise Quarantined("malformed")
            raw = self.raw.read(key, max_bytes=limit)
            if raw is None:
                return Outcome(status="gone")
            try:
                mail = parse(raw)
            except MalformedMail:
                raise Quarantined("malformed") from None
            candidate_id, conversation_id = self._addressee(mail)
            outcome = self._store(mail, candidate_id, conversation_id)
        except Quarantined as exc:
            self.quarantine(key, exc.reason)
            return Outcome(status="quarantined", reason=exc.reason)
        self.raw.delete(key)
        return outcome

    def _addressee(self, mail: ParsedMail) -> tuple[str, str]:
        """The candidate and conversation the message's reply address names."""
        tokens = [t for t in (token_of(a) for a in mail.recipients) if t]
        if not tokens:
            raise Quarantined("no_token")
        reason: QuarantineReason = "bad_token"
        for token in dict.fromkeys(tokens):
            try:
                found = read_reply_token(token)
            except InvalidLink as exc:
                if "expired" in str(exc):
                    reason = "expired_token"
                continue
            try:
                self.candidates.get(found.candidate_id)
            except NotFound:
                raise Quarantined("unknown_candidate") from None
            first = self.emails.conversation_by_prefix(found.candidate_id, found.conversation_prefix)
            if first is None:
                raise Quarantined("unknown_conversation")
            return found.candidate_id, first.id
        raise Quarantined(reason)

    def _attachments(
        self, mail: ParsedMail, candidate_id: str, reply_id: str
    ) -> tuple[list[ReplyAttachment], list[str], list[DroppedAttachment]]:
        limit = get_settings().max_reply_attachment_bytes
        kept: list[ReplyAttachment] = []
        keys: list[str] = []
        dropped: list[DroppedAttachment] = []
        prefix = self.candidates.resumes_store.prefix(candidate_id)
        for part in mail.parts:
            if not part.data:
                dropped.append(DroppedAttachment(filename=part.filename, reason="empty or unreadable"))
                continue
            if len(part.data) > limit:
                dropped.append(
                    DroppedAttachment(
                        filename=part.filename, reason=f"larger than {limit // (1024 * 1024)} MB"
                    )
                )
                continue
            kind = sniff(part.filename, part.data)
            if kind is None:
                dropped.append(
                    DroppedAttachment(filename=part.filename, reason="not a PDF, DOCX, PNG, JPEG or text")
                )
                continue
            index = len(kept)
            # Named by the reply's id: a redelivery writes the same objects again, not new ones.
            key = f"{prefix}replies/{reply_id}/{index}.{kind}"
            download_as = part.filename.encode("ascii", "ignore").decode() or f"attachment.{kind}"
            self.files.put(key, part.data, content_type=CONTENT_TYPES[kind], filename=download_as)
            kept.append(ReplyAttachment(index=index, filename=part.filename, kind=kind, size=len(part.data)))
            keys.append(key)
        if mail.skipped_parts:
            dropped.append(
                DroppedAttachment(filename=f"{mail.skipped_parts} more", reason="too many or unreadable")
            )
        return kept, keys, dropped

    def _store(self, mail: ParsedMail, candidate_id: str, conversation_id: str) -> Outcome:
        reply_id = reply_id_of(mail.message_id)
        if self.repository.get(candidate_id, reply_id) is not None:
            self._follow_up(candidate_id, reply_id)
            return Outcome(status="duplicate", reply_id=reply_id)
        attachments, keys, dropped = self._attachments(mail, candidate_id, reply_id)
        reply = Reply(
            id=reply_id,
            candidate_id=candidate_id,
            conversation_id=conversation_id,
            sender=mail.sender,
            subject=mail.subject,
            text=mail.text,
            received_at=utcnow(),
            attachments=attachments,
            dropped=dropped,
        )
        try:
            self.candidates.record_activity(
                candidate_id,
                "replied",
                actor="candidate",
                at=reply.received_at,
                detail={"reply_id": reply_id, "conversation_id": conversation_id, "subject": reply.subject},
                along_with=[self.repository.put_operation(reply, attachment_keys=keys)],
            )
        except NotFound:
            if self.repository.get(candidate_id, reply_id) is not None:  # a concurrent delivery won
                self._follow_up(candidate_id, reply_id)
                return Outcome(status="duplicate", reply_id=reply_id)
            for key in keys:
                self.files.delete_all_versions(key)
            raise Quarantined("unknown_candidate") from None
        self._follow_up(candidate_id, reply_id)
        return Outcome(status="stored", reply_id=reply_id)

    def _follow_up(self, candidate_id: str, reply_id: str) -> None:
        """What a stored reply sets in motion; each step is idempotent (see the module docstring)."""
        self.sequences.stop_all(candidate_id, reason="replied", now=iso(clock.now()))
        job = MailJob(kind="reply_notice", ref=f"{candidate_id}/{reply_id}", recipients=[candidate_id])
        self.queue(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))

    def quarantine(self, key: str, reason: QuarantineReason) -> None:
        """Keep the raw message aside (never attached to anybody) and count it."""
        self.raw.copy(key, f"{QUARANTINE_PREFIX}{reason}/{key.removeprefix(RAW_PREFIX)}")
        self.raw.delete(key)
        self.repository.count_quarantined(reason, day=utcnow()[:10])

    def quarantined(self, day: str) -> dict[str, int]:
        """How many messages were quarantined on ``day`` (YYYY-MM-DD), by reason, and ``total``."""
        return self.repository.quarantined(day)


@dataclass
class Thread:
    """One conversation as the profile shows it: its emails and replies, newest first."""

    conversation_id: str
    subject: str
    latest_at: str
    messages: list[Email | Reply] = field(default_factory=list)


def threads(emails: list[Email], replies: list[Reply]) -> list[Thread]:
    """The one-to-one emails and their replies by conversation, newest conversation first; a reply
    whose conversation is gone (an email taken back) still shows, as a conversation of its own."""
    found: dict[str, Thread] = {}
    messages: list[tuple[str, str, Email | Reply]] = [
        (e.created_at, e.conversation_id or e.id, e) for e in emails
    ] + [(r.received_at, r.conversation_id, r) for r in replies]
    for at, conversation_id, message in sorted(messages, key=lambda m: (m[0], m[2].id)):
        thread = found.get(conversation_id)
        if thread is None:
            thread = found[conversation_id] = Thread(
                conversation_id=conversation_id, subject=message.subject, latest_at=at
            )
        if isinstance(message, Email) and message.id == conversation_id:
            thread.subject = message.subject
        thread.latest_at = max(thread.latest_at, at)
        thread.messages.insert(0, message)
    return sorted(found.values(), key=lambda t: (t.latest_at, t.conversation_id), reverse=True)
