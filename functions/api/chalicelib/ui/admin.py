"""The admin pages: who signs in (invite, change group, disable or enable) and the integrations' API
keys (create, with the secret shown once; revoke after a confirmation). Admins only: anyone else
signed in gets a 403 page, checked here on every request.

The forms use what the JSON API uses: ``UserInvite``/``UserPatch`` and ``UserService`` (the
Cognito user pool), ``ApiKeyCreate`` and ``ApiKeyService``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit, audit_user_change
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    Session,
    field_errors,
    page,
    paging,
    query_value,
    see_other,
    text,
    ui_route,
)
from crm.api_keys.models import ApiKey, ApiKeyCreate, ApiKeyCreated
from crm.api_keys.service import ApiKeyService
from crm.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm.users.models import GROUPS, User, UserInvite, UserPatch
from crm.users.service import UserService

bp = Blueprint(__name__)

PAGE_SIZE = 50
USER_NOTICES = {
    "invited": "The user is invited.",
    "group": "The group is changed; it applies from the user's next sign-in.",
    "disabled": "The user is disabled and can no longer sign in.",
    "enabled": "The user is enabled again.",
}
KEY_NOTICES = {"revoked": "The key is revoked: nothing can use it any more."}
KEY_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
SCOPES = {"read": "Read only", "read-write": "Read and write"}


def _admin_only(session: Session) -> None:
    if not session.principal.allows("admin"):
        raise Forbidden("Only admins can manage users and API keys. Ask an admin if you need this.")


# ------------------------------------------------------------------------------- users


@dataclass(frozen=True)
class Person:
    """A user as the list shows them: ``first_name``/``last_name`` for the avatar's initials."""

    user: User
    first_name: str
    last_name: str
    email: str
    is_self: bool


def _person(user: User, session: Session) -> Person:
    first, _, last = (user.name or "").partition(" ")
    return Person(
        user=user,
        first_name=first,
        last_name=last.rpartition(" ")[2],
        email=user.email,
        is_self=user.email == (session.principal.email or "") or user.username == session.principal.subject,
    )


def _users_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    problem: str = "",
) -> Response:
    cursor = query_value(call, "cursor") or None
    users, next_cursor = UserService().list_page(limit=PAGE_SIZE, cursor=cursor)
    notice = USER_NOTICES.get(query_value(call, "done")) if status == 200 else None
    return page(
        "ui_admin_users.html",
        status=status,
        session=session,
        people=[_person(u, session) for u in users],
        groups=GROUPS,
        **paging("/ui/admin/users", cursor, next_cursor),
        form=form or {"email": "", "name": "", "group": next(iter(GROUPS)), "temporary_password": ""},
        errors=errors or {},
        row_errors=row_errors or {},
        notice=notice,
        problem=problem,
    )


