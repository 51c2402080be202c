"""The due-work index (gsi2, partition ``DUE``): everything waiting for a time, sorted by when it
is due (``crm.platform.keys.due_sort_key``). The slices that wait (sequences, reminders) write
their items into it; ``crm.workflows.due_work`` reads what is due, a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crm.platform import table
from crm.platform.keys import DUE_PARTITION


def due_pages(cutoff: str, *, limit: int = 500) -> Iterator[list[dict[str, Any]]]:
    """Pages of the items due up to ``cutoff`` (a sort-key prefix: a time, then ``~``), oldest
    first, as plain values. The caller may stop between pages (the next tick picks up the rest)."""
    params: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": "gsi2",
        "KeyConditionExpression": "gsi2pk = :due AND gsi2sk <= :cutoff",
        "ExpressionAttributeValues": {":due": {"S": DUE_PARTITION}, ":cutoff": {"S": cutoff}},
        "Limit": limit,
    }
    while True:
        response = table.query(**params)
        yield [table.from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last
