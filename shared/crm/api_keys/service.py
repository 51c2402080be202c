"""Integration keys: create, list, revoke, and who a presented key is.

A key reads ``crm_<id>_<secret>``: the id finds the record in one GetItem, and the SHA-256 hash
of the whole key is compared with the stored one in constant time. Only the hash is stored; the
key is shown once, when it is created. A revoked key authenticates nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from crm.api_keys.models import ApiKey, ApiKeyCreate, ApiKeyCreated
from crm.api_keys.repository import ApiKeyRepository
from crm.platform.ids import new_id, utcnow

PREFIX = "crm_"
#: Longer than any key this service makes: refused before any lookup.
MAX_KEY_LENGTH = 200


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(presented: str) -> str | None:
    """The id part of a presented key, or None when it cannot be one of ours."""
    if not presented.startswith(PREFIX) or len(presented) > MAX_KEY_LENGTH:
        return None
    key_id, _, secret = presented[len(PREFIX) :].partition("_")
    if not key_id.isalnum() or not secret:
        return None
    return key_id


class ApiKeyService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(
        self,
        repository: ApiKeyRepository | None = None,
        *,
        now: Callable[[], str] = utcnow,
        secret: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        self.repository = repository if repository is not None else ApiKeyRepository()
        self.now = now
        self.secret = secret

    def names_of(self, key_ids: list[str]) -> dict[str, str]:
        """The names of a few keys by id (one that does not exist is left out)."""
        names: dict[str, str] = {}
        for key_id in dict.fromkeys(key_ids):
            found = self.repository.find(key_id)
            if found is not None:
                names[key_id] = found[0].name
        return names

    def authenticate(self, presented: str) -> ApiKey | None:
        """The active key this secret belongs to, or None."""
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        found = self.repository.find(key_id)
        if found is None:
            return None
        record, key_hash = found
        if not hmac.compare_digest(key_hash, hash_key(presented)):
            return None
        if record.revoked_at:
            return None
        return record

    def create(self, data: ApiKeyCreate, *, created_by: str) -> ApiKeyCreated:
        """A new key; the returned ``key`` is the only time anyone sees it."""
        key_id = new_id()[:16]
        key = f"{PREFIX}{key_id}_{self.secret()}"
        record = ApiKey(
            id=key_id, name=data.name, scope=data.scope, created_at=self.now(), created_by=created_by
        )
        self.repository.insert(record, key_hash=hash_key(key))
        return ApiKeyCreated(key=key, **record.model_dump())

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def revoke(self, key_id: str) -> ApiKey:
        return self.repository.revoke(key_id)
