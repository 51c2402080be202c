"""ImportRepository: an import's run item and its failed rows; ImportFiles: its uploaded files.

Items: ``IMPORT#<id>`` / ``RUN`` (status, mapping, checkpoint, counts; in gsi1 under ``IMPORTS`` by
creation time) and ``IMPORT#<id>`` / ``ROW#<row number>`` (a failed row and its reason, kept
``FAILED_ROW_DAYS``). Every chunk commits with one update conditioned on the number of chunks
committed before it, so a retried or duplicated worker message never counts a chunk twice.
Files: ``imports/<id>/source.csv`` and ``imports/<id>/resumes.zip`` in the resume bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from crm.imports.models import FailedRow, ImportCounts, ImportRun
from crm.platform import clock, table, uploads
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound
from crm.platform.table import ConditionFailed

FAILED_ROW_DAYS = 90
RUN = "RUN"
COUNTS = tuple(ImportCounts.model_fields)


def _pk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def _row_sk(row: int) -> str:
    return f"ROW#{row:09d}"


class ImportRepository:
    def insert(self, run: ImportRun) -> None:
        item = run.model_dump(exclude={"counts"}, exclude_none=True)
        item.update({f"count_{k}": 0 for k in COUNTS})
        item.update(
            pk=_pk(run.id), sk=RUN, type="import", gsi1pk="IMPORTS", gsi1sk=f"{run.created_at}#{run.id}"
        )
        item["import_tags"] = item.pop("tags", [])
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")

    def get(self, import_id: str) -> ImportRun:
        item = table.get_item(_pk(import_id), RUN)
        if item is None:
            raise NotFound(f"There is no import {import_id}.")
        return _run(item)

    def recent(self, limit: int) -> list[ImportRun]:
        items, _ = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "IMPORTS"}},
            index="gsi1",
            limit=limit,
            cursor=None,
            forward=False,
        )
        return [_run(i) for i in items]

    def start(self, run: ImportRun, *, now: str) -> None:
        """Record the settings of a start and queue the run; ``Conflict`` when it was started."""
        values = {
            ":queued": "queued",
            ":created": "created",
            ":mapping": run.mapping,
            ":tags": run.tags,
            ":source": run.source,
            ":dry": run.dry_run,
            ":columns": run.columns,
            ":total": run.bytes_total,
            ":now": now,
        }
        sets = (
            "#status = :queued, mapping = :mapping, import_tags = :tags, #source = :source, "
            "dry_run = :dry, #columns = :columns, bytes_total = :total, started_at = :now, updated_at = :now"
        )
        if run.pool_id:
            sets += ", pool_id = :pool"
            values[":pool"] = run.pool_id
        try:
            table.update(
                table.key(_pk(run.id), RUN),
                "SET " + sets,
                condition="#status = :created",
                ExpressionAttributeNames={"#status": "status", "#source": "source", "#columns": "columns"},
                ExpressionAttributeValues={k: table.encode(v) for k, v in values.items()},
            )
        except ConditionFailed as exc:
            raise Conflict("This import was started already.") from exc

    def commit_chunk(
        self,
        import_id: str,
        *,
        chunk: int,
        bytes_done: int,
        counts: ImportCounts,
        failed: list[FailedRow],
        now: str,
        done: bool,
    ) -> bool:
        """The checkpoint after one chunk: its failed rows, then (conditioned on ``chunk`` being the
        number committed so far) the new position and counts. False: committed before (a retry)."""
        ttl = int((clock.now() + timedelta(days=FAILED_ROW_DAYS)).timestamp())
        if failed:
            table.batch_put(
                [
                    table.to_item(
                        {
                            "pk": _pk(import_id),
                            "sk": _row_sk(f.row),
                            "type": "import_row",
                            "row": f.row,
                            "row_values": f.values,
                            "reason": f.reason,
                            "ttl": ttl,
                        }
                    )
                    for f in failed
                ]
            )
        values: dict[str, Any] = {
            ":chunk": {"N": str(chunk)},
            ":next": {"N": str(chunk + 1)},
            ":bytes": {"N": str(bytes_done)},
            ":now": {"S": now},
            ":running": {"S": "running"},
        }
        adds = []
        for name in COUNTS:
            values[f":{name}"] = {"N": str(getattr(counts, name))}
            adds.append(f"count_{name} :{name}")
        sets = "chunks = :next, bytes_done = :bytes, updated_at = :now"
        if done:
            sets += ", #status = :done, finished_at = :now"
            values[":done"] = {"S": "done"}
        return table.write_if(
            "update_item",
            Key=table.key(_pk(import_id), RUN),
            UpdateExpression=f"SET {sets} ADD {', '.join(adds)}",
            ConditionExpression="chunks = :chunk AND #status = :running",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def mark_running(self, import_id: str, *, now: str) -> bool:
        """queued -> running (or already running: a continuation); False when it is not either."""
        try:
            table.update(
                table.key(_pk(import_id), RUN),
                "SET #status = :running, updated_at = :now",
                condition="#status IN (:queued, :running)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": "running"},
                    ":queued": {"S": "queued"},
                    ":now": {"S": now},
                },
            )
        except ConditionFailed:
            return False
        return True

    def set_columns(self, import_id: str, columns: list[str], *, now: str) -> None:
        table.update(
            table.key(_pk(import_id), RUN),
            "SET #columns = :columns, updated_at = :now",
            ExpressionAttributeNames={"#columns": "columns"},
            ExpressionAttributeValues={":columns": table.encode(columns), ":now": {"S": now}},
        )

    def fail(self, import_id: str, reason: str, *, now: str) -> None:
        """Mark the run failed with its reason (a finished run stays finished)."""
        table.write_if(
            "update_item",
            Key=table.key(_pk(import_id), RUN),
            UpdateExpression="SET #status = :failed, reason = :reason, updated_at = :now, finished_at = :now",
            ConditionExpression="#status <> :done",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": "failed"},
                ":done": {"S": "done"},
                ":reason": {"S": reason[:500]},
                ":now": {"S": now},
            },
        )

    def failed_rows(self, import_id: str) -> Iterator[FailedRow]:
        for item in table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :row)",
            values={":pk": {"S": _pk(import_id)}, ":row": {"S": "ROW#"}},
        ):
            data = table.from_item(item)
            yield FailedRow(row=data["row"], values=data.get("row_values") or [], reason=data["reason"])


def _run(item: dict[str, Any]) -> ImportRun:
    data = table.from_item(item)
    data["counts"] = {k: data.get(f"count_{k}", 0) for k in COUNTS}
    data["tags"] = data.pop("import_tags", [])
    return ImportRun.model_validate({k: v for k, v in data.items() if k in ImportRun.model_fields})


class ImportFiles:
    """The uploaded CSV and resume ZIP of each import, in the resume bucket."""

    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().resume_bucket

    @staticmethod
    def source_key(import_id: str) -> str:
        return f"imports/{import_id}/source.csv"

    @staticmethod
    def resumes_key(import_id: str) -> str:
        return f"imports/{import_id}/resumes.zip"

    def upload_form(self, key: str, *, max_bytes: int) -> dict[str, Any]:
        return uploads.presigned_post(self.bucket, key, max_bytes=max_bytes)

    def size(self, key: str) -> int | None:
        return uploads.object_size(self.bucket, key)

    def head(self, key: str, max_bytes: int) -> bytes:
        return uploads.read_range(self.bucket, key, 0, max_bytes - 1)

    def blocks(self, key: str, *, start: int) -> Iterator[bytes]:
        return uploads.stream_blocks(self.bucket, key, start=start)

    def seekable(self, key: str, size: int) -> uploads.RangedFile:
        return uploads.RangedFile(self.bucket, key, size)
