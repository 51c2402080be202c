"""The local stack's journal: every change moto accepted is on disk before its answer leaves.

moto keeps its state in memory, and the local stack snapshots it (``devstack_persist``) only
now and then. For a 202 to survive ``kill -9``, as it survives anything in AWS, the embedded
moto server (:class:`crm_tools.devstack.moto.SerializedApp`) hands every mutating request it
answered 2xx to a :class:`MotoRecorder`, still under the lock that serialises moto; the
recorder reads the *post-images* of what the request touched from moto's memory and appends
them to the journal in one ``write(2)`` to a file opened ``O_APPEND``. A process killed after
that keeps what it wrote (it is in the kernel); only the machine going down may lose the last
lines, unless ``CRM_DEV_JOURNAL_FSYNC=1`` asks for an ``fsync`` per request.

One JSON object per line (items in DynamoDB JSON, binary as base64; objects by their body's
SHA-256, the body in ``state/s3/<LogicalId>/blobs/`` written before the line)::

    {"seq": 7, "kind": "ddb", "table": "CrmTable", "key": {...}, "item": {...} | null}
    {"seq": 8, "kind": "s3", "bucket": "ResumeBucket", "key": "resumes/...", "object": {...} | null}
    {"seq": 9, "kind": "schedule", "group": "CampaignScheduleGroup", "name": "...", "schedule": {...} | null}
    {"seq": 10, "kind": "ddb-table", "table": "CrmTable", "items": [...]}   (a PartiQL write: all items)

Resources are named by logical id, as the snapshot names them. An entry is the state after
the change, never the change itself, so replaying is idempotent: a line applied twice, or on
top of a snapshot that already holds it, leaves the same state. The journal is cut into
segments (``state/journal/<n>.jsonl``); a snapshot starts a new segment before it reads the
state, and once it is saved the segments before that one are deleted.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

log = logging.getLogger("devstack")

FSYNC_ENV = "CRM_DEV_JOURNAL_FSYNC"

#: DynamoDB writes whose keys the request names.
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
#: DynamoDB writes by statement (PartiQL): the whole table is journaled.
DYNAMODB_STATEMENTS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
DYNAMODB_TARGET = "DynamoDB_20120810."

#: What the snapshot and the journal keep of a schedule (``GetSchedule``'s fields).
SCHEDULE_FIELDS = (
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

#: Object headers kept with a body, as ``PutObject`` takes them back.
OBJECT_HEADERS = {
    "content-type": "ContentType",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "cache-control": "CacheControl",
}

_SEGMENT = re.compile(r"^(\d{8})\.jsonl$")


# ---------------------------------------------------------------- lines and segments


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """One journal line (JSON never holds a raw newline, so a line is one entry)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8") + b"\n"


def segment_name(number: int) -> str:
    return f"{number:08d}.jsonl"


def segments(directory: Path) -> list[int]:
    """The segment numbers present, in order."""
    if not directory.is_dir():
        return []
    found = (_SEGMENT.match(path.name) for path in directory.iterdir())
    return sorted(int(match.group(1)) for match in found if match)


