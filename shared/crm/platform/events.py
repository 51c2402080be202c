"""Domain events and the EventBridge bus they go on (and an in-memory bus for tests).

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
