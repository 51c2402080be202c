"""The embedded AWS: moto's server on a thread, made safe and fast enough for a local stack.

moto's server handles requests on many threads but its models are not thread-safe
(a transaction deep-copies the table while another request changes it:
"dictionary changed size during iteration"). Three adjustments, all local to the
``crm dev`` process:

* :class:`LocalMotoServer` serialises requests with one lock (SQS long polls are let
  through, so they cannot stall everything else). Under the GIL this costs almost
  no throughput, and every API call becomes atomic, as it is in AWS.
* :func:`install_fast_transactions`: moto backs up a whole table (all items and the
  entire stream history) with ``copy.deepcopy`` before every TransactWriteItems,
  once per action, and restores it on failure. That grows with the data (0.6 s
  per transaction at 2,000 items) and, by swapping in a new table object, strands
  stream readers on the old one. The patch backs up only the items the
  transaction touches and, on failure, puts those back and drops the stream
  records the failed transaction wrote: same result, constant cost. (Outside
  such a transaction a table still deep-copies as before.)
* :func:`trim_stream`: moto keeps every stream record forever; records the local
  runtime has consumed are dropped (DynamoDB itself keeps them 24 hours).
* :func:`install_fast_dynamodb`: a Query reads only the items of its partition key instead of
  sorting the whole table, answers that carry items skip moto's model-driven serializer, and
  an item's size is measured once instead of once per attribute.

:class:`SerializedApp` also hands every write moto answered 2xx to a recorder (the journal's
:class:`crm_tools.devstack.journal.MotoRecorder`) before the answer leaves, still under the
lock; the functions at the end read what the recorder needs (post-images of items, objects
and schedules) straight from moto's memory.

The patches touch moto internals (checked against moto 5.2); if they do not fit
the installed moto they are skipped with a warning and moto's own behaviour stays.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol
from urllib.parse import parse_qs

from moto.server import ThreadedMotoServer

log = logging.getLogger("devstack")

ACCOUNT_ID = "123456789012"
#: Deterministic user pool and client ids (hashes of their settings), so they are the same on
#: every start: tokens survive a restart and events/env.json can name them.
MOTO_SETTINGS = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


class Recorder(Protocol):
    """Sees the writes moto accepted (``wants`` before moto, ``record`` after a 2xx, in the lock)."""

    def wants(self, environ: dict[str, Any]) -> Any: ...

    def record(self, capture: Any, environ: dict[str, Any]) -> None: ...


class SerializedApp:
    """WSGI middleware: one request at a time (except SQS long polls); writes moto accepted are
    recorded before the answer is returned."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        lock: threading.RLock,
        recorder: Callable[[], Recorder | None] = lambda: None,
    ) -> None:
        self.app = app
        self.lock = lock
        self.recorder = recorder

    @staticmethod
    def _is_long_poll(environ: dict[str, Any]) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        is_json = target == "AmazonSQS.ReceiveMessage"
        if not is_json and "sqs" not in environ.get("HTTP_AUTHORIZATION", "").lower():
            return False
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            if is_json:
                wait = json.loads(body or b"{}").get("WaitTimeSeconds")
            else:
                form = parse_qs(body.decode("utf-8", "replace"))
                if form.get("Action") != ["ReceiveMessage"]:
                    return False
                wait = (form.get("WaitTimeSeconds") or [None])[0]
            return bool(wait) and int(wait) > 0
        except (ValueError, TypeError, AttributeError):
            return False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._is_long_poll(environ):
            return self.app(environ, start_response)
        recorder = self.recorder()
        capture = recorder.wants(environ) if recorder is not None else None
        if capture is None:
            with self.lock:
                return [self._answer(environ, start_response)]
        statuses: list[str] = []

        def noting_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        with self.lock:
            body = self._answer(environ, noting_start_response)
            if recorder is not None and statuses and statuses[-1][:1] == "2":
                try:
                    recorder.record(capture, environ)
                except Exception:
                    # Applied in memory but not on disk: not acknowledged (the outcome is unknown,
                    # as after a timeout); the next snapshot keeps it.
                    start_response(
                        "500 Internal Server Error", [("Content-Type", "application/json")], sys.exc_info()
                    )
                    return [b'{"__type": "InternalFailure", "message": "the change was not journaled"}']
        return [body]

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> bytes:
        result = self.app(environ, start_response)
        try:
            return b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


class LocalMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` whose requests are serialised by :attr:`lock`."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.lock = threading.RLock()
        #: Sees every write moto accepts (the local stack's journal); None: nothing is recorded.
        self.recorder: Recorder | None = None

    def _server_entry(self) -> None:
        from moto.moto_server.threaded_moto_server import (  # type: ignore[attr-defined]
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
            make_server,
        )

        app = SerializedApp(
            DomainDispatcherApplication(create_backend_app), self.lock, recorder=lambda: self.recorder
        )
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint_url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


@contextlib.contextmanager
def deterministic_ids(seed: int) -> Iterator[None]:
    """moto's random ids (e.g. a user's ``sub``) from a fixed seed, then random again.

    Used while creating the demo users, so their ``sub`` is the same on every start and what
    the app recorded about them (activity actors) still names them after a restart. Nothing
    else may talk to moto meanwhile.
    """
    try:
        from moto.moto_api._internal import mock_random
    except ImportError:  # pragma: no cover - moto internals moved
        yield
        return
    mock_random.seed(seed)
    try:
        yield
    finally:
        mock_random.seed()


# ---------------------------------------------------------------- transactions

_installed = False


def _backup_items(
    backend: Any, transact_items: Any
) -> tuple[list[tuple[Any, ...]], dict[int, tuple[Any, int]]]:
    """Deep copies of the items a transaction touches, and its tables' stream lengths."""
    backups: list[tuple[Any, ...]] = []
    stream_lengths: dict[int, tuple[Any, int]] = {}
    for entry in transact_items if isinstance(transact_items, list) else []:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key")
            if key is None:
                names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
                key = {n: op["Item"][n] for n in names}
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
        except Exception:  # noqa: S112 - malformed input: moto reports it itself
            continue
        backups.append((table, hash_key, range_key, copy.deepcopy(current)))
        if table.stream_shard is not None:
            stream_lengths.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    return backups, stream_lengths


def _restore_items(backups: list[tuple[Any, ...]], stream_lengths: dict[int, tuple[Any, int]]) -> None:
    for table, hash_key, range_key, old in reversed(backups):
        if range_key is not None:
            if old is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = old
        elif old is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = old
    for shard, length in stream_lengths.values():
        del shard.items[length:]


_skip_table_copies = threading.local()


def _table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
    """moto's whole-table backup is skipped inside our transactions, and ordinary elsewhere."""
    if getattr(_skip_table_copies, "active", False):
        return table
    clone = table.__class__.__new__(table.__class__)
    memo[id(table)] = clone
    clone.__dict__.update(copy.deepcopy(table.__dict__, memo))
    return clone


def install_fast_transactions() -> bool:
    """Replace moto's whole-table backup in TransactWriteItems by a per-item one."""
    global _installed
    if _installed:
        return True
    try:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table

        original = DynamoDBBackend.transact_write_items
        DynamoDBBackend.get_keys_value  # noqa: B018 - fail early if the internals moved
        if "__deepcopy__" in Table.__dict__ or hasattr(Table, "__slots__"):
            raise AttributeError("moto's Table copies itself differently")
    except (ImportError, AttributeError) as exc:
        log.warning("moto transactions not patched (%s): they will be slow with much data", exc)
        return False

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        backups, stream_lengths = _backup_items(self, transact_items)
        _skip_table_copies.active = True
        try:
            return original(self, transact_items)
        except Exception:
            _restore_items(backups, stream_lengths)
            raise
        finally:
            _skip_table_copies.active = False

    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True
    return True


# ---------------------------------------------------------------- streams


class _StreamJSONEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        import datetime as dt
        import decimal

        if isinstance(o, dt.datetime):
            return o.timestamp()
        if isinstance(o, decimal.Decimal):
            return float(o)
        return super().default(o)


def install_fast_stream_reads() -> bool:
    """Serve GetRecords with ``json.dumps``: the records are already in wire format.

    moto's generic response serializer walks every attribute value of every record
    through the service model: about 28 ms per record here, seconds per batch.
    """
    try:
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    except ImportError as exc:
        log.warning("moto stream reads not patched (%s): the stream will be slow", exc)
        return False
    if getattr(DynamoDBStreamsHandler.get_records, "_crm_fast", False):
        return True

    def get_records(self: Any) -> str:
        iterator = self._get_param("ShardIterator")
        limit = self._get_param("Limit") or 1000
        return json.dumps(self.backend.get_records(iterator, int(limit)), cls=_StreamJSONEncoder)

    get_records._crm_fast = True  # type: ignore[attr-defined]
    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign,assignment]
    return True


def trim_stream(table_name: str, before_sequence: int, *, region: str, lock: threading.RLock) -> int:
    """Drop a table's stream records numbered below ``before_sequence``; returns how many."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        with lock:
            table = dynamodb_backends[ACCOUNT_ID][region].tables.get(table_name)
            shard = getattr(table, "stream_shard", None)
            if shard is None:
                return 0
            drop = min(before_sequence - shard.starting_sequence_number, len(shard.items))
            if drop <= 0:
                return 0
            del shard.items[:drop]
            shard.starting_sequence_number += drop
            return int(drop)
    except Exception as exc:  # best effort: moto internals may change
        log.debug("stream not trimmed: %s", exc)
        return 0


def table_items(table_name: str, *, region: str, lock: threading.RLock) -> list[dict[str, Any]] | None:
    """A table's items in DynamoDB JSON, read from moto's memory.

    moto's Scan deep-copies and sizes every item (about 10 ms each here), and would
    hold the server's lock for seconds; this takes milliseconds. None if moto's
    internals do not fit (the caller then scans).
    """
    try:
        from moto.dynamodb.models import dynamodb_backends

        with lock:
            table = dynamodb_backends[ACCOUNT_ID][region].tables.get(table_name)
            if table is None:
                return None
            groups = table.items.values() if table.range_key_attr else [table.items]
            text = json.dumps(
                [item.to_json()["Attributes"] for group in groups for item in group.values()]  # type: ignore[union-attr]
            )
        return list(json.loads(text))
    except Exception as exc:  # best effort
        log.debug("items not read from moto: %s", exc)
        return None


def put_table_items(
    table_name: str, items: list[dict[str, Any]], *, region: str, lock: threading.RLock
) -> bool:
    """Put items (DynamoDB JSON, binary as base64) straight into moto's memory: restoring 10,000
    items takes about 2 s this way, 5 s through BatchWriteItem. False if moto's internals do not
    fit (nothing was written then: the caller writes them through the API)."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[ACCOUNT_ID][region]
        if backend.tables.get(table_name) is None:
            return False
        with lock:
            for item in items:
                backend.put_item(table_name, json.loads(json.dumps(item)))
        return True
    except (ImportError, AttributeError, TypeError) as exc:
        log.debug("items not written into moto: %s", exc)
        return False


def table_change_marker(table_name: str, *, region: str, lock: threading.RLock) -> int | None:
    """A number that changes whenever the table is written (its stream's high-water mark)."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        with lock:
            table = dynamodb_backends[ACCOUNT_ID][region].tables.get(table_name)
            shard = getattr(table, "stream_shard", None)
            if shard is None:
                return None
            return int(shard.starting_sequence_number) + len(shard.items)
    except Exception:  # best effort
        return None


def prune_shard_iterators(keep: set[str], *, lock: threading.RLock) -> None:
    """moto keeps every shard iterator it ever handed out; forget all but ``keep``."""
    try:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        with lock:
            for account in list(dynamodbstreams_backends.values()):
                for backend in list(account.values()):
                    for arn in [a for a in backend.shard_iterators if a not in keep]:
                        del backend.shard_iterators[arn]
    except Exception as exc:  # best effort
        log.debug("shard iterators not pruned: %s", exc)


# ---------------------------------------------------------------- post-images for the journal
#
# Called by the recorder with moto's lock held (it is re-entrant): they read moto's memory.


def _dynamodb_table(table_name: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[ACCOUNT_ID][region]
    return backend, backend.tables.get(table_name)


def table_key_names(table_name: str, *, region: str) -> tuple[str, ...] | None:
    """The key attributes of a table (hash, then range), or None when there is no such table."""
    _, table = _dynamodb_table(table_name, region)
    if table is None:
        return None
    return tuple(name for name in (table.hash_key_attr, table.range_key_attr) if name)


def dynamodb_item(table_name: str, key: dict[str, Any], *, region: str) -> dict[str, Any] | None:
    """An item as it is now, in DynamoDB JSON (binary as base64), or None when there is none."""
    backend, table = _dynamodb_table(table_name, region)
    if table is None:
        return None
    hash_key, range_key = backend.get_keys_value(table, key)
    item = table.get_item(hash_key, range_key)
    return None if item is None else dict(item.to_json()["Attributes"])


def table_items_unlocked(table_name: str, *, region: str) -> list[dict[str, Any]]:
    """Every item of a table, in DynamoDB JSON (the caller holds moto's lock)."""
    _, table = _dynamodb_table(table_name, region)
    if table is None:
        return []
    groups = table.items.values() if table.range_key_attr else [table.items]
    return [dict(item.to_json()["Attributes"]) for group in groups for item in group.values()]


def s3_current_objects(bucket_name: str) -> dict[str, Any]:
    """The current version of every object of a bucket (moto's objects; deleted ones left out)."""
    from moto.s3.models import FakeKey, s3_backends

    for backend in s3_backends[ACCOUNT_ID].values():
        bucket = backend.buckets.get(bucket_name)
        if bucket is not None:
            return {key: obj for key, obj in bucket.keys.items() if isinstance(obj, FakeKey)}
    return {}


def s3_object_body(obj: Any) -> bytes:
    return bytes(obj.value)


def s3_object_headers(obj: Any) -> dict[str, str]:
    """The object's stored headers (content type and disposition, ``x-amz-meta-*``)."""
    return {str(k): str(v) for k, v in dict(obj.metadata).items()}


def schedule_post_image(group: str, name: str, *, region: str) -> dict[str, Any] | None:
    """A schedule as ``GetSchedule`` describes it now, or None when it is gone."""
    from moto.scheduler.models import scheduler_backends

    found = scheduler_backends[ACCOUNT_ID][region].schedule_groups.get(group)
    schedule = None if found is None else found.schedules.get(name)
    return None if schedule is None else dict(schedule.to_dict())


# ---------------------------------------------------------------- queries, answers, items

_query_keys = threading.local()
_originals: dict[str, Any] = {}
#: Operations whose answer carries only items, keys and counts (moto's serializer adds nothing).
_ITEM_OPERATIONS = {
    "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems", "PutItem", "UpdateItem",
    "DeleteItem", "TransactWriteItems", "BatchWriteItem",
}  # fmt: skip
_ITEM_KEYS = {
    "Item", "Items", "Count", "ScannedCount", "LastEvaluatedKey", "Attributes", "Responses",
    "UnprocessedKeys", "UnprocessedItems", "ItemCollectionMetrics",
}  # fmt: skip
#: moto's own item size limit (dynamo_type.LimitedSizeDict).
_ITEM_LIMIT = 405000


def _matches(item: Any, conditions: list[tuple[str, Any]]) -> bool:
    for name, expected in conditions:
        value = item.attrs.get(name)
        if value is None or value.type != expected.type:
            return False
        if value.value != expected.value and (expected.type != "N" or value != expected):
            return False
    return True


def _all_items(table: Any) -> list[Any]:
    """moto's ``Table.all_items``; inside a Query, only the items of its partition key (unsorted:
    the Query sorts what it finds)."""
    wanted = getattr(_query_keys, "wanted", None)
    if wanted is None:
        return list(_originals["all_items"](table))
    kind, key = wanted
    if kind == "table":
        group = table.items.get(key)
        if group is None:
            return []
        return list(group.values()) if table.range_key_attr else [group]
    groups = table.items.values() if table.range_key_attr else [table.items]
    return [item for group in groups for item in group.values() if _matches(item, key)]


def _query(table: Any, *args: Any, **kwargs: Any) -> Any:
    bound = _originals["query_signature"].bind(table, *args, **kwargs).arguments
    conditions = bound.get("hash_key_conditions")
    if bound.get("index_name") and conditions:
        _query_keys.wanted = ("index", list(conditions))
    elif not bound.get("index_name") and bound.get("hash_key") is not None:
        _query_keys.wanted = ("table", bound["hash_key"])
    try:
        return _originals["query"](table, *args, **kwargs)
    finally:
        _query_keys.wanted = None


class _ItemEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        if isinstance(o, DynamoType):
            return o.to_json()
        if isinstance(o, Item):
            return o.to_json()["Attributes"]
        if isinstance(o, bytes):
            return base64.b64encode(o).decode("ascii")
        return super().default(o)


def _serialized(handler: Any, action_result: Any) -> Any:
    """moto's ``DynamoHandler.serialized``; answers of items and counts by ``json.dumps``."""
    result = action_result.result
    if not (
        isinstance(result, dict)
        and handler._get_action() in _ITEM_OPERATIONS
        and _ITEM_KEYS.issuperset(result.keys() - {"ConsumedCapacityUnits"})
    ):
        return _originals["serialized"](handler, action_result)
    try:
        body = json.dumps({k: v for k, v in result.items() if k != "ConsumedCapacityUnits"}, cls=_ItemEncoder)
    except (TypeError, ValueError):
        return _originals["serialized"](handler, action_result)
    return 200, {"Content-Type": "application/x-amz-json-1.0", **handler.response_headers}, body


def _item_init(item: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """moto's ``Item.__init__``, measuring the item once instead of once per attribute."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    item.hash_key = hash_key
    item.range_key = range_key
    converted = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in converted.items()) > _ITEM_LIMIT:
        raise ItemSizeTooLarge
    item.attrs = LimitedSizeDict()
    dict.update(item.attrs, converted)


def install_fast_dynamodb() -> bool:
    """Three costs of moto's DynamoDB that grow with the table or the item, made small:

    * a Query sorts every item of the table and compares each with the key condition (~25 µs
      an item: 230 ms for a page at 2,000 candidates, under the lock); it now gets only the items
      of its partition key (a dict lookup on the table; one plain comparison an item on an index)
      and sorts those as before;
    * every answer goes through moto's model-driven serializer (~3 ms an item of 18 attributes);
      answers of items and counts are written with ``json.dumps`` instead (what botocore parses
      from them is the same);
    * ``Item()`` re-measures the whole item for every attribute it adds (quadratic in the
      attributes); it is measured once, against the same limit.

    Checked against moto 5.2; if the internals do not fit, nothing is patched (with a warning).
    """
    if _originals:
        return True
    try:
        import inspect

        from moto.dynamodb.exceptions import ItemSizeTooLarge  # noqa: F401 - fail early if moved
        from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict  # noqa: F401
        from moto.dynamodb.models.table import Table
        from moto.dynamodb.models.utilities import bytesize  # noqa: F401
        from moto.dynamodb.responses import DynamoHandler

        signature = inspect.signature(Table.query)
        if not {"hash_key", "index_name", "hash_key_conditions"} <= set(signature.parameters):
            raise AttributeError("Table.query takes other parameters")
        originals = {
            "query": Table.query,
            "query_signature": signature,
            "all_items": Table.all_items,
            "serialized": DynamoHandler.serialized,
        }
    except (ImportError, AttributeError) as exc:
        log.warning("moto DynamoDB not sped up (%s): reads will be slow with much data", exc)
        return False
    _originals.update(originals)
    Table.query = _query  # type: ignore[method-assign,assignment]
    Table.all_items = _all_items  # type: ignore[method-assign,assignment]
    DynamoHandler.serialized = _serialized  # type: ignore[method-assign,assignment]
    Item.__init__ = _item_init  # type: ignore[method-assign,assignment]
    return True
