"""ApiKeyRepository: integration keys, stored as SHA-256 hashes only.

A key reads ``crm_<id>_<secret>``: the id finds the item in one GetItem, the hash of the whole
key is compared in constant time. Items: APIKEY#<id>/APIKEY, in gsi1 under APIKEYS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from crm.api_keys.models import ApiKey, ApiKeyCreate, ApiKeyCreated
from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import new_id, utcnow

PREFIX = "crm_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyRepository:
    def create(self, data: ApiKeyCreate, *, created_by: str) -> ApiKeyCreated:
        key_id = new_id()[:16]
        secret = secrets.token_urlsafe(32)
        key = f"{PREFIX}{key_id}_{secret}"
        record = ApiKey(
            id=key_id, name=data.name, scope=data.scope, created_at=utcnow(), created_by=created_by
        )
        item = record.model_dump()
        item.update(
            pk=f"APIKEY#{key_id}",
            sk="APIKEY",
            type="api_key",
            key_hash=hash_key(key),
            gsi1pk="APIKEYS",
            gsi1sk=f"{record.created_at}#{key_id}",
        )
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return ApiKeyCreated(key=key, **record.model_dump())

    def authenticate(self, presented: str) -> ApiKey | None:
        """The active key this secret belongs to, or None."""
        if not presented.startswith(PREFIX) or len(presented) > 200:
            return None
        key_id, _, secret = presented[len(PREFIX) :].partition("_")
        if not key_id.isalnum() or not secret:
            return None
        item = table.get_item(f"APIKEY#{key_id}", "APIKEY", consistent=False)
        if not item:
            return None
        data = table.from_item(item)
        if not hmac.compare_digest(str(data.get("key_hash", "")), hash_key(presented)):
            return None
        if data.get("revoked_at"):
            return None
        return ApiKey.model_validate(data)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "APIKEYS"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [ApiKey.model_validate(table.from_item(i)) for i in items], next_cursor

    def revoke(self, key_id: str) -> ApiKey:
        try:
            response = table.update(
                table.key(f"APIKEY#{key_id}", "APIKEY"),
                "SET revoked_at = if_not_exists(revoked_at, :now)",
                condition="attribute_exists(pk)",
                ExpressionAttributeValues={":now": {"S": utcnow()}},
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed as exc:
            raise NotFound(f"No API key with id {key_id}.") from exc
        return ApiKey.model_validate(table.from_item(response["Attributes"]))