@ui_route(
    "/ui/admin/users",
    "GET",
    "Admin UI: the users who sign in (?cursor) and the invitation form",
    blueprint=bp,
    errors=(403,),
)
def ui_users(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    return _users_page(call, session)


@ui_route(
    "/ui/admin/users",
    "POST",
    "Admin UI: invite a user (form: csrf, email, name, group, temporary_password)",
    blueprint=bp,
    errors=(403, 409, 422),
)
def ui_invite(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    password = fields.get("temporary_password")
    password = password[0] if isinstance(password, list) and password else password
    form = {
        "email": text(fields.get("email")),
        "name": text(fields.get("name")),
        "group": text(fields.get("group")),
        "temporary_password": password if isinstance(password, str) else "",
    }
    data = {**form, "name": form["name"] or None, "temporary_password": form["temporary_password"] or None}
    try:
        invite = UserInvite.model_validate(data)
        invited = UserService().invite(invite)
    except ValidationError as exc:
        return _invite_refused(call, session, form, field_errors(exc))
    except ValidationFailed as exc:
        return _invite_refused(call, session, form, {e["field"]: e["message"] for e in exc.errors})
    except Conflict as exc:
        return _invite_refused(call, session, form, {"email": exc.detail}, status=409)
    subject, group = f"user:{invited.username}", invite.group
    audit(call, "user.invited", subject=subject, details={"group": group}, actor=session.principal.actor)
    return see_other("/ui/admin/users?done=invited")


def _invite_refused(
    call: Call, session: Session, form: dict[str, str], errors: dict[str, str], status: int = 422
) -> Response:
    kept = {**form, "temporary_password": ""}  # a password is never sent back in a page
    return _users_page(
        call,
        session,
        status=status,
        form=kept,
        errors=errors,
        problem="Nobody was invited; see the marked fields.",
    )


@ui_route(
    "/ui/admin/users/{username}",
    "POST",
    "Admin UI: change a user's group or status (form: csrf, and group or enabled=true|false)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_update_user(call: Call, session: Session, fields: dict[str, Any], username: str) -> Response:
    _admin_only(session)
    changes: dict[str, Any] = {}
    if "group" in fields:
        changes["group"] = text(fields.get("group"))
    if "enabled" in fields:
        changes["enabled"] = {"true": True, "false": False}.get(text(fields.get("enabled")), "unknown")
    service = UserService()
    service.get(username)  # an unknown user is the 404 page
    try:
        patch = UserPatch.model_validate(changes)
        service.update(username, patch, by=session.principal.subject)
    except ValidationError as exc:
        message = next(iter(field_errors(exc).values()), "Choose a group.")
        return _row_refused(call, session, username, message)
    except ValidationFailed as exc:
        return _row_refused(call, session, username, exc.detail)
    except Conflict as exc:  # an admin changing their own group or status
        return _row_refused(call, session, username, exc.detail, status=409)
    audit_user_change(call, username, patch, actor=session.principal.actor)
    done = "group" if "group" in changes else ("enabled" if changes.get("enabled") else "disabled")
    return see_other(f"/ui/admin/users?done={done}#user-{quote(username)}")


def _row_refused(call: Call, session: Session, username: str, message: str, status: int = 422) -> Response:
    return _users_page(
        call,
        session,
        status=status,
        row_errors={username: message},
        problem=f"Nothing was changed: {message}",
    )


# ------------------------------------------------------------------------------- API keys


def _keys_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    created: ApiKeyCreated | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    cursor = query_value(call, "cursor") or None
    keys, next_cursor = ApiKeyService().list_page(limit=PAGE_SIZE, cursor=cursor)
    notice = KEY_NOTICES.get(query_value(call, "done")) if status == 200 and not created else None
    return page(
        "ui_admin_api_keys.html",
        status=status,
        session=session,
        keys=keys,
        creators=_creators(keys),
        scopes=SCOPES,
        created=created,
        **paging("/ui/admin/api-keys", cursor, next_cursor),
        form=form or {"name": "", "scope": "read"},
        errors=errors or {},
        notice=notice,
        problem="The key was not created; see the marked fields." if errors else "",
    )


def _creators(keys: list[ApiKey]) -> dict[str, str]:
    """``created_by`` (``user:<sub>``) -> the creator's email, for the keys shown."""
    subs = [k.created_by.removeprefix("user:") for k in keys if k.created_by.startswith("user:")]
    emails = UserService().emails_of(subs)
    return {f"user:{sub}": email for sub, email in emails.items()}


@ui_route(
    "/ui/admin/api-keys",
    "GET",
    "Admin UI: the integrations' API keys (?cursor) and the form for a new one",
    blueprint=bp,
    errors=(403,),
)
def ui_keys(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    return _keys_page(call, session)


@ui_route(
    "/ui/admin/api-keys",
    "POST",
    "Admin UI: create an API key (form: csrf, name, scope); the page shows its secret once",
    blueprint=bp,
    errors=(403, 422),
)
def ui_create_key(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    form = {"name": text(fields.get("name")), "scope": text(fields.get("scope"))}
    try:
        data = ApiKeyCreate.model_validate(form)
    except ValidationError as exc:
        return _keys_page(call, session, status=422, form=form, errors=field_errors(exc))
    created = ApiKeyService().create(data, created_by=session.principal.actor)
    subject, scope = f"api-key:{created.id}", created.scope
    audit(call, "api_key.created", subject=subject, details={"scope": scope}, actor=session.principal.actor)
    return _keys_page(call, session, created=created)


@ui_route(
    "/ui/admin/api-keys/{key_id}/revoke",
    "POST",
    "Admin UI: revoke an API key (form: csrf, confirm=yes)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_revoke_key(call: Call, session: Session, fields: dict[str, Any], key_id: str) -> Response:
    _admin_only(session)
    if not KEY_ID.match(key_id):
        raise NotFound(f"No API key with id {key_id}.")
    if text(fields.get("confirm")) != "yes":
        raise ValidationFailed("Tick the confirmation to revoke the key; nothing was changed.")
    ApiKeyService().revoke(key_id)
    audit(call, "api_key.revoked", subject=f"api-key:{key_id}", actor=session.principal.actor)
    return see_other(f"/ui/admin/api-keys?done=revoked#key-{quote(key_id)}")
