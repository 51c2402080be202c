"""Webhooks: endpoints an admin registers, the messages sent to them and every delivery attempt.

Every input is validated here before it reaches the service: a URL that is not https, or whose
host resolves to an address webhooks may not reach, is a 422 naming ``url``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from crm.platform.config import get_settings
from crm.platform.fields import AwareDatetime, ShortText
from crm.platform.models import Input, Model
from crm.webhooks.addresses import UnsafeUrl, check_url
from crm.webhooks.catalogue import EVENT_TYPES

MAX_URL = 2000
MAX_EVENT_TYPES = 50

MessageState = Literal["pending", "retrying", "delivered", "failed"]
DisabledReason = Literal["gone", "failing", "admin"]


def _checked_url(value: str) -> str:
    value = value.strip()
    if len(value) > MAX_URL:
        raise ValueError(f"at most {MAX_URL} characters")
    try:
        check_url(value, allow_loopback_http=get_settings().webhook_allow_loopback_http)
    except UnsafeUrl as exc:
        raise ValueError(exc.detail) from exc
    return value


def _checked_types(values: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values))
    if not cleaned:
        raise ValueError('name at least one event type, or ["*"] for all')
    if "*" in cleaned:
        if len(cleaned) > 1:
            raise ValueError('"*" means every type: send it alone')
        return cleaned
    unknown = [v for v in cleaned if v not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r} (see the catalogue)")
    return cleaned


class WebhookCreate(Input):
    url: str = Field(max_length=MAX_URL, description="https only; it must resolve to public addresses.")
    event_types: list[str] = Field(
        min_length=1, max_length=MAX_EVENT_TYPES, description='Types from the catalogue, or ["*"] for all.'
    )
    description: ShortText = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _checked_types(value)


class WebhookPatch(Input):
    url: str | None = Field(default=None, max_length=MAX_URL)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=MAX_EVENT_TYPES)
    description: ShortText | None = None
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _checked_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _checked_types(value)


class Webhook(Model):
    """An endpoint as the API shows it (never its secret)."""

    id: str
    url: str
    event_types: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: DisabledReason | None = None
    disabled_at: str | None = None
    created_at: str
    created_by: str
    updated_at: str
    failing_since: str | None = Field(default=None, description="The first failure since the last success.")
    previous_secret_expires_at: str | None = Field(
        default=None, description="After a rotation, until when the old secret still signs (24 h)."
    )
    version: int = 1

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.event_types or event_type in self.event_types)


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret (`whsec_...`), shown once.")


class WebhookSecret(Model):
    id: str
    secret: str = Field(description="The new signing secret, shown once; the old one signs for 24 h more.")
    previous_secret_expires_at: str


class Message(Model):
    """One message for one endpoint (its ``id`` is the ``webhook-id`` of every attempt)."""

    id: str
    endpoint_id: str
    event_type: str
    timestamp: str
    payload: str = Field(description="The JSON body, as signed.")
    created_at: str
    state: MessageState = "pending"
    attempts: int = 0
    next_retry_at: str | None = None
    last_status: int | None = None
    delivered_at: str | None = None


class Attempt(Model):
    """One delivery attempt, as the log shows it."""

    message_id: str
    event_type: str
    attempt: int
    status_code: int | None = None
    latency_ms: int
    response_excerpt: str = Field(default="", description="At most 500 characters of the answer.")
    error: str | None = None
    at: str
    next_retry_at: str | None = None
    manual: bool = Field(default=False, description="A redelivery an admin asked for.")


class DeliveryQuery(Model):
    model_config = {"extra": "ignore", "defer_build": True}

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2048)


class RedeliverSince(Input):
    since: AwareDatetime = Field(
        description="Every message not delivered, created since then (with a time zone)."
    )


class Redelivered(Model):
    queued: int
    message_ids: list[str]


class DeliverJob(Model):
    """A webhook-queue message: deliver (or retry) one message to its endpoint."""

    kind: Literal["deliver"] = "deliver"
    endpoint_id: str
    message_id: str
    manual: bool = False

    @field_validator("endpoint_id", "message_id")
    @classmethod
    def _short(cls, value: str, info: ValidationInfo) -> str:
        if not value or len(value) > 128:
            raise ValueError(f"{info.field_name} is missing or too long")
        return value


def bus_detail(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """An EventBridge event as the rule queued it: ``(event id, type, detail)``, or None."""
    event_type, event_id, detail = body.get("detail-type"), body.get("id"), body.get("detail")
    if isinstance(event_type, str) and isinstance(event_id, str) and isinstance(detail, dict):
        return event_id, event_type, detail
    return None
