"""MergeRepository: the merge records and the raw item moves a merge (and its undo) is made of.

MERGE#<id> / MERGE          the merge (state, ids, versions, what moved; gsi1 MERGESOF#<survivor>)
MERGED#<merged id> / MERGED the redirect: who a merged person now is (until an undo)

A merge moves items of every kind a person's partition holds, so it handles them as stored
(DynamoDB's own form, nothing converted): read whole, written back whole. Each write of a moved
item carries the marker attribute ``merge_write`` first (the stream then runs no reactions and
publishes no events for it), and a second write takes the marker away again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm.platform import table
from crm.platform.errors import Conflict
from crm.platform.keys import person_partition

Raw = dict[str, Any]
Key = tuple[str, str]

MERGE_SK = "MERGE"
REDIRECT_SK = "MERGED"
#: The attribute that marks a write as a merge's (or an undo's) move.
MARKER = "merge_write"
#: A transaction holds at most 100 actions.
PER_TRANSACTION = 100


def merge_pk(merge_id: str) -> str:
    return f"MERGE#{merge_id}"


def redirect_pk(candidate_id: str) -> str:
    return f"MERGED#{candidate_id}"


def survivor_index_pk(survivor_id: str) -> str:
    return f"MERGESOF#{survivor_id}"


def key_of(item: Raw) -> Key:
    return str(item["pk"]["S"]), str(item["sk"]["S"])


class MergeRepository:
    # ------------------------------------------------------------------ reads

    def partition(self, candidate_id: str) -> list[Raw]:
        """Every item of the person's partition, as stored (consistent reads)."""
        params: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": person_partition(candidate_id)}},
            "ConsistentRead": True,
        }
        out: list[Raw] = []
        while True:
            response = table.query(**params)
            out.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return out
            params["ExclusiveStartKey"] = last

    def items(self, keys: Iterable[Key]) -> dict[Key, Raw]:
        wanted = list(dict.fromkeys(keys))
        return table.batch_get(wanted) if wanted else {}

    def profile(self, candidate_id: str) -> Raw | None:
        return table.get_item(person_partition(candidate_id), "PROFILE")

    def get(self, merge_id: str) -> dict[str, Any] | None:
        item = table.get_item(merge_pk(merge_id), MERGE_SK)
        return table.from_item(item) if item else None

    def redirect(self, candidate_id: str) -> dict[str, Any] | None:
        item = table.get_item(redirect_pk(candidate_id), REDIRECT_SK)
        return table.from_item(item) if item else None

    def of_survivor(self, survivor_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
        items, _ = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": survivor_index_pk(survivor_id)}},
            limit=limit,
            cursor=None,
            index="gsi1",
            forward=False,
        )
        return [table.from_item(i) for i in items]

    # ------------------------------------------------------------------ operations

    @staticmethod
    def put_marked(item: Raw, merge_id: str, *, new: bool = False) -> dict[str, Any]:
        put: dict[str, Any] = {"Item": {**item, MARKER: {"S": merge_id}}}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    @staticmethod
    def put(item: Raw) -> dict[str, Any]:
        return {"Put": {"Item": dict(item)}}

    @staticmethod
    def mark(key: Key, merge_id: str) -> dict[str, Any]:
        return {
            "Update": {
                "Key": table.key(*key),
                "UpdateExpression": f"SET {MARKER} = :m",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":m": {"S": merge_id}},
            }
        }

    @staticmethod
    def delete(key: Key) -> dict[str, Any]:
        return {"Delete": {"Key": table.key(*key)}}

    @staticmethod
    def put_if_version(item: Raw, version: int) -> dict[str, Any]:
        return {
            "Put": {
                "Item": dict(item),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        }

    @staticmethod
    def put_if_candidate(item: Raw, candidate_id: str) -> dict[str, Any]:
        """An email guard, moved on condition that it still names ``candidate_id``."""
        return {
            "Put": {
                "Item": dict(item),
                "ConditionExpression": "candidate_id = :cid",
                "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
            }
        }

    @staticmethod
    def new_merge(record: dict[str, Any]) -> dict[str, Any]:
        item = {
            **record,
            "pk": merge_pk(record["id"]),
            "sk": MERGE_SK,
            "type": "merge",
            "gsi1pk": survivor_index_pk(record["survivor_id"]),
            "gsi1sk": f"{record['at']}#{record['id']}",
        }
        return {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    @staticmethod
    def set_state(
        merge_id: str, expected: str, state: str, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        sets = ["#s = :s"]
        values: dict[str, Any] = {":s": {"S": state}, ":e": {"S": expected}}
        for i, (name, value) in enumerate((extra or {}).items()):
            sets.append(f"{name} = :x{i}")
            values[f":x{i}"] = table.encode(value)
        return {
            "Update": {
                "Key": table.key(merge_pk(merge_id), MERGE_SK),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": "#s = :e",
                "ExpressionAttributeNames": {"#s": "state"},
                "ExpressionAttributeValues": values,
            }
        }

    @staticmethod
    def put_redirect(merged_id: str, survivor_id: str, merge_id: str) -> dict[str, Any]:
        item = {
            "pk": redirect_pk(merged_id),
            "sk": REDIRECT_SK,
            "type": "merge_redirect",
            "merged_id": merged_id,
            "survivor_id": survivor_id,
            "merge_id": merge_id,
        }
        return {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    @staticmethod
    def no_redirect(candidate_id: str) -> dict[str, Any]:
        """A check that the person is not merged (or being merged) into someone else."""
        return {
            "ConditionCheck": {
                "Key": table.key(redirect_pk(candidate_id), REDIRECT_SK),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def release_redirect(self, merged_id: str, merge_id: str) -> None:
        """Take away the lock of a merge that did not happen."""
        table.write_if(
            "delete_item",
            Key=table.key(redirect_pk(merged_id), REDIRECT_SK),
            ConditionExpression="merge_id = :m",
            ExpressionAttributeValues={":m": {"S": merge_id}},
        )

    @staticmethod
    def delete_redirect(merged_id: str) -> dict[str, Any]:
        return {"Delete": {"Key": table.key(redirect_pk(merged_id), REDIRECT_SK)}}

    # ------------------------------------------------------------------ writes

    def write(self, operations: list[dict[str, Any]], *, conflict: str) -> None:
        """One transaction; a refused one is a ``Conflict`` saying ``conflict``."""
        if not operations:
            return
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise Conflict(conflict) from exc

    def write_chunks(self, operations: list[dict[str, Any]], *, conflict: str) -> None:
        """Operations that need not be atomic together (each is safe to repeat), 100 at a time."""
        for start in range(0, len(operations), PER_TRANSACTION):
            self.write(operations[start : start + PER_TRANSACTION], conflict=conflict)

    def unmark(self, keys: Iterable[Key], merge_id: str) -> None:
        """Take the marker off items (one conditional update each: an item gone or marked by
        another merge is left alone)."""
        for pk, sk in keys:
            table.write_if(
                "update_item",
                Key=table.key(pk, sk),
                UpdateExpression=f"REMOVE {MARKER}",
                ConditionExpression=f"{MARKER} = :m",
                ExpressionAttributeValues={":m": {"S": merge_id}},
            )

    def delete_marked(self, keys: Iterable[Key], merge_id: str) -> None:
        """Delete items this merge marked (an item gone already is fine)."""
        for pk, sk in keys:
            table.write_if(
                "delete_item",
                Key=table.key(pk, sk),
                ConditionExpression=f"attribute_not_exists(pk) OR {MARKER} = :m",
                ExpressionAttributeValues={":m": {"S": merge_id}},
            )

    def drop_merge(self, merge_id: str) -> None:
        """Forget a merge that was refused before it was committed."""
        table.write_if(
            "delete_item",
            Key=table.key(merge_pk(merge_id), MERGE_SK),
            ConditionExpression="#s = :merging",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":merging": {"S": "merging"}},
        )

    def mark_cleaned(self, merge_id: str) -> None:
        table.write_if(
            "update_item",
            Key=table.key(merge_pk(merge_id), MERGE_SK),
            UpdateExpression="SET cleaned = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
