"""CustomFieldRepository: the definitions of custom fields.

Items: ``CUSTOMFIELD#DEFS`` / ``<key>`` (one partition: every definition, read with one strongly
consistent Query; there are at most ``MAX_FIELDS``). A definition carries a version (optimistic
concurrency), ``in_use`` once a value was stored for it, and ``deleted_at`` once deleted (kept, so
its key is never reused for another meaning while values of it are stored).
"""

from __future__ import annotations

from typing import Any

from crm.custom_fields.models import CustomField
from crm.platform import table
from crm.platform.errors import Conflict, NotFound, VersionConflict

_PK = "CUSTOMFIELD#DEFS"


def _field(item: dict[str, Any]) -> CustomField:
    data = table.from_item(item)
    data["type"] = data.pop("field_type", None)  # the item's own ``type`` is "custom_field"
    return CustomField.model_validate({k: v for k, v in data.items() if k in CustomField.model_fields})


class CustomFieldRepository:
    def all(self) -> list[CustomField]:
        """Every definition (deleted ones too), by key; strongly consistent."""
        out: list[CustomField] = []
        params: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _PK}},
            "ConsistentRead": True,
        }
        while True:
            response = table.query(**params)
            out.extend(_field(i) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return out
            params["ExclusiveStartKey"] = last

    def get(self, key: str) -> CustomField:
        item = table.get_item(_PK, key)
        if not item:
            raise NotFound(f"No custom field with key {key}.")
        return _field(item)

    def insert(self, field: CustomField) -> CustomField:
        item = field.model_dump()
        item.update(pk=_PK, sk=field.key, type="custom_field", field_type=field.type)
        try:
            table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        except table.ConditionFailed as exc:
            raise Conflict(
                "A custom field with this key exists (or existed: a deleted field's key is kept).",
                field="key",
            ) from exc
        return field

    def replace(self, field: CustomField, *, seen_version: int, type_changes: bool) -> CustomField:
        """Store ``field`` over the version read; a type change also needs the field never used.
        A moved-on definition is a ``VersionConflict``; a used one a ``Conflict`` on ``type``."""
        item = field.model_dump()
        item.update(pk=_PK, sk=field.key, type="custom_field", field_type=field.type)
        condition = "version = :seen AND attribute_not_exists(deleted_at)"
        if type_changes:
            condition += " AND (attribute_not_exists(in_use) OR in_use = :no)"
        values: dict[str, Any] = {":seen": {"N": str(seen_version)}}
        if type_changes:
            values[":no"] = {"BOOL": False}
        try:
            table.put(table.to_item(item), condition=condition, ExpressionAttributeValues=values)
        except table.ConditionFailed as exc:
            latest = self.get(field.key)
            if latest.version == seen_version and latest.in_use:
                raise Conflict(
                    "Values of this field are stored: its type cannot change.", field="type"
                ) from exc
            raise VersionConflict(
                "Someone else changed this field; reload and try again.",
                current=latest.model_dump(mode="json"),
            ) from exc
        return field

    def mark_used(self, key: str, field_type: str) -> bool:
        """Record that a value of ``key`` is stored, while the field still has ``field_type`` and is
        not deleted (False otherwise: the definition changed since it was read)."""
        try:
            table.update(
                table.key(_PK, key),
                "SET in_use = :yes",
                condition="field_type = :type AND attribute_not_exists(deleted_at)",
                ExpressionAttributeValues={":yes": {"BOOL": True}, ":type": {"S": field_type}},
            )
        except table.ConditionFailed:
            return False
        return True
