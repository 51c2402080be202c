"""ExportRepository: one item per export, ``EXPORT#<id>`` / ``EXPORT``.

Listed newest first under ``gsi1pk=EXPORTS`` (every export, for admins) and
``gsi2pk=EXPORTSBY#<actor>`` (one person's own). The item holds the request (a filter, a pool's id
or candidate ids), the status, counts, the object's key and size: ids and numbers only, never
personal data. It expires (``ttl``) with its object, after ``KEEP_DAYS``.

A worker claims an export (``queued`` -> ``running``, or a ``running`` one whose lease ran out);
a second delivery of the same message finds it claimed or done and leaves it alone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from crm.exports.models import KEEP_DAYS, Export, ExportCounts, ExportCreate
from crm.platform import clock, table
from crm.platform.errors import NotFound
from crm.platform.ids import iso, new_id


def _pk(export_id: str) -> str:
    return f"EXPORT#{export_id}"


_SK = "EXPORT"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def object_key(export_id: str) -> str:
    return f"exports/{export_id}/export.zip"


class ExportRepository:
    def create(self, data: ExportCreate, *, actor: str, now: datetime) -> Export:
        export_id = new_id()
        created = iso(now)
        expires = now + timedelta(days=KEEP_DAYS)
        values: dict[str, Any] = {
            "id": export_id,
            "status": "queued",
            "actor": actor,
            "created_at": created,
            "expires_at": iso(expires),
            "file_name": f"crm-export-{now.strftime('%Y%m%d-%H%M%S')}.zip",
            **data.model_dump(mode="json", exclude_none=True),
        }
        export = Export.model_validate(values)
        item = {
            **values,
            "pk": _pk(export_id),
            "sk": _SK,
            "type": "export",
            "gsi1pk": "EXPORTS",
            "gsi1sk": f"{created}#{export_id}",
            "gsi2pk": f"EXPORTSBY#{actor}",
            "gsi2sk": f"{created}#{export_id}",
            "object_key": object_key(export_id),
            "ttl": int(expires.timestamp()),
        }
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return export

    def get(self, export_id: str, *, as_stored: bool = False) -> Export:
        """``as_stored``: the status the worker left (the worker's own view, lease or not)."""
        if not _ID.fullmatch(export_id):  # a key DynamoDB would refuse is no export either
            raise NotFound(f"No export with id {export_id[:64]}.")
        item = table.get_item(_pk(export_id), _SK)
        if item is None:
            raise NotFound(f"No export with id {export_id}.")
        return _export(item, as_stored=as_stored)

    def object_key(self, export_id: str) -> str:
        return object_key(export_id)

    def list_page(
        self, *, actor: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Export], str | None]:
        """Newest first: everyone's (``actor=None``) or one person's own."""
        index, pk = ("gsi1", "EXPORTS") if actor is None else ("gsi2", f"EXPORTSBY#{actor}")
        items, next_cursor = table.query_page(
            key_condition=f"{index}pk = :pk",
            values={":pk": {"S": pk}},
            index=index,
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [_export(i) for i in items], next_cursor

    def claim(self, export_id: str, *, now: datetime, lease: timedelta) -> bool:
        """Take the export to run it: a queued one, or a running one whose worker's lease ran out
        (it crashed). False when it is done, failed, or another worker holds it."""
        return table.write_if(
            "update_item",
            Key=table.key(_pk(export_id), _SK),
            UpdateExpression="SET #status = :running, started_at = :now, lease_until = :until",
            ConditionExpression="attribute_exists(pk) AND (#status = :queued OR "
            "(#status = :running AND lease_until < :now))",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":running": {"S": "running"},
                ":queued": {"S": "queued"},
                ":now": {"S": iso(now)},
                ":until": {"S": iso(now + lease)},
            },
        )

    def finish(self, export_id: str, *, counts: ExportCounts, size: int, now: datetime) -> None:
        table.update(
            table.key(_pk(export_id), _SK),
            "SET #status = :done, finished_at = :now, counts = :counts, #size = :size REMOVE lease_until",
            condition="#status = :running",
            ExpressionAttributeNames={"#status": "status", "#size": "size"},
            ExpressionAttributeValues={
                ":done": {"S": "done"},
                ":running": {"S": "running"},
                ":now": {"S": iso(now)},
                ":counts": table.encode(counts.model_dump()),
                ":size": {"N": str(size)},
            },
        )

    def fail(self, export_id: str, *, error: str, now: datetime) -> None:
        """Mark an export that will not be retried again as failed (a done one stays done)."""
        table.write_if(
            "update_item",
            Key=table.key(_pk(export_id), _SK),
            UpdateExpression="SET #status = :failed, finished_at = :now, #error = :error REMOVE lease_until",
            ConditionExpression="attribute_exists(pk) AND #status <> :done",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues={
                ":failed": {"S": "failed"},
                ":done": {"S": "done"},
                ":now": {"S": iso(now)},
                ":error": {"S": error[:300]},
            },
        )


def _export(item: dict[str, Any], *, as_stored: bool = False) -> Export:
    """The export as stored; a running one whose worker's lease ran out is shown failed (its worker
    stopped: a later delivery of its message may still take it over and finish it)."""
    data = table.from_item(item)
    lease = data.get("lease_until")
    running = data.get("status") == "running" and not as_stored
    if running and isinstance(lease, str) and lease < iso(clock.now()):
        data.update(status="failed", error="interrupted: its worker stopped; start the export again")
    return Export.model_validate({k: v for k, v in data.items() if k in Export.model_fields})
