"""PoolRepository. Items: POOL#<id>/POOL, in gsi1 under POOLS sorted by name. Membership and the
pipeline stage live on the candidate (``pools`` map, written through ``CandidateService``) so a
member list is one projection query."""

from __future__ import annotations

from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.fields import search_term
from crm.pools.models import Pool


class PoolRepository:
    def insert(self, pool: Pool) -> Pool:
        item = pool.model_dump()
        item.update(
            pk=f"POOL#{pool.id}",
            sk="POOL",
            type="pool",
            gsi1pk="POOLS",
            gsi1sk=f"{search_term(pool.name)}#{pool.id}",
        )
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return pool

    def get(self, pool_id: str) -> Pool:
        item = table.get_item(f"POOL#{pool_id}", "POOL")
        if not item:
            raise NotFound(f"No pool with id {pool_id}.")
        return Pool.model_validate(table.from_item(item))

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Pool], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "POOLS"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
        )
        return [Pool.model_validate(table.from_item(i)) for i in items], next_cursor
