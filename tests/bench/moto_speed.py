"""A speed-up for moto's DynamoDB in the benchmark process (which hosts the moto server), with the
same results. moto's own speed is not what the benchmark measures, but it sets how long it runs.

moto's ``TransactWriteItems`` backs up each table it names by deep-copying the whole table, once
per item of the transaction, to put it back if the transaction fails: a public join (three items)
against a table of a few thousand items took over a second, growing with every join. Here the
backup holds copies of just the items the transaction touches (and the length of the table's
stream), and a failed transaction puts those back, which leaves the table as moto's own rollback
would. Only the benchmark process is patched; nothing else here deep-copies tables.

moto's ``Query`` on a global secondary index walks every item of the table to find the index
partition's items, sorts them, then walks them from the first to the page's start key: 11 to 13 s
per request on figure 4's table of 100,000 candidates, where figure 4's searches make dozens of
requests. :func:`index_partitions` groups a table's items by index partition once (each in moto's
sort order), for a table that only ``seed.DirectLoader`` writes. An index Query on that table is
then handed just the items it can reach, found by bisection: from the start key on, and when no
key condition on the sort key or legacy filter can pass items over, no more than the page plus
the one that tells moto there is a next page. moto's own query runs on them unchanged: the same
items, order, ``ScannedCount`` and ``LastEvaluatedKey`` (a Query scanning backwards gets the
whole partition). So a request costs moto what it costs DynamoDB, a page, not the partition or
the table. Any other write to the table (put, delete, update, in a transaction or not) drops the
grouping, and moto reads the whole table again.
"""

from __future__ import annotations

import bisect
import copy
import inspect
import threading
from typing import Any

_installed = {"done": False}
#: id(table) -> {"indexes": {name: sort order}, "items": {(index, hash value): (items, sort keys)}}
_partitions: dict[int, dict[str, Any]] = {}
_restricted = threading.local()
_original: dict[str, Any] = {}


def install() -> None:
    if _installed["done"]:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
        backup = []
        for entry in transact_items:
            try:
                _, op = next(iter(entry.items()))
                table = backend.get_table(op["TableName"])
                key = op.get("Key") or {
                    name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
                }
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                current = table.get_item(hash_key, range_key)
            except Exception:
                continue
            backup.append((table, hash_key, range_key, copy.deepcopy(current)))
        return backup

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = touched(self, transact_items)
        streams = {id(t): (t.stream_shard, len(t.stream_shard.items)) for t, *_ in backup if t.stream_shard}
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(backup):
                if range_key is None:
                    if item is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = item
                elif item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    def no_copy(self: Any, memo: dict[int, Any]) -> Any:
        # moto's rollback then puts back the very table it holds; the items are restored above.
        return self

    Table.__deepcopy__ = no_copy  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _install_partitions(DynamoDBBackend, Table)
    _installed["done"] = True


def _install_partitions(backend_class: Any, table_class: Any) -> None:
    all_items, query = table_class.all_items, table_class.query
    put_item, delete_item = table_class.put_item, table_class.delete_item
    update_item = backend_class.update_item
    signature = inspect.signature(query)
    _original["all_items"] = all_items

    def partition_items(self: Any) -> Any:
        items = getattr(_restricted, "items", None)
        return all_items(self) if items is None else items

    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        grouped = _partitions.get(id(self))
        if grouped is None:
            return query(self, *args, **kwargs)
        call = signature.bind(self, *args, **kwargs).arguments
        index_name = call.get("index_name")
        conditions = call.get("hash_key_conditions") or []
        if index_name not in grouped["indexes"] or len(conditions) != 1:
            return query(self, *args, **kwargs)
        ((attr, value),) = conditions
        order = grouped["indexes"][index_name]
        if attr != order[0]:
            return query(self, *args, **kwargs)
        items, keys = grouped["items"].get((index_name, value.value), ([], []))
        _restricted.items = _reachable(items, keys, order, call)
        try:
            return query(self, *args, **kwargs)
        finally:
            _restricted.items = None

    def forgetting(method: Any) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            forget(self)
            return method(self, *args, **kwargs)

        return write

    def forgetting_update(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        forget(self.get_table(table_name))
        return update_item(self, table_name, *args, **kwargs)

    table_class.all_items = partition_items
    table_class.query = partition_query
    table_class.put_item = forgetting(put_item)
    table_class.delete_item = forgetting(delete_item)
    backend_class.update_item = forgetting_update


def _reachable(
    items: list[Any], keys: list[tuple[Any, ...]], order: list[str], call: dict[str, Any]
) -> list[Any]:
    """The partition's items a forward Query with these arguments can reach (moto skips those up
    to its start key, and stops after ``limit`` items when it appends every item it walks)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if call.get("scan_index_forward") is False:
        return list(items)
    begin = 0
    start = call.get("exclusive_start_key")
    if start:
        if any(attr not in start for attr in order):
            return list(items)
        begin = bisect.bisect_left(keys, tuple(DynamoType(start[attr]) for attr in order))
    end = len(items)
    every_item_appended = not (
        call.get("range_comparison") or call.get("range_key_conditions") or call.get("filter_kwargs")
    )
    limit = call.get("limit")
    if every_item_appended and limit:
        # the start key's own item (skipped by moto), the page, and one more for LastEvaluatedKey
        end = min(end, begin + int(limit) + 2)
    return items[begin:end]


def index_partitions(table: Any) -> int:
    """Group the items of moto ``table`` by global secondary index partition (each in the order
    moto's Query sorts it) and use that grouping for its index Queries until the table changes;
    returns the number of partitions. For a table only ``seed.DirectLoader`` writes (it calls
    :func:`forget` before each write). Indexes with other than one hash and one range key are
    left to moto."""
    from moto.dynamodb.models.dynamo_type import Item

    orders = {}
    for index in table.global_indexes:
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) == 1 and len(ranges) == 1:
            # moto's sort order of an index Query: index hash, index range, table hash, table range
            orders[index.name] = [hashes[0], ranges[0], table.hash_key_attr, table.range_key_attr]
    grouped: dict[tuple[str, Any], list[Any]] = {}
    for item in _original["all_items"](table):
        if not isinstance(item, Item):
            continue
        for name, (hash_attr, range_attr, *_) in orders.items():
            value = item.attrs.get(hash_attr)
            # moto's index Query keeps only items with a (non-empty) range key value
            if value is not None and item.attrs.get(range_attr):
                grouped.setdefault((name, value.value), []).append(item)
    partitions = {}
    for (name, value), items in grouped.items():
        order = orders[name]
        table.sorted_items([order[0], order[2]], [order[1], order[3]], items)
        partitions[(name, value)] = (items, [tuple(i.attrs[a] for a in order) for i in items])
    _partitions[id(table)] = {"indexes": orders, "items": partitions}
    return len(partitions)


def forget(table: Any) -> None:
    """Drop the grouping of ``table`` (it is about to change)."""
    _partitions.pop(id(table), None)
