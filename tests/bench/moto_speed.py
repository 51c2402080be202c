"""A speed-up for moto's DynamoDB in the benchmark process (which hosts the moto server), with the
same results. moto's own speed is not what the benchmark measures, but it sets how long it runs.

moto's ``TransactWriteItems`` backs up each table it names by deep-copying the whole table, once
per item of the transaction, to put it back if the transaction fails: a public join (three items)
against a table of a few thousand items took over a second, growing with every join. Here the
backup holds copies of just the items the transaction touches (and the length of the table's
stream), and a failed transaction puts those back, which leaves the table as moto's own rollback
would. Only the benchmark process is patched; nothing else here deep-copies tables.
"""

from __future__ import annotations

import copy
from typing import Any

_installed = {"done": False}


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
    _installed["done"] = True
