"""The people who sign in (recruiters, admins and hiring managers): an invitation, a change of
group or of status, and a user as the API returns one. Every input is validated by one of these
before it reaches the user pool.

``GROUPS`` is the one list of the user pool's groups: a new group is one line here (and its
``AWS::Cognito::UserPoolGroup`` in infra/template.yaml, which a test holds to this list).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

from crm.platform.fields import Email, one_line_text
from crm.platform.models import Input, Model, Patch

#: The user pool's groups and how pages name them, in the order pages offer them.
GROUPS: dict[str, str] = {
    "recruiter": "Recruiter",
    "admin": "Admin",
    "hiring_manager": "Hiring manager",
    "employee": "Employee",
}

#: What the user pool's password policy asks (infra/template.yaml, UserPool.Policies).
PASSWORD_MIN_LENGTH = 12
PASSWORD_RULE = (
    f"use at least {PASSWORD_MIN_LENGTH} characters with an upper-case letter, a lower-case letter "
    "and a digit"
)


def _known_group(value: str) -> str:
    if value not in GROUPS:
        raise ValueError(f"choose one of the groups: {', '.join(GROUPS)}")
    return value


def _trimmed(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


GroupName = Annotated[
    str,
    BeforeValidator(_trimmed),
    AfterValidator(_known_group),
    WithJsonSchema({"type": "string", "enum": list(GROUPS)}),
]


def _strong(value: str) -> str:
    if (
        len(value) < PASSWORD_MIN_LENGTH
        or not re.search(r"[A-Z]", value)
        or not re.search(r"[a-z]", value)
        or not re.search(r"[0-9]", value)
    ):
        raise ValueError(PASSWORD_RULE)
    if value != value.strip():
        raise ValueError("must not start or end with a space")
    return value


Password = Annotated[
    str,
    StringConstraints(max_length=256),
    AfterValidator(_strong),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": PASSWORD_MIN_LENGTH,
            "maxLength": 256,
            "pattern": r"^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])\S(.*\S)?$",
            "description": f"The pool's policy: {PASSWORD_RULE}.",
        }
    ),
]


PersonName = one_line_text(100, required=False)


class UserInvite(Input):
    email: Email
    name: PersonName | None = None  # type: ignore[valid-type]
    group: GroupName
    temporary_password: Password | None = Field(
        default=None,
        description="Given: the user signs in with it first and chooses their own (no email is sent). "
        "Left out: the user pool emails the invitation with a temporary password of its own.",
    )


class UserPatch(Patch):
    group: GroupName | None = Field(default=None, description="The user's one group (they leave the others).")
    enabled: bool | None = Field(default=None, description="false: the user can no longer sign in.")

    not_null: ClassVar[tuple[str, ...]] = ("group", "enabled")


class User(Model):
    username: str = Field(description="The pool's username (a UUID): the id in /v1/users/{username}.")
    email: str
    name: str | None = None
    group: str | None = Field(default=None, description="The user's group; null when in none.")
    enabled: bool
    status: str = Field(description="The pool's status: CONFIRMED, FORCE_CHANGE_PASSWORD, ...")
    created_at: str


class UsersQuery(Model):
    """``?limit=N&cursor=C`` (the pool gives at most 60 users a page)."""

    limit: int = Field(default=25, ge=1, le=60)
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


#: A username in a path: what the pool makes (a UUID) or an email.
USERNAME = re.compile(r"^[\w.@+-]{1,128}$")
