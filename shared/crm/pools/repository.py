"""PoolRepository. Items: POOL#<id>/POOL, in gsi1 under POOLS (or ARCHIVEDPOOLS once archived)
sorted by name, and a name guard POOLNAME#<normalised name>/POOLNAME written in the same
transaction as the pool, so two pools can never have one name (trimmed, case-insensitive), however
close together they are created or renamed. Membership and the pipeline stage live on the
candidate (``pools`` map, written through ``CandidateService``) so a member list is one projection
query.

Pools created before the guard existed have none: a rename of such a pool writes its guard, and a
create or a rename also looks for a pool of the same name in the list (one Query per list), so
such an old pool's name is not taken twice either.
"""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import Conflict, NotFound
from crm.platform.fields import search_term
from crm.pools.models import Pool

ACTIVE = "POOLS"
ARCHIVED = "ARCHIVEDPOOLS"
NAME_GUARD = "POOLNAME"


def name_key(name: str) -> str:
    """What makes two pool names the same: trimmed and case-folded."""
    return name.strip().casefold()


def _guard_key(name: str) -> dict[str, Any]:
    return table.key(f"{NAME_GUARD}#{name_key(name)}", NAME_GUARD)


def _guard_item(name: str, pool_id: str) -> dict[str, Any]:
    return {**_guard_key(name), "type": {"S": "pool_name"}, "pool_id": {"S": pool_id}}


def _sort_key(name: str, pool_id: str) -> str:
    return f"{search_term(name)}#{pool_id}"


def name_taken(name: str) -> Conflict:
    return Conflict(
        "Another pool already has this name.",
        field="name",
        errors=[{"field": "name", "message": "another pool already has this name (names ignore case)"}],
    )


class PoolRepository:
    def insert(self, pool: Pool) -> Pool:
        """Store a new pool with its name guard; a name another pool has is a ``Conflict`` on ``name``."""
        item = pool.model_dump()
        item.update(
            pk=f"POOL#{pool.id}",
            sk="POOL",
            type="pool",
            gsi1pk=ARCHIVED if pool.archived else ACTIVE,
            gsi1sk=_sort_key(pool.name, pool.id),
        )
        try:
            table.transact(
                [
                    {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}},
                    {
                        "Put": {
                            "Item": _guard_item(pool.name, pool.id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except table.TransactionCancelled as exc:
            if exc.failed(1):
                raise name_taken(pool.name) from exc
            raise Conflict("The pool could not be created; try again.") from exc
        return pool

    def get(self, pool_id: str) -> Pool:
        item = table.get_item(f"POOL#{pool_id}", "POOL")
        if not item:
            raise NotFound(f"No pool with id {pool_id}.")
        return Pool.model_validate(table.from_item(item))

    def list_page(
        self, *, limit: int, cursor: str | None, archived: bool = False
    ) -> tuple[list[Pool], str | None]:
        """The active pools by name, or (``archived``) the archived ones."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": ARCHIVED if archived else ACTIVE}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
        )
        return [Pool.model_validate(table.from_item(i)) for i in items], next_cursor

    def holders_of(self, name: str) -> list[str]:
        """The ids of pools, active or archived, whose name is ``name`` (trimmed, any case): read
        from the lists (eventually consistent), for pools older than the name guard."""
        wanted = name_key(name)
        found: list[str] = []
        for partition in (ACTIVE, ARCHIVED):
            for item in table.query_all(
                key_condition="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
                values={":pk": {"S": partition}, ":prefix": {"S": f"{search_term(name)}#"}},
                index="gsi1",
                projection="#id, #name",
                names={"#id": "id", "#name": "name"},
            ):
                values = table.from_item(item)
                if name_key(str(values.get("name", ""))) == wanted:
                    found.append(str(values["id"]))
        return found

    def update(self, current: Pool, *, name: str | None, archived: bool | None, now: str) -> Pool:
        """Rename (moving the name guard, or writing it for a pool that has none) and/or archive or
        unarchive, in one transaction conditioned on the name ``current`` was read with. A name
        another pool has is a ``Conflict`` on ``name``."""
        pool_id = current.id
        sets = ["updated_at = :now"]
        removes: list[str] = []
        values: dict[str, Any] = {":now": {"S": now}, ":old": {"S": current.name}}
        guard_ops: list[dict[str, Any]] = []
        if name is not None:
            sets += ["#name = :name", "gsi1sk = :sk"]
            values[":name"] = {"S": name}
            values[":sk"] = {"S": _sort_key(name, pool_id)}
            mine = {":id": {"S": pool_id}}
            if name_key(name) == name_key(current.name):
                # The same guard (a change of case or spacing): (re)write it as this pool's.
                guard_ops.append(
                    {
                        "Put": {
                            "Item": _guard_item(name, pool_id),
                            "ConditionExpression": "attribute_not_exists(pk) OR pool_id = :id",
                            "ExpressionAttributeValues": mine,
                        }
                    }
                )
            else:
                guard_ops += [
                    {  # an old pool has no guard to delete: the condition holds for a missing item
                        "Delete": {
                            "Key": _guard_key(current.name),
                            "ConditionExpression": "attribute_not_exists(pk) OR pool_id = :id",
                            "ExpressionAttributeValues": mine,
                        }
                    },
                    {
                        "Put": {
                            "Item": _guard_item(name, pool_id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
        if archived is not None:
            sets += ["archived = :archived", "gsi1pk = :list"]
            values[":archived"] = {"BOOL": archived}
            values[":list"] = {"S": ARCHIVED if archived else ACTIVE}
            if archived:
                sets.append("archived_at = :now")
            else:
                removes.append("archived_at")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        operations: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": table.key(f"POOL#{pool_id}", "POOL"),
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(pk) AND #name = :old",
                    "ExpressionAttributeNames": {"#name": "name"},
                    "ExpressionAttributeValues": values,
                }
            },
            *guard_ops,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            if name is not None and exc.failed(len(operations) - 1):
                raise name_taken(name) from exc
            raise Conflict("The pool changed while saving; reload it and try again.") from exc
        return self.get(pool_id)
