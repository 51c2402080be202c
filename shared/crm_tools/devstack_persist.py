"""Keep the local stack's data across restarts.

moto keeps everything in memory, so the local stack saves the tables' items and
the buckets' objects under the data directory and puts them back on the next
start. Layout (keyed by logical id, so a renamed stack still finds its data)::

    <data-dir>/state/dynamodb/<LogicalId>.json      {"format": 1, "items": [...]}
    <data-dir>/state/s3/<LogicalId>/manifest.json   {"format": 1, "objects": [...]}
    <data-dir>/state/s3/<LogicalId>/blobs/<sha256>  object bodies

Items are stored in DynamoDB's typed JSON (binary as base64). Every file is written
to a temporary name and renamed, so a crash never leaves a half-written file.
Queued messages and user-pool users are not kept (the demo users are created on
every start).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack")

FORMAT = 1


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_wire(value: Any) -> Any:
    """boto3's parsed item (binary as bytes) -> DynamoDB JSON (binary as base64 text)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_wire(v) for v in value]
    return value


def from_wire(attribute: Any) -> Any:
    """DynamoDB JSON attribute value -> what boto3 expects (binary as bytes)."""
    if not isinstance(attribute, dict):
        return attribute
    out: dict[str, Any] = {}
    for kind, inner in attribute.items():
        if kind == "B":
            out[kind] = base64.b64decode(inner)
        elif kind == "BS":
            out[kind] = [base64.b64decode(v) for v in inner]
        elif kind == "M":
            out[kind] = {k: from_wire(v) for k, v in inner.items()}
        elif kind == "L":
            out[kind] = [from_wire(v) for v in inner]
        else:
            out[kind] = inner
    return out


