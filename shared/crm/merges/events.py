"""The domain events of a merge: ``candidate.merged`` when a merge is committed and
``candidate.unmerged`` when it is undone, from the stream record of the merge's own item (so
they go out once the change is in the table, and at least once)."""

from __future__ import annotations

from typing import Any

from crm.platform.events import DomainEvent


def merge_events(
    keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None, record_id: str
) -> list[DomainEvent]:
    if str(keys.get("sk", "")) != "MERGE" or not new or new.get("type") != "merge":
        return []
    before, after = (old or {}).get("state"), new.get("state")
    detail = {
        "survivor_id": new.get("survivor_id"),
        "merged_id": new.get("merged_id"),
        "merge_id": new.get("id"),
        # the webhook catalogue's names for the same two ids
        "candidate_id": new.get("survivor_id"),
        "merged_candidate_id": new.get("merged_id"),
    }
    if after == "merged" and before != "merged":
        return [DomainEvent("candidate.merged", detail, record_id)]
    if after == "undone" and before == "merged":
        return [DomainEvent("candidate.unmerged", detail, record_id)]
    return []
