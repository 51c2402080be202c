"""Racing registrations against a real HTTP moto server (threads, real sockets on loopback): the
capacity is never exceeded, every place taken has its registration, and the counters agree with
the registrations; racing cancellations hand each freed place to the next in line, once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3

from crm.candidates.service import CandidateService
from crm.events.models import EventCreate
from crm.events.service import EventService
from tests.integration.test_races import free_port, moto_server  # noqa: F401 - the fixture

RACERS = 50
CAPACITY = 10


def _event() -> str:
    start = datetime.now(UTC) + timedelta(days=5)
    service = EventService()
    event = service.create(
        EventCreate.model_validate(
            {
                "name": "Crowded fair",
                "kind": "career_fair",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=3)).isoformat(),
                "timezone": "Europe/Berlin",
                "mode": "in_person",
                "venue": {"name": "Hall", "city": "Berlin", "country": "DE"},
                "capacity": CAPACITY,
            }
        ),
        actor="test",
    )
    service.publish(event.id, actor="test")
    return event.id


def _states(table: str, event_id: str) -> Counter[str]:
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    regs = [i for i in items if i["sk"]["S"] == f"EVENTREG#{event_id}"]
    return Counter(i["state"]["S"] for i in regs)


def test_fifty_racing_registrations_never_exceed_the_capacity(moto_server) -> None:  # noqa: F811
    event_id = _event()
    barrier = threading.Barrier(RACERS)

    def register(i: int) -> None:
        barrier.wait()
        EventService().register_from_form(
            event_id, {"email": f"racer{i}@example.com", "first_name": f"R{i}", "last_name": "Acer"}
        )

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        list(pool.map(register, range(RACERS)))

    states = _states(moto_server.table, event_id)
    assert states == {"registered": CAPACITY, "waitlisted": RACERS - CAPACITY}
    event = EventService().get(event_id)
    assert (event.counts.registered, event.counts.waitlisted) == (CAPACITY, RACERS - CAPACITY)

    # The waitlist is in the order people joined it; racing cancellations promote from its head.
    service = EventService()
    line, _ = service.registrations_page(event_id, state="waitlisted", limit=100, cursor=None)
    assert [r.state_at for r in line] == sorted(r.state_at for r in line)
    places, _ = service.registrations_page(event_id, state="registered", limit=100, cursor=None)
    leaving = [r.candidate_id for r in places[:5]]
    barrier = threading.Barrier(len(leaving) * 2)

    def cancel(candidate_id: str) -> None:
        barrier.wait()
        EventService().cancel_registration(event_id, candidate_id, actor="candidate")

    with ThreadPoolExecutor(max_workers=len(leaving) * 2) as pool:
        list(pool.map(cancel, leaving * 2))  # each cancellation twice, at once

    states = _states(moto_server.table, event_id)
    assert states == {"registered": CAPACITY, "waitlisted": RACERS - CAPACITY - 5, "cancelled": 5}
    event = EventService().get(event_id)
    assert (event.counts.registered, event.counts.waitlisted, event.counts.cancelled) == (
        CAPACITY,
        RACERS - CAPACITY - 5,
        5,
    )
    promoted = {
        r.candidate_id
        for r in service.registrations_page(event_id, state="registered", limit=100, cursor=None)[0]
    }
    assert {r.candidate_id for r in line[:5]} <= promoted
    people = CandidateService()
    assert all(people.find_id_by_email(f"racer{i}@example.com") for i in range(RACERS))
