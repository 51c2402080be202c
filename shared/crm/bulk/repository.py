"""BulkActionRepository: a bulk action's job item, its progress and the outcome of each page.

Items (``docs/data-model.md``): the job ``BULK#<id>/BULK`` (the request, ``status``, progress
``page``/``cursor``, counters ``processed``/``changed``/``skipped``; listed under ``gsi1pk=BULKS``)
and one ``BULK#<id>/PAGE#<n>`` per page done, holding ids only (who was changed, who skipped and
why), so an export is built from the people as they are when it is downloaded and an erased person
leaves no personal data here. Both expire 30 days after the job was created (``ttl``).

A page is recorded before the job advances past it, and the advance is conditioned on the page
number it started from: a duplicated or retried run never counts a page twice, and a run that
finds a page already recorded re-uses its outcome instead of applying it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm.bulk.models import BulkAction, BulkActionCreate, PageOutcome, Skipped
from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import new_id

#: How long a job and its pages are kept.
KEEP = timedelta(days=30)
#: Skipped people kept on the job for the result summary (the rest are counted).
MAX_SKIPPED_LISTED = 500


def _pk(bulk_id: str) -> str:
    return f"BULK#{bulk_id}"


def _page_sk(page: int) -> str:
    return f"PAGE#{page:06d}"


@dataclass(frozen=True)
class Progress:
    page: int
    cursor: str | None
    done: bool
    processed: int = 0
    listed: int = 0  # skipped people kept on the job so far


class BulkActionRepository:
    def create(self, data: BulkActionCreate, *, actor: str, total: int | None, now: datetime) -> BulkAction:
        bulk_id = new_id()
        created = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values: dict[str, Any] = {
            "pk": _pk(bulk_id),
            "sk": "BULK",
            "type": "bulk_action",
            "gsi1pk": "BULKS",
            "gsi1sk": f"{created}#{bulk_id}",
            "id": bulk_id,
            "status": "queued",
            "actor": actor,
            "created_at": created,
            "page": 0,
            "processed": 0,
            "changed": 0,
            "skipped": 0,
            "skipped_people": [],
            "ttl": int((now + KEEP).timestamp()),
            **data.model_dump(exclude_none=True),
        }
        if total is not None:
            values["total"] = total
        table.put(table.to_item(values), condition="attribute_not_exists(pk)")
        return BulkAction.model_validate(values)

    def get(self, bulk_id: str) -> BulkAction:
        item = table.get_item(_pk(bulk_id), "BULK")
        if item is None:
            raise NotFound(f"No bulk action with id {bulk_id}.")
        return BulkAction.model_validate(table.from_item(item))

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[BulkAction], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "BULKS"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [BulkAction.model_validate(table.from_item(i)) for i in items], next_cursor

    def progress(self, bulk_id: str) -> Progress | None:
        item = table.get_item(_pk(bulk_id), "BULK")
        if item is None:
            return None
        values = table.from_item(item)
        return Progress(
            page=int(values.get("page", 0)),
            cursor=values.get("cursor") or None,
            done=values["status"] == "done",
            processed=int(values.get("processed", 0)),
            listed=len(values.get("skipped_people") or []),
        )

    def start(self, bulk_id: str, *, now: str) -> None:
        """Mark a queued job as running (a running or finished one is left as it is)."""
        table.write_if(
            "update_item",
            Key=table.key(_pk(bulk_id), "BULK"),
            UpdateExpression="SET #status = :running, started_at = :now",
            ConditionExpression="#status = :queued",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":running": {"S": "running"},
                ":queued": {"S": "queued"},
                ":now": {"S": now},
            },
        )

    def recorded_page(self, bulk_id: str, page: int) -> PageOutcome | None:
        item = table.get_item(_pk(bulk_id), _page_sk(page))
        return PageOutcome.model_validate(table.from_item(item)) if item else None

    def record_page(self, bulk_id: str, page: int, outcome: PageOutcome, *, expires: int) -> PageOutcome:
        """Keep the page's outcome (the first run's, when two runs raced); the one kept."""
        values = {"pk": _pk(bulk_id), "sk": _page_sk(page), "type": "bulk_page", "ttl": expires}
        values.update(outcome.model_dump())
        if table.write_if(
            "put_item", Item=table.to_item(values), ConditionExpression="attribute_not_exists(pk)"
        ):
            return outcome
        return self.recorded_page(bulk_id, page) or outcome

    def advance(
        self, bulk_id: str, *, page: int, next_cursor: str | None, outcome: PageOutcome, listed: int, now: str
    ) -> bool:
        """Count a recorded page and move on; False if another run counted it first. The first
        skipped people (up to :data:`MAX_SKIPPED_LISTED` in all, ``listed`` already) are kept."""
        sets = ["#page = :next", "updated_at = :now"]
        values: dict[str, Any] = {
            ":page": {"N": str(page)},
            ":next": {"N": str(page + 1)},
            ":processed": {"N": str(len(outcome.changed) + len(outcome.skipped))},
            ":changed": {"N": str(len(outcome.changed))},
            ":skipped": {"N": str(len(outcome.skipped))},
            ":now": {"S": now},
        }
        names = {
            "#page": "page",
            "#cursor": "cursor",
            "#processed": "processed",
            "#changed": "changed",
            "#skipped": "skipped",
        }
        room = max(0, MAX_SKIPPED_LISTED - listed)
        if room and outcome.skipped:
            sets.append("#people = list_append(#people, :people)")
            names["#people"] = "skipped_people"
            values[":people"] = table.value([s.model_dump() for s in outcome.skipped[:room]])
        if next_cursor:
            sets.append("#cursor = :cursor")
            values[":cursor"] = {"S": next_cursor}
        else:
            sets += ["#status = :done", "finished_at = :now"]
            names["#status"] = "status"
            values[":done"] = {"S": "done"}
        expression = (
            "SET " + ", ".join(sets) + " ADD #processed :processed, #changed :changed, #skipped :skipped"
        )
        if not next_cursor:
            expression += " REMOVE #cursor"
        return table.write_if(
            "update_item",
            Key=table.key(_pk(bulk_id), "BULK"),
            UpdateExpression=expression,
            ConditionExpression="#page = :page",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def changed_ids(self, bulk_id: str) -> list[str]:
        """Every person a job changed (for an export: everyone it found), page by page in order."""
        out: list[str] = []
        for item in table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :page)",
            values={":pk": {"S": _pk(bulk_id)}, ":page": {"S": "PAGE#"}},
        ):
            out += [str(i) for i in table.from_item(item).get("changed") or []]
        return out


def skipped(candidate_id: str, reason: str) -> Skipped:
    return Skipped.model_validate({"candidate_id": candidate_id, "reason": reason})
