"""What the stream function does with one table change."""

from __future__ import annotations

from typing import Any

from crm.candidates.events import events_from_change
from crm.candidates.projections import CandidateProjections
from crm.candidates.search import FreeTextIndex
from crm.merges.events import merge_events
from crm.merges.service import MergeService, is_merge_write
from crm.platform.events import EventBridgePublisher, EventPublisher
from crm.platform.table import plain
from crm.workflows.reactions import react


class TableChanges:
    """What the stream function does with each change; ``publisher`` is where domain events go
    (EventBridge by default, made when first needed)."""

    def __init__(
        self,
        *,
        publisher: EventPublisher | None = None,
        projections: CandidateProjections | None = None,
        words: FreeTextIndex | None = None,
    ) -> None:
        self._publisher = publisher
        self.projections = projections or CandidateProjections()
        self.words = words or FreeTextIndex()

    @property
    def publisher(self) -> EventPublisher:
        if self._publisher is None:
            self._publisher = EventBridgePublisher()
        return self._publisher

    def apply(
        self,
        *,
        event_name: str,
        keys: dict[str, Any],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        record_id: str,
    ) -> None:
        """Project the candidate's lists and free-text index, set engagement work in motion, then
        publish. All are idempotent, so a retried record is harmless: projections are conditioned
        on the profile's version, the index writes only what differs from the person's current
        state, engagement work is guarded by the delivery ledger, events carry the record id."""
        keys, old, new = plain(dict(keys)), _normalise(old), _normalise(new)
        if event_name != "REMOVE" and new is not None and set(new) <= set(keys):
            # moto's first record of a transaction's update that creates an item carries only
            # the keys; its next record carries the item (DynamoDB sends the one full record).
            return
        if str(keys.get("sk")) == "PROFILE":
            self.projections.apply(old, new)
        if is_merge_write(old, new):
            # merges: an item moved by a merge (or its undo) is not new: no reactions, no events;
            # the word index is refreshed once per merge (below), not once per item moved
            return
        self.words.on_change(keys, old, new)
        if event_name == "REMOVE" and str(keys.get("sk")) == "PROFILE" and old and old.get("id"):
            MergeService().on_erased(str(old["id"]))  # merges: an erased survivor's undo data goes
        react(event_name, keys, old, new)
        events = events_from_change(event_name, keys, old, new, record_id)
        merged = merge_events(keys, old, new, record_id)  # merges: candidate.merged / unmerged
        for event in merged:
            for person in (event.detail.get("survivor_id"), event.detail.get("merged_id")):
                if person:
                    self.words.refresh(str(person))
        events += merged
        if events:
            self.publisher.publish(events)


def _normalise(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    return dict(plain(dict(image)))