@dataclass
class JournalContents:
    """What :func:`read_journal` found."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0
    torn: int = 0  # an unfinished last line (the machine stopped mid-write)
    unreadable: int = 0  # lines that are not JSON objects


def read_journal(directory: Path, start: int = 0) -> JournalContents:
    """Every entry of the segments numbered ``start`` or above, in the order they were written."""
    contents = JournalContents()
    for number in segments(directory):
        if number < start:
            continue
        data = (directory / segment_name(number)).read_bytes()
        lines = data.split(b"\n")
        if lines[-1]:
            contents.torn += 1  # written without its newline: never acknowledged
        for line in lines[:-1]:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                contents.unreadable += 1
                continue
            seq = int(entry.get("seq") or 0)
            if seq and seq <= contents.last_seq:
                log.warning(
                    "journal: entry %d follows %d in %s", seq, contents.last_seq, segment_name(number)
                )
            contents.last_seq = max(contents.last_seq, seq)
            contents.entries.append(entry)
    return contents


@dataclass
class State:
    """Saved state being restored, by logical id: items by canonical key, objects by key,
    schedules by name."""

    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    buckets: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    schedules: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: ("tables" | "buckets" | "schedules", logical id) of what the journal changed
    touched: set[tuple[str, str]] = field(default_factory=set)


#: entry kind -> (State attribute, resource field, id field, post-image field)
_KINDS = {
    "ddb": ("tables", "table", "key", "item"),
    "s3": ("buckets", "bucket", "key", "object"),
    "schedule": ("schedules", "group", "name", "schedule"),
}


def _replay_whole_table(state: State, entry: Mapping[str, Any], names: tuple[str, ...] | None) -> bool:
    lid = str(entry.get("table"))
    if lid not in state.tables or names is None:
        return False
    state.tables[lid] = {
        canonical_key(k): dict(item)
        for item in entry.get("items") or []
        if (k := item_key(item, names)) is not None
    }
    state.touched.add(("tables", lid))
    return True


def replay(
    state: State, entries: Iterable[Mapping[str, Any]], key_names: Mapping[str, tuple[str, ...]]
) -> int:
    """Apply journal entries, in order, on top of ``state`` (the last one per key wins); entries for
    resources the state does not have are skipped. ``key_names``: each table's key attributes."""
    applied = 0
    for entry in entries:
        if entry.get("kind") == "ddb-table":
            applied += _replay_whole_table(state, entry, key_names.get(str(entry.get("table"))))
            continue
        spec = _KINDS.get(str(entry.get("kind")))
        if spec is None:
            continue
        attribute, resource_field, id_field, image_field = spec
        resource = str(entry.get(resource_field))
        found: dict[str, dict[str, Any]] | None = getattr(state, attribute).get(resource)
        ident = entry.get(id_field)
        if found is None or ident is None:
            continue
        name = canonical_key(ident) if isinstance(ident, Mapping) else str(ident)
        image = entry.get(image_field)
        if image is None:
            found.pop(name, None)
        else:
            found[name] = dict(image)
        state.touched.add((attribute, resource))
        applied += 1
    return applied


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Journal:
    """The append-only segment files; :meth:`append` is called under moto's lock."""

    def __init__(self, directory: Path, *, fsync: bool | None = None) -> None:
        self.directory = directory
        self.fsync = os.environ.get(FSYNC_ENV) == "1" if fsync is None else fsync
        self.lock = threading.RLock()
        self._fd: int | None = None
        self._segment = 0
        self._seq = 0
        self._blobs: dict[int, set[tuple[str, str]]] = {}
        self.entries = 0  # appended since the segment began
        self.bytes = 0
        self.snapshot_wanted = False  # something went wrong: a snapshot should be taken soon

    @property
    def segment(self) -> int:
        return self._segment

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self, next_seq: int = 1) -> None:
        """Start a new segment after every existing one (older ones are replayed, not appended to)."""
        with self.lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._segment = max(segments(self.directory), default=0) + 1
            self._seq = max(0, next_seq - 1)
            self._open_segment()

    def _open_segment(self) -> None:
        path = self.directory / segment_name(self._segment)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.entries = self.bytes = 0

    def append(self, entries: list[dict[str, Any]], blobs: Iterable[tuple[str, str]] = ()) -> None:
        """Number the entries and write them in one go; ``blobs`` are the (bucket, digest) they name."""
        if not entries:
            return
        with self.lock:
            if self._fd is None:
                raise RuntimeError("the journal is not open")
            lines = []
            for entry in entries:
                self._seq += 1
                lines.append(encode_entry({"seq": self._seq, **entry}))
            data = b"".join(lines)
            _write_all(self._fd, data)
            if self.fsync:
                os.fsync(self._fd)
            self.entries += len(entries)
            self.bytes += len(data)
            self._blobs.setdefault(self._segment, set()).update(blobs)

    def rotate(self) -> int:
        """Begin a new segment (unless the current one is empty); returns its number: everything
        appended from now on is in it or later ones."""
        with self.lock:
            if self._fd is None or self.entries == 0:
                return self._segment
            os.fsync(self._fd)
            os.close(self._fd)
            self._segment += 1
            self._open_segment()
            return self._segment

    def remove_before(self, segment: int) -> int:
        """Delete the segments a saved snapshot made redundant; returns how many."""
        removed = 0
        with self.lock:
            for number in segments(self.directory):
                if number < segment:
                    (self.directory / segment_name(number)).unlink(missing_ok=True)
                    self._blobs.pop(number, None)
                    removed += 1
        return removed

    def live_blobs(self) -> set[tuple[str, str]]:
        """(bucket, digest) of the bodies that segments still on disk name."""
        with self.lock:
            return set().union(*self._blobs.values()) if self._blobs else set()

    def close(self) -> None:
        with self.lock:
            if self._fd is not None:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None


# ---------------------------------------------------------------- what a request touched


def canonical_key(key: Mapping[str, Any]) -> str:
    """One text per item key, whatever the order of its attributes."""
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def _table_name(name: str) -> str:
    return name.split(":table/", 1)[-1] if name.startswith("arn:") else name


def item_key(item: Mapping[str, Any], key_names: tuple[str, ...]) -> dict[str, Any] | None:
    if not all(name in item for name in key_names):
        return None
    return {name: item[name] for name in key_names}


