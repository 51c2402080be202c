"""What the stream function does with one table change."""

from __future__ import annotations

from typing import Any

from crm.candidates.events import events_from_change
from crm.candidates.projections import CandidateProjections
from crm.platform.events import EventBridgePublisher, EventPublisher
from crm.platform.table import plain
from crm.workflows.reactions import react

_publisher: EventPublisher | None = None


def publisher() -> EventPublisher:
    global _publisher
    if _publisher is None:
        _publisher = EventBridgePublisher()
    return _publisher


def set_publisher(replacement: EventPublisher | None) -> None:
    global _publisher
    _publisher = replacement


def apply_change(
    *,
    event_name: str,
    keys: dict[str, Any],
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    record_id: str,
) -> None:
    """Project the candidate's lists, set engagement work in motion, then publish. All are
    idempotent, so a retried record is harmless: projections are conditioned on the profile's
    version, engagement work is guarded by the delivery ledger, events carry the record id."""
    keys, old, new = plain(dict(keys)), _normalise(old), _normalise(new)
    if str(keys.get("sk")) == "PROFILE":
        CandidateProjections().apply(old, new)
    react(event_name, keys, old, new)
    events = events_from_change(event_name, keys, old, new, record_id)
    if events:
        publisher().publish(events)


def _normalise(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    return dict(plain(dict(image)))
