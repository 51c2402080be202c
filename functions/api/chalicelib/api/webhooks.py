"""Admin API: webhook endpoints (Standard Webhooks), their delivery log and redelivery."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.webhooks.catalogue import describe
from crm.webhooks.models import (
    Attempt,
    DeliveryQuery,
    Redelivered,
    RedeliverSince,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookPatch,
    WebhookSecret,
)
from crm.webhooks.service import WebhookService

bp = Blueprint(__name__)

SIGNING = (
    'Each delivery is a POST of `{"type", "timestamp", "data"}` with the headers `webhook-id` '
    "(the same on every attempt of a message), `webhook-timestamp` and `webhook-signature` "
    "(Standard Webhooks, `v1,<base64 HMAC-SHA256>`; for 24 hours after a rotation both the new and "
    "the old secret's signatures, space-separated). Only https URLs that resolve to public "
    "addresses; redirects are not followed. Failed attempts are retried for about three days; "
    "410 disables the endpoint. Event types:\n\n"
)


@endpoint(
    bp,
    "/v1/webhooks",
    "GET",
    summary="List webhook endpoints (admins)",
    tag="webhooks",
    permission="admin",
    query=PageQuery,
    response=Webhook,
    paginated=True,
)
def list_webhooks(call: Call) -> dict[str, Any]:
    items, next_cursor = WebhookService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/webhooks",
    "POST",
    summary="Register a webhook endpoint; its secret is returned once, and a ping is sent (admins)",
    tag="webhooks",
    permission="admin",
    body=WebhookCreate,
    response=WebhookCreated,
    status=201,
    description=SIGNING + describe(),
)
def create_webhook(call: Call) -> WebhookCreated:
    principal = call.principal
    owner = principal.email if principal is not None else None
    created = WebhookService().create(call.body, created_by=call.actor, owner_email=owner)
    audit(
        call, "webhook.created", subject=f"webhook:{created.id}", details={"types": len(created.event_types)}
    )
    return created


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}",
    "GET",
    summary="A webhook endpoint (admins)",
    tag="webhooks",
    permission="admin",
    response=Webhook,
    errors=(404,),
)
def get_webhook(call: Call, webhook_id: str) -> Webhook:
    return WebhookService().get(webhook_id)


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}",
    "PATCH",
    summary="Change a webhook endpoint's URL, event types, description or enabled state (admins)",
    tag="webhooks",
    permission="admin",
    body=WebhookPatch,
    response=Webhook,
    errors=(404, 409),
)
def update_webhook(call: Call, webhook_id: str) -> Webhook:
    updated, changed = WebhookService().update(webhook_id, call.body)
    if changed:
        audit(call, "webhook.updated", subject=f"webhook:{webhook_id}", details={"fields": ",".join(changed)})
    return updated


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}",
    "DELETE",
    summary="Delete a webhook endpoint (admins)",
    tag="webhooks",
    permission="admin",
    status=204,
    errors=(404,),
)
def delete_webhook(call: Call, webhook_id: str) -> None:
    WebhookService().delete(webhook_id)
    audit(call, "webhook.deleted", subject=f"webhook:{webhook_id}")


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}/rotate-secret",
    "POST",
    summary="Rotate the signing secret: the new one is returned once, the old one signs 24 h more (admins)",
    tag="webhooks",
    permission="admin",
    response=WebhookSecret,
    errors=(404, 409),
)
def rotate_secret(call: Call, webhook_id: str) -> WebhookSecret:
    rotated = WebhookService().rotate(webhook_id)
    audit(call, "webhook.secret_rotated", subject=f"webhook:{webhook_id}")
    return rotated


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}/deliveries",
    "GET",
    summary="The delivery log of an endpoint, newest attempt first (admins)",
    tag="webhooks",
    permission="admin",
    query=DeliveryQuery,
    response=Attempt,
    paginated=True,
    errors=(404,),
)
def list_deliveries(call: Call, webhook_id: str) -> dict[str, Any]:
    items, next_cursor = WebhookService().attempts(
        webhook_id, limit=call.query.limit, cursor=call.query.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver",
    "POST",
    summary="Send one message again (same webhook-id) (admins)",
    tag="webhooks",
    permission="admin",
    response=Redelivered,
    status=202,
    errors=(404, 409),
)
def redeliver_message(call: Call, webhook_id: str, message_id: str) -> Redelivered:
    if len(message_id) > 128:
        message_id = message_id[:128]
    done = WebhookService().redeliver(webhook_id, [message_id])
    audit(call, "webhook.redelivered", subject=f"webhook:{webhook_id}", details={"messages": done.queued})
    return done


@endpoint(
    bp,
    "/v1/webhooks/{webhook_id}/redeliver",
    "POST",
    summary="Send again every message not delivered, created since a time (admins)",
    tag="webhooks",
    permission="admin",
    body=RedeliverSince,
    response=Redelivered,
    status=202,
    errors=(404, 409),
)
def redeliver_since(call: Call, webhook_id: str) -> Redelivered:
    done = WebhookService().redeliver_failed_since(webhook_id, call.body.since)
    audit(call, "webhook.redelivered", subject=f"webhook:{webhook_id}", details={"messages": done.queued})
    return done