def _writes(operation: str, request: Mapping[str, Any]) -> Iterable[tuple[Any, Any, Any]]:
    """(table, key, item) of each write in a request; key or item may be None."""
    if operation == "PutItem":
        yield request.get("TableName"), None, request.get("Item")
    elif operation in ("UpdateItem", "DeleteItem"):
        yield request.get("TableName"), request.get("Key"), None
    elif operation == "BatchWriteItem":
        for table, writes in (request.get("RequestItems") or {}).items():
            for write in writes if isinstance(writes, list) else []:
                yield (
                    table,
                    (write.get("DeleteRequest") or {}).get("Key"),
                    (write.get("PutRequest") or {}).get("Item"),
                )
    elif operation == "TransactWriteItems":
        for action in request.get("TransactItems") or []:
            for kind in ("Put", "Update", "Delete"):  # a ConditionCheck changes nothing
                op = action.get(kind)
                if isinstance(op, Mapping):
                    yield op.get("TableName"), op.get("Key"), op.get("Item")


def dynamodb_touched(
    operation: str, request: Mapping[str, Any], key_names: Callable[[str], tuple[str, ...] | None]
) -> list[tuple[str, dict[str, Any]]]:
    """(table name, key) of every item a DynamoDB write request may have changed, in order and
    without repeats. ``key_names(table)`` names a table's key attributes (None: not ours)."""
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for table, key, item in _writes(operation, request):
        if not isinstance(table, str):
            continue
        name = _table_name(table)
        names = key_names(name)
        if names is None:
            continue
        if key is None and isinstance(item, Mapping):
            key = item_key(item, names)
        if not isinstance(key, Mapping):
            continue
        marker = (name, canonical_key(key))
        if marker not in seen:
            seen.add(marker)
            found.append((name, dict(key)))
    return found


def signing_service(environ: Mapping[str, Any]) -> str | None:
    """The service a request was signed for (SigV4 header or presigned query), if signed."""
    auth = str(environ.get("HTTP_AUTHORIZATION") or "")
    scope = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    else:
        query = parse_qs(str(environ.get("QUERY_STRING") or ""))
        scope = (query.get("X-Amz-Credential") or [""])[0]
    parts = scope.split("/")
    return parts[3].lower() if len(parts) >= 5 else None


def s3_bucket(environ: Mapping[str, Any]) -> str | None:
    """The bucket of a path-style S3 request (``/<bucket>/<key>``)."""
    path = str(environ.get("PATH_INFO") or "")
    name = unquote(path.lstrip("/").split("/", 1)[0])
    return name or None


