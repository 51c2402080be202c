"""Integration API keys: what an admin creates, and what is stored (never the secret). Every input is
validated by one of these before it reaches a repository; every record the API returns is one of
these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from crm.platform.fields import (
    Name,
)
from crm.platform.models import Input, Model

KeyScope = Literal["read", "read-write"]


class ApiKeyCreate(Input):
    name: Name
    scope: KeyScope = "read"


class ApiKey(Model):
    id: str
    name: str
    scope: KeyScope
    created_at: str
    created_by: str
    revoked_at: str | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret, shown once. Only its hash is stored.")
