"""The Cognito user pool: signing in with a username and a password (USER_PASSWORD_AUTH), the
new password a first sign-in asks for, and the admin calls behind user management (invite, list,
groups, disable); their refusals as typed errors.

Users are named by their Cognito ``Username``: with email usernames the pool makes it a UUID (the
user's ``sub``), so no address goes into a path or a log."""

from __future__ import annotations

import secrets
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws, ses
from crm.platform.config import get_settings

#: Cognito's answers to a wrong username or password (and states a user cannot sign in from).
WRONG_CREDENTIALS = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
        "InvalidParameterException",
    }
)
THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException"})


class SignInRefused(Exception):
    """The user pool refused the username and password."""


class SignInThrottled(Exception):
    """The user pool is throttling sign-ins."""


class PasswordRefused(Exception):
    """The user pool's password policy refused a new or temporary password (its message says why)."""


class AddressRefused(Exception):
    """The user pool refused the address as a username (Cognito accepts fewer addresses than the
    email standard; its message says why)."""


class UserExists(Exception):
    """A user with this username (email) is already in the pool."""


class NoSuchUser(Exception):
    """No user of the pool has this username."""


class BadPageToken(Exception):
    """A list's pagination token is not one the pool gave out."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or _code(exc)


def sign_in(username: str, password: str) -> dict[str, Any]:
    """The user pool's answer to a sign-in: ``AuthenticationResult`` (the tokens) or a challenge."""
    try:
        response = aws.client("cognito-idp").initiate_auth(
            ClientId=get_settings().user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as exc:
        code = _code(exc)
        if code in WRONG_CREDENTIALS:
            raise SignInRefused(code) from exc
        if code in THROTTLED:
            raise SignInThrottled(code) from exc
        raise
    return dict(response)


def answer_new_password(username: str, session: str, new_password: str) -> dict[str, Any]:
    """Answer the ``NEW_PASSWORD_REQUIRED`` challenge of a first sign-in (a temporary password):
    the pool's tokens, or a further challenge."""
    try:
        response = aws.client("cognito-idp").respond_to_auth_challenge(
            ClientId=get_settings().user_pool_client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
    except ClientError as exc:
        code = _code(exc)
        if code == "InvalidPasswordException":
            raise PasswordRefused(_message(exc)) from exc
        if code in THROTTLED:
            raise SignInThrottled(code) from exc
        if code in WRONG_CREDENTIALS or code in {"CodeMismatchException", "ExpiredCodeException"}:
            raise SignInRefused(code) from exc
        if code == "ResourceNotFoundException":  # the challenge's session is unknown or expired
            raise SignInRefused(code) from exc
        raise
    return dict(response)


# ---------------------------------------------------------------------------------- users (admins)


def _pool() -> str:
    return get_settings().user_pool_id


def _admin_call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """One admin call on the pool; an unknown user is ``NoSuchUser``."""
    try:
        return dict(getattr(aws.client("cognito-idp"), operation)(UserPoolId=_pool(), **kwargs))
    except ClientError as exc:
        if _code(exc) == "UserNotFoundException":
            raise NoSuchUser(kwargs.get("Username", "")) from exc
        raise


def user_record(raw: dict[str, Any]) -> dict[str, Any]:
    """A pool user (``ListUsers``' or ``AdminGetUser``'s shape) as plain values: ``username``,
    ``email``, ``name``, ``sub``, ``enabled``, ``status``, ``created_at`` (ISO 8601)."""
    attributes = raw.get("Attributes") or raw.get("UserAttributes") or []
    values = {str(a.get("Name")): str(a.get("Value", "")) for a in attributes}
    created = raw.get("UserCreateDate")
    return {
        "username": str(raw.get("Username", "")),
        "email": values.get("email", ""),
        "name": values.get("name") or None,
        "sub": values.get("sub") or str(raw.get("Username", "")),
        "enabled": bool(raw.get("Enabled", True)),
        "status": str(raw.get("UserStatus", "UNKNOWN")),
        "created_at": created.isoformat() if isinstance(created, datetime) else str(created or ""),
    }


def create_user(email: str, *, name: str | None, temporary_password: str | None) -> dict[str, Any]:
    """Invite ``email`` (its username, marked verified). With a temporary password the pool sends
    nothing (the admin passes it on); without one the pool emails an invitation with a password of
    its own. The local stack's pool sends no email, so there the invitation is sent from here."""
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if name:
        attributes.append({"Name": "name", "Value": name})
    kwargs: dict[str, Any] = {"Username": email, "UserAttributes": attributes}
    local_invitation = temporary_password is None and get_settings().local_stack
    if local_invitation:
        temporary_password = _temporary_password()
    if temporary_password is not None:
        kwargs.update(TemporaryPassword=temporary_password, MessageAction="SUPPRESS")
    else:
        kwargs["DesiredDeliveryMediums"] = ["EMAIL"]
    try:
        response = aws.client("cognito-idp").admin_create_user(UserPoolId=_pool(), **kwargs)
    except ClientError as exc:
        code = _code(exc)
        if code in {"UsernameExistsException", "AliasExistsException"}:
            raise UserExists(email) from exc
        if code == "InvalidPasswordException":
            raise PasswordRefused(_message(exc)) from exc
        if code == "InvalidParameterException":
            raise AddressRefused(_message(exc)) from exc
        raise
    if local_invitation and temporary_password:
        _send_local_invitation(email, temporary_password)
    return user_record(dict(response["User"]))


def _temporary_password() -> str:
    """A password the pool's policy accepts (upper, lower, digits; 16 characters)."""
    return f"Tmp{secrets.randbelow(10)}{secrets.token_urlsafe(12)}a"


def _send_local_invitation(email: str, temporary_password: str) -> None:
    """What Cognito's default invitation says, sent through SES (the local stack's outbox)."""
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = email
    message["Subject"] = "Your temporary password"
    message.set_content(f"Your username is {email} and temporary password is {temporary_password}.")
    ses.send_raw(message.as_bytes())


def list_users(*, limit: int, token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the pool's users (``user_record``) and the token of the next page (None: last)."""
    kwargs: dict[str, Any] = {"UserPoolId": _pool(), "Limit": limit}
    if token:
        kwargs["PaginationToken"] = token
    try:
        response = aws.client("cognito-idp").list_users(**kwargs)
    except ClientError as exc:
        if _code(exc) in {"InvalidParameterException", "InvalidToken", "InvalidTokenException"}:
            raise BadPageToken(_code(exc)) from exc
        raise
    users = [user_record(dict(u)) for u in response.get("Users", [])]
    return users, response.get("PaginationToken") or None


def find_by_sub(sub: str) -> dict[str, Any] | None:
    """The user whose ``sub`` this is (``user_record``), or None."""
    escaped = sub.replace("\\", "").replace('"', "")
    response = aws.client("cognito-idp").list_users(UserPoolId=_pool(), Filter=f'sub = "{escaped}"', Limit=1)
    users = response.get("Users", [])
    return user_record(dict(users[0])) if users else None


def get_user(username: str) -> dict[str, Any]:
    """One user (``user_record``), or ``NoSuchUser``."""
    return user_record(_admin_call("admin_get_user", Username=username))


def groups_of(username: str) -> list[str]:
    """The names of the groups ``username`` is in."""
    response = _admin_call("admin_list_groups_for_user", Username=username, Limit=60)
    return [str(g["GroupName"]) for g in response.get("Groups", [])]


def add_to_group(username: str, group: str) -> None:
    _admin_call("admin_add_user_to_group", Username=username, GroupName=group)


def remove_from_group(username: str, group: str) -> None:
    _admin_call("admin_remove_user_from_group", Username=username, GroupName=group)


def set_enabled(username: str, enabled: bool) -> None:
    """Enable or disable a user; disabling also signs them out everywhere (their refresh tokens stop
    working; an ID token already issued lasts until it expires)."""
    if enabled:
        _admin_call("admin_enable_user", Username=username)
        return
    _admin_call("admin_disable_user", Username=username)
    _admin_call("admin_user_global_sign_out", Username=username)