def object_record(digest: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """How an object is kept: its body's digest, user metadata and the headers PutObject takes."""
    record: dict[str, Any] = {"blob": digest, "metadata": {}}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith("x-amz-meta-"):
            record["metadata"][lowered.removeprefix("x-amz-meta-")] = value
        elif lowered in OBJECT_HEADERS and value:
            record[OBJECT_HEADERS[lowered]] = value
    return record


def write_blob(folder: Path, data: bytes) -> str:
    """Store a body under its SHA-256 (once); returns the digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = folder / digest
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{digest}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return digest


# ---------------------------------------------------------------- the recorder


@dataclass(frozen=True)
class Capture:
    """A request the recorder will journal if moto answers it 2xx."""

    kind: str  # ddb, s3, schedule
    body: bytes = b""
    operation: str = ""
    resource: str = ""  # the bucket name (s3)


def _buffer_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class MotoRecorder:
    """Journals the post-images of the persisted tables, buckets and schedule groups (each given
    as logical id -> physical name) after each write moto accepted."""

    def __init__(
        self,
        journal: Journal,
        *,
        region: str,
        tables: Mapping[str, str],
        buckets: Mapping[str, str],
        schedule_groups: Mapping[str, str],
        blob_dir: Callable[[str], Path],
        lock: threading.RLock,
    ) -> None:
        self.journal = journal
        self.region = region
        self.tables = {name: lid for lid, name in tables.items()}
        self.buckets = {name: lid for lid, name in buckets.items()}
        self.groups = {name: lid for lid, name in schedule_groups.items()}
        self.blob_dir = blob_dir
        self.lock = lock
        self.enabled = False
        self.errors = 0
        self._key_names: dict[str, tuple[str, ...] | None] = {}
        self._views: dict[str, dict[str, Any]] = {}  # bucket name -> key -> moto's object

    def enable(self) -> None:
        """Journal from now on (after the restore; provisioning and restoring are not changes)."""
        from crm_tools.devstack.moto import s3_current_objects

        with self.lock:
            self._views = {name: s3_current_objects(name) for name in self.buckets}
            self.enabled = True

    def disable(self) -> None:
        self.enabled = False

    # -------------------------------------------------------- before moto (outside the lock)

    def wants(self, environ: dict[str, Any]) -> Capture | None:
        if not self.enabled or environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return None
        target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
        if target:
            operation = target.removeprefix(DYNAMODB_TARGET)
            if target.startswith(DYNAMODB_TARGET) and (
                operation in DYNAMODB_WRITES or operation in DYNAMODB_STATEMENTS
            ):
                return Capture("ddb", _buffer_body(environ), operation)
            return None
        service = signing_service(environ)
        path = str(environ.get("PATH_INFO") or "")
        if service == "scheduler":
            if path.startswith("/schedules/") and environ.get("REQUEST_METHOD") in ("POST", "PUT", "DELETE"):
                return Capture("schedule", _buffer_body(environ))
            return None
        if service in ("s3", None) and not path.startswith("/moto-api"):
            bucket = s3_bucket(environ)
            if bucket in self.buckets:
                return Capture("s3", resource=bucket)
        return None

    # -------------------------------------------------------- after moto (under the lock)

    def record(self, capture: Capture, environ: Mapping[str, Any]) -> None:
        """Append the post-images. A failure is logged, asks for a snapshot soon (the change is in
        memory) and is raised: the request is then not answered as a success."""
        try:
            if capture.kind == "ddb":
                self._record_dynamodb(capture)
            elif capture.kind == "s3":
                self._record_s3(capture.resource)
            elif capture.kind == "schedule":
                self._record_schedule(capture, environ)
        except Exception as exc:
            self.errors += 1
            self.journal.snapshot_wanted = True
            log.error("journal: a %s write was not journaled: %s", capture.kind, type(exc).__name__)
            raise

    def _names_of(self, table: str) -> tuple[str, ...] | None:
        if table not in self.tables:
            return None
        if table not in self._key_names:
            from crm_tools.devstack.moto import table_key_names

            self._key_names[table] = table_key_names(table, region=self.region)
        return self._key_names[table]

    def _record_dynamodb(self, capture: Capture) -> None:
        from crm_tools.devstack.moto import dynamodb_item, table_items_unlocked

        entries: list[dict[str, Any]] = []
        if capture.operation in DYNAMODB_STATEMENTS:
            for name, lid in self.tables.items():
                items = table_items_unlocked(name, region=self.region)
                entries.append({"kind": "ddb-table", "table": lid, "items": items})
        else:
            request = json.loads(capture.body or b"{}")
            for name, key in dynamodb_touched(capture.operation, request, self._names_of):
                item = dynamodb_item(name, key, region=self.region)
                entries.append({"kind": "ddb", "table": self.tables[name], "key": key, "item": item})
        self.journal.append(entries)

    def _record_s3(self, bucket: str) -> None:
        from crm_tools.devstack.moto import s3_current_objects, s3_object_body, s3_object_headers

        lid = self.buckets[bucket]
        current = s3_current_objects(bucket)
        before = self._views.get(bucket, {})
        entries: list[dict[str, Any]] = []
        blobs: list[tuple[str, str]] = []
        with self.journal.lock:  # a snapshot's clean-up never sees a body before its line
            for key, obj in current.items():
                if before.get(key) is not obj:
                    digest = write_blob(self.blob_dir(lid), s3_object_body(obj))
                    blobs.append((lid, digest))
                    record = object_record(digest, s3_object_headers(obj))
                    entries.append({"kind": "s3", "bucket": lid, "key": key, "object": record})
            for key in before.keys() - current.keys():
                entries.append({"kind": "s3", "bucket": lid, "key": key, "object": None})
            self.journal.append(entries, blobs)
        self._views[bucket] = current

    def _record_schedule(self, capture: Capture, environ: Mapping[str, Any]) -> None:
        from crm_tools.devstack.moto import schedule_post_image

        name = unquote(str(environ.get("PATH_INFO") or "").rstrip("/").rsplit("/", 1)[-1])
        named = parse_qs(str(environ.get("QUERY_STRING") or "")).get("groupName") or []
        group = named[0] if named else None
        if group is None and capture.body:
            group = json.loads(capture.body).get("GroupName")
        group = str(group or "default")
        lid = self.groups.get(group)
        if lid is None:
            return
        schedule = schedule_post_image(group, name, region=self.region)
        if schedule is not None:
            schedule = {k: schedule[k] for k in SCHEDULE_FIELDS if schedule.get(k) not in (None, "")}
        self.journal.append([{"kind": "schedule", "group": lid, "name": name, "schedule": schedule}])
