"""Domain events from table changes, for the EventBridge bus.

Events carry ids only (no names, no emails): consumers read what they need.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from crm.platform import aws
from crm.platform.config import get_settings

SOURCE = "crm"


@dataclass(frozen=True)
class DomainEvent:
    detail_type: str  # candidate.created, candidate.updated, candidate.erased, application.submitted
    detail: dict[str, Any]
    # The stream record the event came from: retries of the record publish the same id.
    event_id: str


def events_from_change(
    event_name: str,
    keys: dict[str, Any],
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    record_id: str,
) -> list[DomainEvent]:
    """What happened, from one stream record (plain python images)."""
    sk = str(keys.get("sk", ""))
    out: list[DomainEvent] = []
    if sk == "PROFILE":
        image = new or old or {}
        cid = str(image.get("id", ""))
        if event_name == "INSERT" and new:
            out.append(
                DomainEvent(
                    "candidate.created",
                    {"candidate_id": cid, "version": new.get("version"), "source": new.get("source")},
                    record_id,
                )
            )
        elif event_name == "MODIFY" and new and old and new.get("version") != old.get("version"):
            changed = sorted(
                k
                for k in set(new) | set(old)
                if new.get(k) != old.get(k) and k not in {"version", "updated_at"}
            )
            out.append(
                DomainEvent(
                    "candidate.updated",
                    {"candidate_id": cid, "version": new.get("version"), "fields": changed},
                    record_id,
                )
            )
        elif event_name == "REMOVE":
            out.append(DomainEvent("candidate.erased", {"candidate_id": cid}, record_id))
    elif sk.startswith("APP#") and new and _is_new_submission(event_name, old, new):
        detail = {k: new.get(k) for k in ("candidate_id", "job_id", "source")}
        out.append(DomainEvent("application.submitted", detail, record_id))
    return out


def _is_new_submission(event_name: str, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """A first application, or the same person applying to the same job again."""
    if event_name == "INSERT":
        return True
    return event_name == "MODIFY" and (old or {}).get("applied_at") != new.get("applied_at")


class EventPublisher(Protocol):
    def publish(self, events: Iterable[DomainEvent]) -> None: ...


class EventBridgePublisher:
    """Puts events on the bus, ten at a time; a partly failed put raises so the record is retried."""

    def publish(self, events: Iterable[DomainEvent]) -> None:
        batch = list(events)
        bus = get_settings().event_bus_name
        for start in range(0, len(batch), 10):
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": e.detail_type,
                    "Detail": json.dumps({**e.detail, "event_id": e.event_id}),
                    "EventBusName": bus,
                }
                for e in batch[start : start + 10]
            ]
            response = aws.client("events").put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"{response['FailedEntryCount']} events were not accepted by the bus")


class InMemoryPublisher:
    """For unit tests: keeps what was published."""

    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    def publish(self, events: Iterable[DomainEvent]) -> None:
        self.published.extend(events)
