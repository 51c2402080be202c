"""Webhooks: endpoints (create, change, rotate the secret, delete), the fan-out of bus events to
the endpoints that want them, and delivery with retries (Standard Webhooks).

A delivery POSTs ``{"type", "timestamp", "data"}`` with ``webhook-id`` (the message id, the same
on every attempt), ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64>``; for 24 hours
after a rotation the new and the old secret's signatures, space-separated), signed with the
``standardwebhooks`` library. A failed attempt is retried on ``RETRY_SCHEDULE`` (with jitter,
about three days in all) through the due-work index; a 429 waits at least its ``Retry-After``; a
410 disables the endpoint at once; an endpoint failing for five days is disabled and its owner
mailed. Secrets are stored encrypted (AES-GCM under a key derived from the signing secret).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from standardwebhooks import Webhook as StandardWebhook

from crm.mailing.messages import MailJob
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound
from crm.platform.ids import iso, new_id
from crm.platform.queues import send_messages
from crm.platform.signing import mac
from crm.webhooks.addresses import UnsafeUrl, check_url
from crm.webhooks.catalogue import PING, data_of
from crm.webhooks.models import (
    Attempt,
    DeliverJob,
    Message,
    Redelivered,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookPatch,
    WebhookSecret,
)
from crm.webhooks.repository import WebhookRepository
from crm.webhooks.transport import Answer, HttpTransport, Transport

log = logging.getLogger("crm.webhooks")

#: The wait before each retry (the first attempt is immediate): about 2.9 days in all.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=14),
    timedelta(hours=14),
)
#: Each wait is stretched or shrunk by up to this share, at random (no thundering herd).
JITTER = 0.2
#: The longest a Retry-After is honoured for (beyond it, the schedule's wait).
MAX_RETRY_AFTER = timedelta(hours=24)
ROTATION_GRACE = timedelta(hours=24)
FAILING_DISABLES_AFTER = timedelta(days=5)
LEASE = timedelta(seconds=60)
KEEP_LOG = timedelta(days=30)
EXCERPT = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


# ---------------------------------------------------------------------------- secrets


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key() -> bytes:
    return mac("webhook-secret", "aes-gcm-v1")


def encrypt(secret: str, endpoint_id: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, secret.encode(), endpoint_id.encode())
    return base64.b64encode(nonce + sealed).decode()


def decrypt(sealed: str, endpoint_id: str) -> str:
    raw = base64.b64decode(sealed)
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], endpoint_id.encode()).decode()


def signature(secrets_: Iterable[str], message_id: str, timestamp: datetime, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret, space-separated."""
    return " ".join(StandardWebhook(s).sign(message_id, timestamp, body) for s in secrets_)


