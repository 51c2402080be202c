"""Admin API: the people who sign in (the Cognito user pool). Admins only; API keys never."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.audit import audit, audit_user_change
from chalicelib.web.endpoint import Call, endpoint, page
from crm.users.models import User, UserInvite, UserPatch, UsersQuery
from crm.users.service import UserService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/users",
    "GET",
    summary="List the users who sign in, with their group and status (admins)",
    tag="admin",
    permission="admin",
    query=UsersQuery,
    response=User,
    paginated=True,
)
def list_users(call: Call) -> dict[str, Any]:
    items, next_cursor = UserService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/users",
    "POST",
    summary="Invite a user into a group (admins)",
    tag="admin",
    permission="admin",
    body=UserInvite,
    response=User,
    status=201,
    errors=(409,),
    description="With `temporary_password` the user pool sends nothing: pass the password on; the "
    "user chooses their own at the first sign-in. Without it the pool emails the invitation with a "
    "temporary password.",
)
def invite_user(call: Call) -> User:
    user = UserService().invite(call.body)
    audit(call, "user.invited", subject=f"user:{user.username}", details={"group": call.body.group})
    return user


@endpoint(
    bp,
    "/v1/users/{username}",
    "PATCH",
    summary="Change a user's group, or disable or enable them (admins; not oneself)",
    tag="admin",
    permission="admin",
    body=UserPatch,
    response=User,
    errors=(404, 409),
)
def update_user(call: Call, username: str) -> User:
    acting = call.principal.subject if call.principal else ""
    user = UserService().update(username, call.body, by=acting)
    audit_user_change(call, username, call.body)
    return user
