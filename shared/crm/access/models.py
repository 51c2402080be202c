"""Signing in: the login request, the user pool's tokens, and the roles of recruiters and admins. Every
input is validated by one of these before it reaches a repository; every record the API returns is
one of these.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    StringConstraints,
)

from crm.platform.fields import (
    one_line_text,
)
from crm.platform.models import Input, Model
from crm.users.models import Password

Role = Literal["admin", "recruiter"]


class LoginRequest(Input):
    username: one_line_text(254, required=True)  # type: ignore[valid-type]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class NewPassword(Input):
    """The answer to a first sign-in's challenge: the user's own password in place of the temporary one."""

    username: one_line_text(254, required=True)  # type: ignore[valid-type]
    session: Annotated[str, StringConstraints(min_length=20, max_length=2048)]  # Cognito's limits
    new_password: Password


class Tokens(Model):
    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int
