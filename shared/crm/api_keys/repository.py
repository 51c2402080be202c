"""ApiKeyRepository: integration keys, stored with the SHA-256 hash of the key, never the key.
Items: APIKEY#<id>/APIKEY, in gsi1 under APIKEYS (newest first)."""

from __future__ import annotations

from crm.api_keys.models import ApiKey
from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import utcnow


class ApiKeyRepository:
    def insert(self, record: ApiKey, *, key_hash: str) -> ApiKey:
        item = record.model_dump()
        item.update(
            pk=f"APIKEY#{record.id}",
            sk="APIKEY",
            type="api_key",
            key_hash=key_hash,
            gsi1pk="APIKEYS",
            gsi1sk=f"{record.created_at}#{record.id}",
        )
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return record

    def find(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key ``key_id`` and its stored hash (eventually consistent), or None."""
        item = table.get_item(f"APIKEY#{key_id}", "APIKEY", consistent=False)
        if not item:
            return None
        data = table.from_item(item)
        key_hash = str(data.pop("key_hash", ""))
        return ApiKey.model_validate(data), key_hash

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
        """Mark the key revoked (the first revocation's time stays)."""
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
