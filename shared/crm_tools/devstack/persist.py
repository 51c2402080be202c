"""Keep the local stack's data across restarts, ``kill -9`` included.

moto keeps everything in memory. The local stack keeps, under ``<data-dir>/state/``:

* a **snapshot** of the tables' items, the buckets' objects and the schedules still to fire
  (keyed by logical id, so a renamed stack still finds its data)::

      dynamodb/<LogicalId>.json          {"format": 1, "items": [...]}   (DynamoDB JSON, binary as base64)
      s3/<LogicalId>/manifest.json       {"format": 1, "objects": [...]}
      s3/<LogicalId>/blobs/<sha256>      object bodies (the journal's too)
      scheduler/<LogicalId>.json         {"format": 1, "schedules": [...]}

* the **journal** (:mod:`crm_tools.devstack.journal`): ``journal/<n>.jsonl``, the post-image of
  every write moto accepted, written before its answer left;
* ``snapshot.json`` ``{"format": 2, "journal_from": n}``: the first journal segment to replay on
  top of the snapshot. Without it (a data directory of an earlier version, or one that was never
  snapshotted) every segment present is replayed.

A snapshot (:meth:`StateStore.dump`) first starts a new journal segment *n*, then rewrites the
files of whatever changed (each to a temporary name, then renamed), then points
``snapshot.json`` at *n*, and only then deletes the older segments and the bodies that neither
a manifest nor a remaining segment names. A crash between two files leaves some of them older
than others, which is harmless: the segments after the previous pointer are all still there,
and post-images replayed on top of either version of a file give the same state.

On start (:meth:`StateStore.restore`) the snapshot is read, the journal replayed on top of it in
memory (the last post-image of each key wins) and the result written into moto. Queued messages
and user-pool users are not kept (the demo users are created on every start).
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm_tools.devstack.journal import (
    SCHEDULE_FIELDS,
    Journal,
    State,
    canonical_key,
    item_key,
    read_journal,
    replay,
)

log = logging.getLogger("devstack")

FORMAT = 1
POINTER_FORMAT = 2
_OBJECT_FIELDS = ("ContentType", "ContentDisposition", "ContentEncoding", "CacheControl")


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


def read_pointer(state_dir: Path) -> int | None:
    """The first journal segment to replay (``snapshot.json``), or None when there is no pointer."""
    try:
        pointer = json.loads((state_dir / "snapshot.json").read_text(encoding="utf-8"))
        return int(pointer["journal_from"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("state/snapshot.json is unreadable (%s): replaying the whole journal", type(exc).__name__)
        return None


class StateStore:
    """Dumps and restores tables, buckets and schedule groups (given as logical id -> physical name)."""

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
        journal: Journal | None = None,
        item_writer: Callable[[str, list[dict[str, Any]]], bool] | None = None,
    ) -> None:
        """``item_reader(table)`` may return a table's items in DynamoDB JSON faster than Scan, and
        ``item_writer(table, items)`` write them faster than BatchWriteItem (False: it did not);
        ``change_marker(table)`` a value that changes whenever the table is written (or None).
        ``schedule_groups`` (logical id -> name) are EventBridge Scheduler groups whose pending
        schedules (a campaign's ``send_at``) are kept too, so they still fire after a restart.
        With a ``journal``, :meth:`restore` replays it and :meth:`dump` compacts it.
        """
        self.scheduler = scheduler
        self.schedule_groups = schedule_groups or {}
        self.root = data_dir / "state"
        self.item_reader = item_reader
        self.item_writer = item_writer
        self.change_marker = change_marker
        self._markers: dict[str, Any] = {}
        self.dynamodb = dynamodb
        self.s3 = s3
        self.tables = tables
        self.buckets = buckets
        self.journal = journal
        self._fingerprints: dict[str, str] = {}
        self._manifest_blobs: dict[str, set[str]] = {}  # bucket -> bodies its manifest names
        self._object_records: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._pointer: int | None = None
        self._lock = threading.Lock()
        self.replayed = 0  # journal entries applied by the last restore
        self.last_seq = 0  # the journal's last sequence number found by the last restore

    # ------------------------------------------------------------ paths

    def _table_file(self, logical_id: str) -> Path:
        return self.root / "dynamodb" / f"{logical_id}.json"

    def _bucket_dir(self, logical_id: str) -> Path:
        return self.root / "s3" / logical_id

    def blob_dir(self, logical_id: str) -> Path:
        """Where a bucket's object bodies are kept (by SHA-256), for the snapshot and the journal."""
        return self._bucket_dir(logical_id) / "blobs"

    def _schedules_file(self, logical_id: str) -> Path:
        return self.root / "scheduler" / f"{logical_id}.json"

    @property
    def journal_dir(self) -> Path:
        return self.root / "journal"

    # ------------------------------------------------------------ restore

    def restore(self) -> dict[str, int]:
        """Put the saved state back (snapshot, then the journal after it); counts per logical id."""
        key_names = {lid: self._key_names(name) for lid, name in self.tables.items()}
        state = State()
        table_fingerprints: dict[str, str] = {}
        for lid in self.tables:
            state.tables[lid], table_fingerprints[lid] = self._saved_items(lid, key_names[lid])
        for lid in self.buckets:
            state.buckets[lid] = self._saved_objects(lid)
        for lid in self.schedule_groups:
            state.schedules[lid] = self._saved_schedules(lid)
        self._pointer = read_pointer(self.root)
        contents = read_journal(self.journal_dir, self._pointer or 0)
        if contents.torn or contents.unreadable:
            log.warning(
                "journal: %d unfinished and %d unreadable line(s) skipped", contents.torn, contents.unreadable
            )
        self.replayed = replay(state, contents.entries, key_names)
        self.last_seq = contents.last_seq
        if self.replayed:
            log.info("journal: %d change(s) replayed after the snapshot", self.replayed)

        counts: dict[str, int] = {}
        for lid, name in self.tables.items():
            counts[lid] = self._put_items(name, list(state.tables[lid].values()))
            if ("tables", lid) not in state.touched:
                self._fingerprints[f"table:{lid}"] = table_fingerprints[lid]
        for lid, name in self.buckets.items():
            counts[lid] = self._put_objects(lid, name, state.buckets[lid])
            if ("buckets", lid) not in state.touched:
                self._fingerprints[f"bucket:{lid}:listing"] = self._listing_fingerprint(name)
        for lid, group in self.schedule_groups.items():
            counts[lid] = self._create_schedules(group, state.schedules[lid])
            if ("schedules", lid) not in state.touched:
                self._fingerprints[f"schedules:{lid}"] = _fingerprint(
                    json.loads(json.dumps(self._read_schedules(group), default=str))
                )
        return counts

    def _key_names(self, name: str) -> tuple[str, ...]:
        schema = self.dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
        ordered = sorted(schema, key=lambda part: part["KeyType"] != "HASH")
        return tuple(str(part["AttributeName"]) for part in ordered)

    def _saved_items(self, lid: str, names: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], str]:
        path = self._table_file(lid)
        if not path.is_file():
            return {}, _fingerprint([])
        saved = json.loads(path.read_text(encoding="utf-8")).get("items", [])
        items = {canonical_key(key): item for item in saved if (key := item_key(item, names)) is not None}
        return items, _fingerprint(saved)

    def _put_items(self, name: str, items: list[dict[str, Any]]) -> int:
        if self.item_writer is not None and self.item_writer(name, items):
            return len(items)
        for start in range(0, len(items), 25):
            chunk = items[start : start + 25]
            requests = [{"PutRequest": {"Item": {k: from_wire(v) for k, v in i.items()}}} for i in chunk]
            pending: dict[str, Any] = {name: requests}
            while pending:
                response = self.dynamodb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(items)

    def _saved_objects(self, lid: str) -> dict[str, dict[str, Any]]:
        path = self._bucket_dir(lid) / "manifest.json"
        if not path.is_file():
            return {}
        objects = json.loads(path.read_text(encoding="utf-8")).get("objects", [])
        return {str(o["key"]): {k: v for k, v in o.items() if k != "key"} for o in objects}

    def _put_objects(self, lid: str, name: str, objects: dict[str, dict[str, Any]]) -> int:
        blobs = self.blob_dir(lid)
        restored = 0
        for key, record in objects.items():
            try:
                body = (blobs / str(record["blob"])).read_bytes()
            except (OSError, KeyError):
                log.error("%s: the body of an object is missing; it is not restored", lid)
                continue
            kwargs: dict[str, Any] = {
                "Bucket": name,
                "Key": key,
                "Body": body,
                "Metadata": record.get("metadata") or {},
            }
            kwargs.update({f: record[f] for f in _OBJECT_FIELDS if record.get(f)})
            self.s3.put_object(**kwargs)
            restored += 1
        self._manifest_blobs[lid] = {str(r.get("blob")) for r in objects.values()}
        return restored

    def _saved_schedules(self, lid: str) -> dict[str, dict[str, Any]]:
        path = self._schedules_file(lid)
        if not path.is_file():
            return {}
        saved = json.loads(path.read_text(encoding="utf-8")).get("schedules", [])
        return {str(schedule["Name"]): schedule for schedule in saved}

    def _create_schedules(self, group: str, schedules: dict[str, dict[str, Any]]) -> int:
        for saved in schedules.values():
            schedule = dict(saved, GroupName=group)
            for name in ("StartDate", "EndDate"):
                schedule.pop(name, None)  # one-time schedules have none; moto keeps them as text
            try:
                self.scheduler.create_schedule(**schedule)
            except self.scheduler.exceptions.ConflictException:
                continue
        return len(schedules)

    # ------------------------------------------------------------ dump

    def dump(self) -> bool:
        """Save whatever changed since the last dump or restore, then compact the journal;
        True if any snapshot file was written."""
        with self._lock:
            journal = self.journal if self.journal is not None and self.journal.is_open else None
            segment = journal.rotate() if journal is not None else None
            wrote = False
            for logical_id, name in self.tables.items():
                wrote |= self._dump_table(logical_id, name)
            for logical_id, name in self.buckets.items():
                wrote |= self._dump_bucket(logical_id, name)
            for logical_id, name in self.schedule_groups.items():
                wrote |= self._dump_schedules(logical_id, name)
            if journal is not None and segment is not None:
                if segment != self._pointer:
                    body = {"format": POINTER_FORMAT, "journal_from": segment}
                    atomic_write(self.root / "snapshot.json", json.dumps(body).encode("utf-8"))
                    self._pointer = segment
                journal.remove_before(segment)
            self._collect_blobs()
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

    def _object_record(self, logical_id: str, name: str, entry: dict[str, Any]) -> dict[str, Any]:
        """An object's manifest record; bodies already saved (same key, ETag and time) are not read again."""
        cache_key = (logical_id, str(entry["Key"]), str(entry.get("ETag")), str(entry.get("LastModified")))
        found = self._object_records.get(cache_key)
        if found is not None:
            return found
        obj = self.s3.get_object(Bucket=name, Key=entry["Key"])
        data = obj["Body"].read()
        digest = hashlib.sha256(data).hexdigest()
        blob = self.blob_dir(logical_id) / digest
        if not blob.is_file():
            atomic_write(blob, data)
        record: dict[str, Any] = {"key": entry["Key"], "blob": digest, "metadata": obj.get("Metadata")}
        record.update({f: obj[f] for f in _OBJECT_FIELDS if obj.get(f)})
        self._object_records[cache_key] = record
        return record

    def _dump_bucket(self, logical_id: str, name: str) -> bool:
        listing = self._list_objects(name)
        quick = self._quick(listing)
        key = f"bucket:{logical_id}"
        if self._fingerprints.get(f"{key}:listing") == quick:
            return False
        objects = [self._object_record(logical_id, name, entry) for entry in listing]
        live = {(logical_id, str(e["Key"]), str(e.get("ETag")), str(e.get("LastModified"))) for e in listing}
        self._object_records = {
            k: v for k, v in self._object_records.items() if k[0] != logical_id or k in live
        }
        manifest = {"format": FORMAT, "bucket": name, "objects": objects}
        atomic_write(
            self._bucket_dir(logical_id) / "manifest.json",
            json.dumps(manifest, ensure_ascii=False).encode("utf-8"),
        )
        self._manifest_blobs[logical_id] = {o["blob"] for o in objects}
        self._fingerprints[f"{key}:listing"] = quick
        return True

    def _collect_blobs(self) -> None:
        """Delete bodies that no manifest and no journal segment still on disk names. Under the
        journal's lock, so a body the journal has just written for its next line is kept."""
        lock = self.journal.lock if self.journal is not None else threading.Lock()
        with lock:
            live = self.journal.live_blobs() if self.journal is not None else set()
            for logical_id, referenced in self._manifest_blobs.items():
                blobs = self.blob_dir(logical_id)
                if not blobs.is_dir():
                    continue
                keep = referenced | {digest for lid, digest in live if lid == logical_id}
                for blob in blobs.iterdir():
                    if blob.name not in keep and not blob.name.startswith("."):
                        blob.unlink(missing_ok=True)

    # ------------------------------------------------------------ schedules

    _SCHEDULE_FIELDS = SCHEDULE_FIELDS

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

    # ------------------------------------------------------------ housekeeping

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


