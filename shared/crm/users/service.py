"""Managing who signs in: invite a user into a group, list users with their group, move a user to
another group, disable or enable them. The users live in the Cognito user pool (``crm.platform.
identity``); this slice stores nothing in the table.

Rules: a user is in exactly one of ``GROUPS`` (changing it leaves the others); an admin cannot
disable or demote themselves (a conflict: another admin must), so the pool is never left without the admin
doing the change; an invitation for an address already in the pool is a conflict.
"""

from __future__ import annotations

from typing import Any, Protocol

from crm.platform import identity
from crm.platform.errors import Conflict, NotFound, ValidationFailed
from crm.platform.table import InvalidCursor
from crm.users.models import GROUPS, USERNAME, User, UserInvite, UserPatch


class Pool(Protocol):
    """What this slice needs of the user pool (``crm.platform.identity``; tests pass a fake)."""

    def create_user(
        self, email: str, *, name: str | None, temporary_password: str | None
    ) -> dict[str, Any]: ...

    def list_users(self, *, limit: int, token: str | None) -> tuple[list[dict[str, Any]], str | None]: ...

    def get_user(self, username: str) -> dict[str, Any]: ...

    def find_by_sub(self, sub: str) -> dict[str, Any] | None: ...

    def groups_of(self, username: str) -> list[str]: ...

    def add_to_group(self, username: str, group: str) -> None: ...

    def remove_from_group(self, username: str, group: str) -> None: ...

    def set_enabled(self, username: str, enabled: bool) -> None: ...


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field, "message": message}])


def _refused_for_oneself(field: str, message: str) -> Conflict:
    """An admin changing their own group or status: the request is fine, who sends it is not."""
    return Conflict(message, field=field, errors=[{"field": field, "message": message}])


def _group(groups: list[str]) -> str | None:
    """The user's group: admin when they are in it (whatever else they are in), else the first of
    ``GROUPS`` they are in, else any group they are in, else None."""
    for name in ("admin", *GROUPS):
        if name in groups:
            return name
    return groups[0] if groups else None


class UserService:
    def __init__(self, pool: Pool | None = None) -> None:
        self.pool: Pool = pool if pool is not None else identity

    def _user(self, record: dict[str, Any]) -> User:
        groups = self.pool.groups_of(record["username"])
        return User(
            username=record["username"],
            email=record["email"],
            name=record.get("name"),
            group=_group(groups),
            enabled=bool(record["enabled"]),
            status=record["status"],
            created_at=record["created_at"],
        )

    def invite(self, data: UserInvite) -> User:
        try:
            record = self.pool.create_user(
                data.email, name=data.name, temporary_password=data.temporary_password
            )
        except identity.UserExists as exc:
            raise Conflict(
                f"{data.email} already has an account; change their group in the list instead.",
                field="email",
            ) from exc
        except identity.AddressRefused as exc:
            raise _invalid(
                "email", "The user pool does not accept this address as a sign-in name; use another address."
            ) from exc
        except identity.PasswordRefused as exc:
            raise _invalid("temporary_password", f"The user pool refused this password: {exc}") from exc
        self.pool.add_to_group(record["username"], data.group)
        return User(
            **{k: record[k] for k in ("username", "email", "name", "enabled", "status", "created_at")},
            group=data.group,
        )

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        try:
            records, next_cursor = self.pool.list_users(limit=limit, token=cursor)
        except identity.BadPageToken as exc:
            raise InvalidCursor("The cursor is not one this API returned.") from exc
        return [self._user(r) for r in records], next_cursor

    def get(self, username: str) -> User:
        return self._user(self._record(username))

    def _record(self, username: str) -> dict[str, Any]:
        if not USERNAME.match(username):
            raise NotFound("No user has this username.")
        try:
            return self.pool.get_user(username)
        except identity.NoSuchUser as exc:
            raise NotFound("No user has this username.") from exc

    def update(self, username: str, patch: UserPatch, *, by: str) -> User:
        """Change a user's group or status; ``by`` is the acting admin's ``sub``."""
        record = self._record(username)
        changes = patch.changes()
        oneself = record["sub"] == by
        if oneself and changes.get("enabled") is False:
            raise _refused_for_oneself("enabled", "You cannot disable your own account; ask another admin.")
        if oneself and "group" in changes and changes["group"] != "admin":
            raise _refused_for_oneself(
                "group", "You cannot take yourself out of the admin group; ask another admin."
            )
        if "group" in changes:
            self._move(username, changes["group"])
        if "enabled" in changes and changes["enabled"] != record["enabled"]:
            self.pool.set_enabled(username, bool(changes["enabled"]))
        return self.get(username)

    def _move(self, username: str, group: str) -> None:
        current = self.pool.groups_of(username)
        if group not in current:
            self.pool.add_to_group(username, group)
        for other in current:
            if other != group and other in GROUPS:
                self.pool.remove_from_group(username, other)

    def emails_of(self, subs: list[str]) -> dict[str, str]:
        """The sign-in addresses of a few users by ``sub`` (one that no longer exists is left out)."""
        found: dict[str, str] = {}
        for sub in dict.fromkeys(subs):
            if not USERNAME.match(sub):
                continue
            record = self.pool.find_by_sub(sub)
            if record is not None:
                found[sub] = record["email"]
        return found
