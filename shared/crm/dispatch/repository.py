"""DispatchProgress: how far the dispatcher has paged an audience, kept on the item that owns it.

A campaign keeps its progress on its own item; a job's alert run on ``JOB#<id>/ALERTS#<run>``.
Attributes: ``dispatch_page`` (pages done), ``dispatch_cursor`` (where the next page starts),
``dispatched_at`` (set when the audience is exhausted) and the ``stat_recipients`` counter.

Each page advances with one update conditioned on the page number it started from, so two
dispatchers working the same audience (a duplicated queue message) or a dispatcher retried
after a crash never count a page twice: the loser's page is a duplicate of messages the
sender already ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm.platform import table


@dataclass(frozen=True)
class Progress:
    page: int
    cursor: str | None
    done: bool


class DispatchProgress:
    def __init__(self, pk: str, sk: str) -> None:
        self.pk, self.sk = pk, sk

    def read(self) -> Progress | None:
        item = table.get_item(self.pk, self.sk)
        if item is None:
            return None
        values = table.from_item(item)
        return Progress(
            page=int(values.get("dispatch_page", 0)),
            cursor=values.get("dispatch_cursor") or None,
            done=bool(values.get("dispatched_at")),
        )

    def start(self, extra: dict[str, Any] | None = None) -> None:
        """Create the progress item if it does not exist (a separate run item)."""
        item = {"pk": self.pk, "sk": self.sk, "type": "dispatch", "dispatch_page": 0, **(extra or {})}
        table.write_if(
            "put_item",
            Item=table.to_item(item),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def advance(self, *, page: int, next_cursor: str | None, recipients: int, now: str) -> bool:
        """Record a queued page; False if another dispatcher recorded it first."""
        sets = ["dispatch_page = :next", "updated_at = :now"]
        values: dict[str, Any] = {
            ":page": {"N": str(page)},
            ":next": {"N": str(page + 1)},
            ":n": {"N": str(recipients)},
            ":now": {"S": now},
        }
        if next_cursor:
            sets.append("dispatch_cursor = :cursor")
            values[":cursor"] = {"S": next_cursor}
        else:
            sets.append("dispatched_at = :now")
        expression = "SET " + ", ".join(sets) + " ADD stat_recipients :n"
        if not next_cursor:
            expression += " REMOVE dispatch_cursor"
        return table.write_if(
            "update_item",
            Key=table.key(self.pk, self.sk),
            UpdateExpression=expression,
            ConditionExpression=(
                "attribute_exists(pk) AND (attribute_not_exists(dispatch_page) OR dispatch_page = :page)"
                if page == 0
                else "dispatch_page = :page"
            ),
            ExpressionAttributeValues=values,
        )