#: A snapshot is taken when the journal holds this many entries or bytes, or is this old.
SNAPSHOT_ENTRIES = 20_000
SNAPSHOT_BYTES = 64 * 1024 * 1024
SNAPSHOT_AGE = 30.0
#: Even with an empty journal, a snapshot is taken this often (writes the journal missed).
SNAPSHOT_IDLE_AGE = 300.0


def snapshot_due(*, entries: int, size: int, age: float, wanted: bool = False) -> bool:
    """Whether the journal (``entries`` lines, ``size`` bytes, ``age`` seconds since the last
    snapshot) should be compacted into a snapshot now."""
    if wanted or age >= SNAPSHOT_IDLE_AGE:
        return True
    if entries == 0:
        return False
    return entries >= SNAPSHOT_ENTRIES or size >= SNAPSHOT_BYTES or age >= SNAPSHOT_AGE


class Autosaver(threading.Thread):
    """Snapshots the state: with a journal when :func:`snapshot_due` says so (checked every
    ``interval`` seconds), without one every ``interval`` seconds (only what changed)."""

    def __init__(
        self, store: StateStore, interval: float, stop: threading.Event, *, now: bool = False
    ) -> None:
        super().__init__(name="autosave", daemon=True)
        self.store = store
        self.interval = interval
        self.stop_event = stop
        self.now = now  # snapshot at once (e.g. after replaying a journal)
        self._last = time.monotonic()

    def due(self) -> bool:
        journal = self.store.journal
        if journal is None or not journal.is_open:
            return True
        return snapshot_due(
            entries=journal.entries,
            size=journal.bytes,
            age=time.monotonic() - self._last,
            wanted=journal.snapshot_wanted,
        )

    def save(self) -> None:
        if self.store.journal is not None:
            self.store.journal.snapshot_wanted = False
        self._last = time.monotonic()
        try:
            self.store.dump()
        except Exception as exc:
            log.error("saving the local data failed: %s", type(exc).__name__)

    def run(self) -> None:
        if self.now:
            self.save()
        while not self.stop_event.wait(self.interval):
            if self.due():
                self.save()