# ---------------------------------------------------------------------------- retries


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta | None:
    """The wait after failed attempt number ``attempt`` (1-based), jittered; None: no more tries."""
    if attempt < 1 or attempt > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempt - 1].total_seconds()
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=base * factor)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` (seconds or an HTTP date) as a wait, at most ``MAX_RETRY_AFTER``."""
    if not value:
        return None
    value = value.strip()
    wait: timedelta | None = None
    if value.isdigit():
        wait = timedelta(seconds=int(value[:9]))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = max(timedelta(0), when - now)
    return min(wait, MAX_RETRY_AFTER)


def message_id_for(event_id: str, endpoint_id: str) -> str:
    """The same bus event gives the same message id for an endpoint (a replay is one message)."""
    return "msg_" + hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()[:26]


def _ttl(now: datetime) -> int:
    return int((now + KEEP_LOG).timestamp())


def _queue(jobs: list[DeliverJob]) -> None:
    if jobs:
        send_messages(get_settings().webhook_queue_url, [j.model_dump_json() for j in jobs])


# ---------------------------------------------------------------------------- endpoints


class WebhookService:
    def __init__(self, repository: WebhookRepository | None = None) -> None:
        self.repository = repository or WebhookRepository()

    def create(self, data: WebhookCreate, *, created_by: str, owner_email: str | None) -> WebhookCreated:
        """A new endpoint; its secret is returned this once. A ping is queued for it."""
        now = iso(clock.now())
        endpoint_id = "ep_" + new_id()[:20]
        secret = new_secret()
        record = Webhook(
            id=endpoint_id,
            url=data.url,
            event_types=data.event_types,
            description=data.description or "",
            created_at=now,
            created_by=created_by,
            updated_at=now,
        )
        self.repository.insert(record, secret_enc=encrypt(secret, endpoint_id), owner_email=owner_email)
        self.ping(endpoint_id)
        return WebhookCreated(secret=secret, **record.model_dump())

    def ping(self, endpoint_id: str) -> Message:
        message = new_message(endpoint_id, PING, {"endpoint_id": endpoint_id}, "msg_" + new_id()[:26])
        self.repository.put_message(message, ttl=_ttl(clock.now()))
        _queue([DeliverJob(endpoint_id=endpoint_id, message_id=message.id)])
        return message

    def get(self, endpoint_id: str) -> Webhook:
        return self.repository.get(endpoint_id)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Webhook], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def update(self, endpoint_id: str, patch: WebhookPatch) -> tuple[Webhook, list[str]]:
        """Apply the patch; returns the endpoint and the names of what changed."""
        current = self.repository.get(endpoint_id)
        changes: dict[str, Any] = {
            k: v for k, v in patch.model_dump(exclude_none=True).items() if getattr(current, k) != v
        }
        if not changes:
            return current, []
        remove: tuple[str, ...] = ()
        if changes.get("enabled") is True:
            remove = ("disabled_reason", "disabled_at", "failing_since")
        elif changes.get("enabled") is False:
            changes.update(disabled_reason="admin", disabled_at=iso(clock.now()))
        changes["updated_at"] = iso(clock.now())
        updated = self.repository.change(endpoint_id, changes, version=current.version, remove=remove)
        return updated, sorted(
            k for k in changes if k not in ("updated_at", "disabled_reason", "disabled_at")
        )

    def rotate(self, endpoint_id: str) -> WebhookSecret:
        """A new secret (returned this once); the current one keeps signing for 24 hours."""
        found = self.repository.find(endpoint_id)
        if found is None:
            raise NotFound(f"No webhook endpoint with id {endpoint_id}.")
        current, stored = found
        now = clock.now()
        secret = new_secret()
        expires = iso(now + ROTATION_GRACE)
        self.repository.change(
            endpoint_id,
            {
                "secret_enc": encrypt(secret, endpoint_id),
                "previous_secret_enc": stored.current,
                "previous_secret_expires_at": expires,
                "updated_at": iso(now),
            },
            version=current.version,
        )
        return WebhookSecret(id=endpoint_id, secret=secret, previous_secret_expires_at=expires)

    def delete(self, endpoint_id: str) -> None:
        self.repository.delete(endpoint_id)

    def attempts(
        self, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Attempt], str | None]:
        self.repository.get(endpoint_id)
        return self.repository.attempts_page(endpoint_id, limit=limit, cursor=cursor)

    def redeliver(self, endpoint_id: str, message_ids: list[str]) -> Redelivered:
        endpoint = self.repository.get(endpoint_id)
        if not endpoint.enabled:
            raise Conflict("The endpoint is disabled: enable it first.", field="enabled")
        reopened = [m for m in message_ids if self.repository.reopen(endpoint_id, m)]
        if message_ids and not reopened:
            raise NotFound(f"No message {message_ids[0]} for this endpoint.")
        _queue([DeliverJob(endpoint_id=endpoint_id, message_id=m, manual=True) for m in reopened])
        return Redelivered(queued=len(reopened), message_ids=reopened)

    def redeliver_failed_since(self, endpoint_id: str, since: datetime) -> Redelivered:
        endpoint = self.repository.get(endpoint_id)
        if not endpoint.enabled:
            raise Conflict("The endpoint is disabled: enable it first.", field="enabled")
        failed = self.repository.failed_since(endpoint_id, iso(since))
        ids = [m.id for m in failed if m.state != "delivered"]
        if not ids:
            return Redelivered(queued=0, message_ids=[])
        return self.redeliver(endpoint_id, ids)


def new_message(endpoint_id: str, event_type: str, data: dict[str, Any], message_id: str) -> Message:
    now = clock.now()
    timestamp = iso(now)
    payload = json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))
    return Message(
        id=message_id,
        endpoint_id=endpoint_id,
        event_type=event_type,
        timestamp=timestamp,
        payload=payload,
        created_at=timestamp,
    )


# ---------------------------------------------------------------------------- delivery


class DeliveryService:
    """The webhook worker's part: fan-out, delivery, retries (``transport`` makes the requests)."""

    def __init__(
        self,
        repository: WebhookRepository | None = None,
        *,
        transport: Transport | None = None,
        rng: random.Random | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        mail: Callable[[MailJob], None] | None = None,
    ) -> None:
        self.repository = repository or WebhookRepository()
        self.transport = transport or HttpTransport()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.wall_clock = wall_clock
        self.mail = mail or _queue_mail

    def fan_out(self, event_id: str, event_type: str, detail: dict[str, Any]) -> list[str]:
        """One message per enabled endpoint that wants this type; returns the message ids queued."""
        data = data_of(event_type, detail)
        jobs = []
        for endpoint in self.repository.all():
            if not endpoint.wants(event_type):
                continue
            message = new_message(endpoint.id, event_type, data, message_id_for(event_id, endpoint.id))
            self.repository.put_message(message, ttl=_ttl(clock.now()))
            jobs.append(DeliverJob(endpoint_id=endpoint.id, message_id=message.id))
        _queue(jobs)
        return [j.message_id for j in jobs]

    def deliver(self, job: DeliverJob) -> Attempt | None:
        """One attempt of one message (None: nothing to do: delivered, taken, or no endpoint)."""
        found = self.repository.find(job.endpoint_id)
        message = self.repository.get_message(job.endpoint_id, job.message_id)
        if message is None or message.state == "delivered":
            return None
        if found is None or not found[0].enabled:
            self.repository.release(message)
            return None
        endpoint, stored = found
        now = clock.now()
        if not self.repository.claim(endpoint.id, message.id, now=iso(now), lease_until=iso(now + LEASE)):
            return None
        number = message.attempts + 1
        answer = self._send(endpoint, stored, message)
        at = clock.now()
        ok = answer.status is not None and 200 <= answer.status < 300
        next_at: datetime | None = None
        if not ok and answer.status != 410:
            wait = retry_delay(number, rng=self.rng)
            if wait is not None and answer.status == 429:
                wait = max(wait, retry_after(answer.retry_after, at) or wait)
            next_at = at + wait if wait is not None else None
        attempt = Attempt(
            message_id=message.id,
            event_type=message.event_type,
            attempt=number,
            status_code=answer.status,
            latency_ms=answer.latency_ms,
            response_excerpt=answer.body[:EXCERPT],
            error=answer.error or _error_of(answer.status),
            at=iso(at),
            next_retry_at=iso(next_at) if next_at else None,
            manual=job.manual,
        )
        self.repository.add_attempt(endpoint.id, attempt, ttl=_ttl(at))
        if ok:
            assert answer.status is not None
            self.repository.delivered(message, at=iso(at), status=answer.status, attempts=number)
            if endpoint.failing_since:
                self.repository.clear_failing(endpoint.id)
            return attempt
        self.repository.failed(
            message, attempts=number, status=answer.status, next_retry_at=attempt.next_retry_at
        )
        if answer.status == 410:
            self._disable(endpoint, stored.owner_email, reason="gone", at=at)
            return attempt
        since = self.repository.mark_failing(endpoint.id, iso(at)) or iso(at)
        started = datetime.fromisoformat(since.replace("Z", "+00:00"))
        if at - started >= FAILING_DISABLES_AFTER:
            self._disable(endpoint, stored.owner_email, reason="failing", at=at)
        return attempt

    def _send(self, endpoint: Webhook, stored: Any, message: Message) -> Answer:
        try:
            target = check_url(endpoint.url, allow_loopback_http=get_settings().webhook_allow_loopback_http)
        except UnsafeUrl as exc:
            return Answer(status=None, latency_ms=0, error=f"refused: {exc.detail}")
        signing = [decrypt(stored.current, endpoint.id)]
        expires = endpoint.previous_secret_expires_at
        if stored.previous and expires and expires > iso(clock.now()):
            signing.append(decrypt(stored.previous, endpoint.id))
        timestamp = self.wall_clock()  # what the receiver compares with its own clock
        headers = {
            "webhook-id": message.id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature(signing, message.id, timestamp, message.payload),
        }
        return self.transport.post(target, message.payload.encode(), headers)

    def _disable(self, endpoint: Webhook, owner_email: str | None, *, reason: str, at: datetime) -> None:
        if not self.repository.disable(endpoint.id, reason=reason, at=iso(at)):
            return
        log.warning("webhook endpoint disabled", extra={"endpoint": endpoint.id, "reason": reason})
        if owner_email:
            self.mail(
                MailJob(kind="webhook_disabled", ref=f"{endpoint.id}/{iso(at)}", recipients=[endpoint.id])
            )

    def queue_due(self, items: list[dict[str, Any]]) -> int:
        """Messages whose retry is due (due-work items): queued, then taken out of the index."""
        jobs, taken = [], []
        for item in items:
            endpoint_id, message_id = str(item.get("endpoint_id", "")), str(item.get("id", ""))
            if endpoint_id and message_id:
                jobs.append(DeliverJob(endpoint_id=endpoint_id, message_id=message_id))
                taken.append((endpoint_id, message_id, str(item.get("gsi2sk", ""))))
        _queue(jobs)
        for endpoint_id, message_id, sort in taken:
            self.repository.taken_from_due(endpoint_id, message_id, sort)
        return len(jobs)


def _error_of(status: int | None) -> str | None:
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return "redirect not followed"
    if status == 410:
        return "gone: the endpoint is disabled"
    return f"HTTP {status}"


def _queue_mail(job: MailJob) -> None:
    send_messages(get_settings().mail_queue_url, [job.model_dump_json()])
