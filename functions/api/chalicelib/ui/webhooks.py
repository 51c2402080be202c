"""The admin's webhook pages: the endpoints (register one: its secret is shown once), and per
endpoint its delivery log (status, latency, the answer's excerpt), "Redeliver" per message and
"Redeliver failed since", secret rotation, disabling and deleting. Admins only.

The forms use what the JSON API uses: ``WebhookCreate`` and ``WebhookService``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, paging, query_value, see_other, text, ui_route
from crm.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm.webhooks.catalogue import CATALOGUE, PING
from crm.webhooks.models import WebhookCreate, WebhookPatch, WebhookSecret
from crm.webhooks.service import WebhookService

bp = Blueprint(__name__)

PAGE_SIZE = 50
ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
NOTICES = {
    "redelivered": "Queued again: the log shows the new attempt in a moment.",
    "none": "Nothing failed since then: nothing was queued.",
    "enabled": "The endpoint is enabled again.",
    "disabled": "The endpoint is disabled: nothing is sent to it.",
    "deleted": "The endpoint is deleted.",
}
TYPES = [e for e in CATALOGUE if e.name != PING]


def _admin_only(session: Session) -> None:
    if not session.principal.allows("admin"):
        raise Forbidden("Only admins can manage webhooks. Ask an admin if you need this.")


def _checked_id(value: str) -> str:
    if not ID.match(value):
        raise NotFound(f"No webhook endpoint with id {value}.")
    return value


def _list_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    cursor = query_value(call, "cursor") or None
    endpoints, next_cursor = WebhookService().list_page(limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_admin_webhooks.html",
        status=status,
        session=session,
        endpoints=endpoints,
        types=TYPES,
        **paging("/ui/admin/webhooks", cursor, next_cursor),
        form=form or {"url": "", "description": "", "event_types": ["*"]},
        errors=errors or {},
        notice=NOTICES.get(query_value(call, "done")) if status == 200 else None,
        problem="The endpoint was not added; see the marked fields." if errors else "",
    )


def _detail_page(
    call: Call,
    session: Session,
    webhook_id: str,
    *,
    secret: str | None = None,
    rotated: WebhookSecret | None = None,
    status: int = 200,
    problem: str = "",
) -> Response:
    service = WebhookService()
    endpoint = service.get(webhook_id)
    cursor = query_value(call, "cursor") or None
    attempts, next_cursor = service.attempts(webhook_id, limit=PAGE_SIZE, cursor=cursor)
    newest: set[tuple[str, int]] = set()
    seen: set[str] = set()
    for a in attempts:  # newest first: the redeliver button goes on each message's newest row
        if a.message_id not in seen:
            seen.add(a.message_id)
            newest.add((a.message_id, a.attempt))
    return page(
        "ui_admin_webhook.html",
        status=status,
        session=session,
        endpoint=endpoint,
        attempts=attempts,
        newest=newest,
        secret=secret,
        rotated=rotated,
        **paging(f"/ui/admin/webhooks/{quote(webhook_id)}", cursor, next_cursor),
        notice=NOTICES.get(query_value(call, "done"))
        if status == 200 and not secret and not rotated
        else None,
        problem=problem,
    )


def _audit(
    call: Call, session: Session, action: str, webhook_id: str, details: dict[str, Any] | None = None
) -> None:
    """One audit entry for a change to an endpoint, by the signed-in admin."""
    audit(call, action, subject=f"webhook:{webhook_id}", details=details, actor=session.principal.actor)


@ui_route(
    "/ui/admin/webhooks",
    "GET",
    "Admin UI: the webhook endpoints (?cursor) and the form for a new one",
    blueprint=bp,
    errors=(403,),
)
def ui_webhooks(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    return _list_page(call, session)


@ui_route(
    "/ui/admin/webhooks",
    "POST",
    "Admin UI: add a webhook endpoint (form: csrf, url, event_types, description); its secret is shown once",
    blueprint=bp,
    errors=(403, 422),
)
def ui_create_webhook(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    picked = fields.get("event_types") or []
    chosen = [picked] if isinstance(picked, str) else [c for c in picked if isinstance(c, str)]
    if text(fields.get("all")) == "yes":
        chosen = ["*"]
    form = {
        "url": text(fields.get("url")),
        "description": text(fields.get("description")),
        "event_types": chosen,
    }
    try:
        data = WebhookCreate.model_validate(form)
    except ValidationError as exc:
        return _list_page(call, session, status=422, form=form, errors=field_errors(exc))
    principal = session.principal
    created = WebhookService().create(data, created_by=principal.actor, owner_email=principal.email)
    details = {"types": len(created.event_types)}
    audit(call, "webhook.created", subject=f"webhook:{created.id}", details=details, actor=principal.actor)
    return _detail_page(call, session, created.id, secret=created.secret, status=201)


@ui_route(
    "/ui/admin/webhooks/{webhook_id}",
    "GET",
    "Admin UI: one webhook endpoint and its delivery log (?cursor), newest attempt first",
    blueprint=bp,
    errors=(403, 404),
)
def ui_webhook(call: Call, session: Session, fields: dict[str, Any], webhook_id: str) -> Response:
    _admin_only(session)
    return _detail_page(call, session, _checked_id(webhook_id))


@ui_route(
    "/ui/admin/webhooks/{webhook_id}/status",
    "POST",
    "Admin UI: enable or disable a webhook endpoint (form: csrf, enabled=yes|no)",
    blueprint=bp,
    errors=(403, 404, 409),
)
def ui_webhook_status(call: Call, session: Session, fields: dict[str, Any], webhook_id: str) -> Response:
    _admin_only(session)
    webhook_id = _checked_id(webhook_id)
    enabled = text(fields.get("enabled")) == "yes"
    _, changed = WebhookService().update(webhook_id, WebhookPatch(enabled=enabled))
    if changed:
        _audit(call, session, "webhook.updated", webhook_id, {"fields": "enabled"})
    return see_other(f"/ui/admin/webhooks/{quote(webhook_id)}?done={'enabled' if enabled else 'disabled'}")


@ui_route(
    "/ui/admin/webhooks/{webhook_id}/delete",
    "POST",
    "Admin UI: delete a webhook endpoint (form: csrf, confirm=yes)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_delete_webhook(call: Call, session: Session, fields: dict[str, Any], webhook_id: str) -> Response:
    _admin_only(session)
    webhook_id = _checked_id(webhook_id)
    if text(fields.get("confirm")) != "yes":
        raise ValidationFailed("Tick the confirmation to delete the endpoint; nothing was changed.")
    WebhookService().delete(webhook_id)
    _audit(call, session, "webhook.deleted", webhook_id)
    return see_other("/ui/admin/webhooks?done=deleted")


@ui_route(
    "/ui/admin/webhooks/{webhook_id}/rotate-secret",
    "POST",
    "Admin UI: rotate an endpoint's secret (the new one shown once; the old one signs 24 h more)",
    blueprint=bp,
    errors=(403, 404, 409),
)
def ui_rotate_secret(call: Call, session: Session, fields: dict[str, Any], webhook_id: str) -> Response:
    _admin_only(session)
    webhook_id = _checked_id(webhook_id)
    rotated = WebhookService().rotate(webhook_id)
    _audit(call, session, "webhook.secret_rotated", webhook_id)
    return _detail_page(call, session, webhook_id, rotated=rotated)


@ui_route(
    "/ui/admin/webhooks/{webhook_id}/deliveries/{message_id}/redeliver",
    "POST",
    "Admin UI: send one message again (form: csrf)",
    blueprint=bp,
    errors=(403, 404, 409),
)
def ui_redeliver(
    call: Call, session: Session, fields: dict[str, Any], webhook_id: str, message_id: str
) -> Response:
    _admin_only(session)
    webhook_id, message_id = _checked_id(webhook_id), _checked_id(message_id)
    try:
        done = WebhookService().redeliver(webhook_id, [message_id])
    except Conflict as exc:
        return _detail_page(call, session, webhook_id, status=409, problem=exc.detail)
    _audit(call, session, "webhook.redelivered", webhook_id, {"messages": done.queued})
    return see_other(f"/ui/admin/webhooks/{quote(webhook_id)}?done=redelivered")


@ui_route(
    "/ui/admin/webhooks/{webhook_id}/redeliver",
    "POST",
    "Admin UI: send again every message not delivered since a time (form: csrf, since: a UTC date and time)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_redeliver_since(call: Call, session: Session, fields: dict[str, Any], webhook_id: str) -> Response:
    _admin_only(session)
    webhook_id = _checked_id(webhook_id)
    raw = text(fields.get("since"))
    try:
        since = datetime.fromisoformat(raw).replace(tzinfo=UTC) if raw else None
    except ValueError:
        since = None
    if since is None:
        message = "Since: give a date and time (UTC)."
        return _detail_page(call, session, webhook_id, status=422, problem=message)
    try:
        done = WebhookService().redeliver_failed_since(webhook_id, since)
    except Conflict as exc:
        return _detail_page(call, session, webhook_id, status=409, problem=exc.detail)
    _audit(call, session, "webhook.redelivered", webhook_id, {"messages": done.queued})
    return see_other(
        f"/ui/admin/webhooks/{quote(webhook_id)}?done={'redelivered' if done.queued else 'none'}"
    )
