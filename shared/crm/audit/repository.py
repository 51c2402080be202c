"""AuditRepository: the audit log, append-only.

Items: ``AUDIT#<yyyy-mm>`` / ``<at>#<id>`` (a month's entries, newest last), in gsi1 under
``AUDITACTOR#<actor>`` and in gsi2 under ``AUDITPERSON#<candidate id>`` (both sorted by time).
Entries are only ever put (never over an existing one) and read; nothing updates or deletes them:
the table's TTL removes them after the retention, and the template denies every function
UpdateItem and DeleteItem on ``AUDIT#`` partitions.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from crm.audit.models import AuditEntry
from crm.platform import table
from crm.platform.ids import iso
from crm.platform.table import InvalidCursor
from crm.platform.times import parse

_END = "~"  # sorts after every timestamp


def _month(at: str) -> str:
    return at[:7]


def _months_back(start: datetime, end: datetime) -> Iterator[str]:
    year, month = end.year, end.month
    while (year, month) >= (start.year, start.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


class AuditRepository:
    def insert(self, entry: AuditEntry, *, ttl: int) -> None:
        sort = f"{entry.at}#{entry.id}"
        item = entry.model_dump(exclude_none=True)
        item.update(
            pk=f"AUDIT#{_month(entry.at)}",
            sk=sort,
            type="audit",
            gsi1pk=f"AUDITACTOR#{entry.actor}",
            gsi1sk=sort,
            ttl=ttl,
        )
        if entry.person_id:
            item.update(gsi2pk=f"AUDITPERSON#{entry.person_id}", gsi2sk=sort)
        if not item.get("details"):
            item.pop("details", None)
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")

    def search(
        self,
        *,
        start: datetime,
        end: datetime,
        person: str | None,
        actor: str | None,
        action: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[AuditEntry], str | None]:
        """Newest first. By person (gsi2) or actor (gsi1) when given, else month by month."""
        low, high = iso(start), iso(end) + _END
        filters, values, names = [], {}, {}
        if action:
            filters.append("#action = :action")
            values[":action"] = {"S": action}
            names["#action"] = "action"
        if person and actor:
            filters.append("actor = :actor")
            values[":actor"] = {"S": actor}
        if person or actor:
            index = "gsi2" if person else "gsi1"
            prefix = f"AUDITPERSON#{person}" if person else f"AUDITACTOR#{actor}"
            items, next_cursor = table.query_page(
                key_condition=f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high",
                values={":pk": {"S": prefix}, ":low": {"S": low}, ":high": {"S": high}, **values},
                index=index,
                limit=limit,
                cursor=cursor,
                forward=False,
                filter_expression=" AND ".join(filters) or None,
                names=names or None,
            )
            return [_entry(i) for i in items], next_cursor
        month, inner = _decode(cursor)
        found: list[AuditEntry] = []
        for current in _months_back(start, end):
            if month and current > month:
                continue
            items, inner = table.query_page(
                key_condition="pk = :pk AND sk BETWEEN :low AND :high",
                values={":pk": {"S": f"AUDIT#{current}"}, ":low": {"S": low}, ":high": {"S": high}, **values},
                limit=limit - len(found),
                cursor=inner if current == month else None,
                forward=False,
                filter_expression=" AND ".join(filters) or None,
                names=names or None,
            )
            found.extend(_entry(i) for i in items)
            if inner:
                return found, _encode(current, inner)
            if len(found) >= limit:
                following = _previous(current, start)
                return found, _encode(following, None) if following else None
        return found, None


def _previous(month: str, start: datetime) -> str | None:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    previous = f"{year:04d}-{number:02d}"
    return previous if previous >= f"{start.year:04d}-{start.month:02d}" else None


def _entry(item: dict[str, Any]) -> AuditEntry:
    data = table.from_item(item)
    return AuditEntry.model_validate({k: v for k, v in data.items() if k in AuditEntry.model_fields})


def _encode(month: str, inner: str | None) -> str:
    raw = json.dumps({"m": month, "c": inner}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[str | None, str | None]:
    if not cursor:
        return None, None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        month, inner = data["m"], data.get("c")
        if not isinstance(month, str) or parse(f"{month}-01T00:00:00Z") is None:
            raise ValueError(month)
        if inner is not None and not isinstance(inner, str):
            raise ValueError(inner)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor does not belong to this list.") from exc
    return month, inner
