"""Integration keys: create, list, revoke, and who a key is."""

from __future__ import annotations

from crm.api_keys.models import ApiKey, ApiKeyCreate, ApiKeyCreated
from crm.api_keys.repository import ApiKeyRepository


class ApiKeyService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: ApiKeyRepository | None = None) -> None:
        self.repository = repository or ApiKeyRepository()

    def authenticate(self, presented: str) -> ApiKey | None:
        return self.repository.authenticate(presented)

    def create(self, data: ApiKeyCreate, *, created_by: str) -> ApiKeyCreated:
        return self.repository.create(data, created_by=created_by)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def revoke(self, key_id: str) -> ApiKey:
        return self.repository.revoke(key_id)