class StateStore:
    """Dumps and restores tables and buckets (given as logical id -> physical name)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        dynamodb: Any,
        s3: Any,
        tables: dict[str, str],
        buckets: dict[str, str],
        item_reader: Callable[[str], list[dict[str, Any]] | None] | None = None,
        change_marker: Callable[[str], Any] | None = None,
        scheduler: Any = None,
        schedule_groups: dict[str, str] | None = None,
    ) -> None:
        """``item_reader(table)`` may return a table's items in DynamoDB JSON faster than Scan;
        ``change_marker(table)`` a value that changes whenever the table is written (or None).
        ``schedule_groups`` (logical id -> name) are EventBridge Scheduler groups whose pending
        schedules (a campaign's ``send_at``) are kept too, so they still fire after a restart.
        """
        self.scheduler = scheduler
        self.schedule_groups = schedule_groups or {}
        self.root = data_dir / "state"
        self.item_reader = item_reader
        self.change_marker = change_marker
        self._markers: dict[str, Any] = {}
        self.dynamodb = dynamodb
        self.s3 = s3
        self.tables = tables
        self.buckets = buckets
        self._fingerprints: dict[str, str] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ paths

    def _table_file(self, logical_id: str) -> Path:
        return self.root / "dynamodb" / f"{logical_id}.json"

    def _bucket_dir(self, logical_id: str) -> Path:
        return self.root / "s3" / logical_id

    # ------------------------------------------------------------ restore

    def restore(self) -> dict[str, int]:
        """Put saved items and objects back; returns counts per logical id."""
        counts: dict[str, int] = {}
        for logical_id, name in self.tables.items():
            counts[logical_id] = self._restore_table(logical_id, name)
        for logical_id, name in self.buckets.items():
            counts[logical_id] = self._restore_bucket(logical_id, name)
        for logical_id, name in self.schedule_groups.items():
            counts[logical_id] = self._restore_schedules(logical_id, name)
        return counts

    def _restore_table(self, logical_id: str, name: str) -> int:
        path = self._table_file(logical_id)
        if not path.is_file():
            return 0
        saved = json.loads(path.read_text(encoding="utf-8"))
        items = [{k: from_wire(v) for k, v in item.items()} for item in saved.get("items", [])]
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {name: requests}
            while pending:
                response = self.dynamodb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        self._fingerprints[f"table:{logical_id}"] = _fingerprint(saved.get("items", []))
        return len(items)

    def _restore_bucket(self, logical_id: str, name: str) -> int:
        folder = self._bucket_dir(logical_id)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            return 0
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        objects = manifest.get("objects", [])
        for obj in objects:
            kwargs: dict[str, Any] = {
                "Bucket": name,
                "Key": obj["key"],
                "Body": (folder / "blobs" / obj["blob"]).read_bytes(),
                "Metadata": obj.get("metadata") or {},
            }
            for field in ("ContentType", "ContentDisposition", "ContentEncoding", "CacheControl"):
                if obj.get(field):
                    kwargs[field] = obj[field]
            self.s3.put_object(**kwargs)
        self._fingerprints[f"bucket:{logical_id}:listing"] = self._listing_fingerprint(name)
        return len(objects)

    # ------------------------------------------------------------ dump

    def dump(self) -> bool:
        """Save whatever changed since the last dump or restore; True if anything was written."""
        with self._lock:
            wrote = False
            for logical_id, name in self.tables.items():
                wrote |= self._dump_table(logical_id, name)
            for logical_id, name in self.buckets.items():
                wrote |= self._dump_bucket(logical_id, name)
            for logical_id, name in self.schedule_groups.items():
                wrote |= self._dump_schedules(logical_id, name)
            return wrote

    def _read_items(self, name: str) -> list[dict[str, Any]]:
        if self.item_reader is not None:
            found = self.item_reader(name)
            if found is not None:
                return found
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": name}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items.extend(to_wire(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _dump_table(self, logical_id: str, name: str) -> bool:
        marker = self.change_marker(name) if self.change_marker is not None else None
        if marker is not None and self._markers.get(logical_id) == marker:
            return False
        items = self._read_items(name)
        items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        fingerprint = _fingerprint(items)
        key = f"table:{logical_id}"
        self._markers[logical_id] = marker
        if self._fingerprints.get(key) == fingerprint:
            return False
        body = {"format": FORMAT, "table": name, "items": items}
        atomic_write(self._table_file(logical_id), json.dumps(body, ensure_ascii=False).encode("utf-8"))
        self._fingerprints[key] = fingerprint
        return True

    def _list_objects(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": name}
        while True:
            page = self.s3.list_objects_v2(**kwargs)
            found.extend(page.get("Contents", []))
            if not page.get("IsTruncated"):
                return found
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    @staticmethod
    def _quick(listing: list[dict[str, Any]]) -> str:
        return _fingerprint([(o["Key"], o.get("ETag"), str(o.get("LastModified"))) for o in listing])

    def _listing_fingerprint(self, name: str) -> str:
        return self._quick(self._list_objects(name))

    def _dump_bucket(self, logical_id: str, name: str) -> bool:
        listing = self._list_objects(name)
        quick = self._quick(listing)
        key = f"bucket:{logical_id}"
        if self._fingerprints.get(f"{key}:listing") == quick:
            return False
        folder = self._bucket_dir(logical_id)
        blobs = folder / "blobs"
        objects = []
        for entry in listing:
            obj = self.s3.get_object(Bucket=name, Key=entry["Key"])
            data = obj["Body"].read()
            digest = hashlib.sha256(data).hexdigest()
            blob = blobs / digest
            if not blob.is_file():
                atomic_write(blob, data)
            record: dict[str, Any] = {"key": entry["Key"], "blob": digest, "metadata": obj.get("Metadata")}
            for field in ("ContentType", "ContentDisposition", "ContentEncoding", "CacheControl"):
                if obj.get(field):
                    record[field] = obj[field]
            objects.append(record)
        manifest = {"format": FORMAT, "bucket": name, "objects": objects}
        atomic_write(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
        referenced = {o["blob"] for o in objects}
        if blobs.is_dir():
            for blob in blobs.iterdir():
                if blob.name not in referenced and not blob.name.startswith("."):
                    blob.unlink(missing_ok=True)
        self._fingerprints[f"{key}:listing"] = quick
        return True

    # ------------------------------------------------------------ schedules

    _SCHEDULE_FIELDS = (
        "Name",
        "GroupName",
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "Target",
        "State",
        "ActionAfterCompletion",
        "Description",
        "StartDate",
        "EndDate",
    )

    def _schedules_file(self, logical_id: str) -> Path:
        return self.root / "scheduler" / f"{logical_id}.json"

    def _read_schedules(self, group: str) -> list[dict[str, Any]]:
        schedules = []
        kwargs: dict[str, Any] = {"GroupName": group}
        while True:
            page = self.scheduler.list_schedules(**kwargs)
            for summary in page.get("Schedules", []):
                full = self.scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                schedules.append({k: full[k] for k in self._SCHEDULE_FIELDS if full.get(k) not in (None, "")})
            if not page.get("NextToken"):
                return sorted(schedules, key=lambda s: str(s["Name"]))
            kwargs["NextToken"] = page["NextToken"]

    def _dump_schedules(self, logical_id: str, group: str) -> bool:
        schedules = self._read_schedules(group)
        fingerprint = _fingerprint(json.loads(json.dumps(schedules, default=str)))
        key = f"schedules:{logical_id}"
        if self._fingerprints.get(key) == fingerprint:
            return False
        body = {"format": FORMAT, "group": group, "schedules": schedules}
        atomic_write(self._schedules_file(logical_id), json.dumps(body, default=str).encode("utf-8"))
        self._fingerprints[key] = fingerprint
        return True

    def _restore_schedules(self, logical_id: str, group: str) -> int:
        path = self._schedules_file(logical_id)
        if not path.is_file():
            return 0
        saved = json.loads(path.read_text(encoding="utf-8")).get("schedules", [])
        for schedule in saved:
            schedule = dict(schedule, GroupName=group)
            for field in ("StartDate", "EndDate"):
                schedule.pop(field, None)  # one-time schedules have none; moto keeps them as text
            try:
                self.scheduler.create_schedule(**schedule)
            except self.scheduler.exceptions.ConflictException:
                continue
        self._fingerprints[f"schedules:{logical_id}"] = _fingerprint(
            json.loads(json.dumps(self._read_schedules(group), default=str))
        )
        return len(saved)

    # ------------------------------------------------------------ housekeeping

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class Autosaver(threading.Thread):
    """Dumps the state every ``interval`` seconds (only what changed)."""

    def __init__(self, store: StateStore, interval: float, stop: threading.Event) -> None:
        super().__init__(name="autosave", daemon=True)
        self.store = store
        self.interval = interval
        self.stop_event = stop

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.store.dump()
            except Exception as exc:
                log.error("saving the local data failed: %s", type(exc).__name__)
