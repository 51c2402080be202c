"""The rules of recruiting events, without a table: reminder times across daylight-saving changes,
when registration is closed, attendance and figures, the desk's search; and, through in-memory
repositories that hold the same conditions as the table's writes, the capacity, the waitlist's
order, promotion when a place frees, and a check-in code that works once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.events.models import CheckInRequest, Event, EventCounts, Registration, RegistrationState
from crm.events.repository import AlreadyThere, Hold, NoPlace, StateChanged
from crm.events.service import (
    EventService,
    RegistrationClosed,
    attendance_of,
    closed_because,
    due_items,
    figures,
    in_audience,
    matches,
    reminder_times,
    when_text,
)
from crm.events.tickets import InvalidCheckIn, checkin_token, read_checkin_token, token_from
from crm.platform import signing
from crm.platform.errors import Conflict

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------- reminder times


def test_reminders_on_an_ordinary_day() -> None:
    times = reminder_times(at("2026-06-10T10:00"), BERLIN)
    assert times["24h"] == at("2026-06-09T10:00")
    assert times["1h"] == at("2026-06-10T09:00")
    assert times["24h"].tzinfo is not None and times["24h"].utcoffset() == timedelta(0)


def test_the_day_before_keeps_its_wall_clock_time_when_the_clocks_go_forward() -> None:
    # Berlin: 29 March 2026 02:00 CET -> 03:00 CEST. From Saturday 10:00 CET to Sunday 10:00 CEST: 23 hours.
    start = at("2026-03-29T10:00")
    times = reminder_times(start, BERLIN)
    assert times["24h"].astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-28 10:00 CET"
    assert start - times["24h"] == timedelta(hours=23)
    assert start - times["1h"] == timedelta(hours=1)


def test_the_day_before_keeps_its_wall_clock_time_when_the_clocks_go_back() -> None:
    # Berlin: 25 October 2026 03:00 CEST -> 02:00 CET. From Saturday 10:00 CEST to Sunday 10:00 CET: 25 hours.
    start = at("2026-10-25T10:00")
    times = reminder_times(start, BERLIN)
    assert times["24h"].astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2026-10-24 10:00 CEST"
    assert start - times["24h"] == timedelta(hours=25)
    assert times["1h"].astimezone(BERLIN).strftime("%H:%M") == "09:00"


def test_an_hour_before_a_start_just_after_the_clocks_go_forward() -> None:
    # New York: 8 March 2026 02:00 EST -> 03:00 EDT. An event at 03:30 EDT is reminded at 01:30 EST.
    start = at("2026-03-08T03:30", NEW_YORK)
    times = reminder_times(start, NEW_YORK)
    assert times["1h"].astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:30 EST"
    assert times["24h"].astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-07 03:30 EST"


def test_a_wall_clock_time_the_clocks_skip_is_read_as_before_the_change() -> None:
    # 02:30 on 29 March 2026 does not exist in Berlin: read as 02:30 CET, which is 03:30 CEST.
    times = reminder_times(at("2026-03-30T02:30"), BERLIN)
    assert utc(times["24h"]) == "2026-03-29T01:30:00.000000Z"
    assert times["24h"] < at("2026-03-30T02:30")


def test_reminders_already_past_are_left_out_and_the_end_is_always_due() -> None:
    event = _event(starts="2026-06-10T10:00", ends="2026-06-10T12:00")
    due = due_items(event, at("2026-06-09T20:00"))
    assert set(due) == {"1h", "end"} and due["end"] == event.ends_at
    assert set(due_items(event, at("2026-06-01T00:00"))) == {"24h", "1h", "end"}


# ---------------------------------------------------------------------------------- pure rules


def _event(
    *,
    starts: str = "2026-06-10T10:00",
    ends: str = "2026-06-10T16:00",
    status: str = "published",
    capacity: int = 2,
    deadline: str | None = None,
    counts: EventCounts | None = None,
) -> Event:
    return Event(
        id="e1",
        name="Fair",
        kind="career_fair",
        status=status,  # type: ignore[arg-type]
        starts_at=utc(at(starts)),
        ends_at=utc(at(ends)),
        timezone="Europe/Berlin",
        mode="in_person",
        capacity=capacity,
        registration_deadline=utc(at(deadline)) if deadline else None,
        counts=counts or EventCounts(),
        version=1,
        created_at="2026-01-01T00:00:00.000000Z",
        updated_at="2026-01-01T00:00:00.000000Z",
    )


@pytest.mark.parametrize(
    ("status", "now", "deadline", "words"),
    [
        ("draft", "2026-06-01T10:00", None, "not open"),
        ("cancelled", "2026-06-01T10:00", None, "cancelled"),
        ("finished", "2026-06-01T10:00", None, "over"),
        ("published", "2026-06-10T17:00", None, "over"),
        ("published", "2026-06-10T10:30", None, "started"),
        ("published", "2026-06-08T12:00", "2026-06-08T09:00", "deadline"),
        ("published", "2026-06-08T08:00", "2026-06-08T09:00", None),
        ("published", "2026-06-10T09:59", None, None),
    ],
)
def test_when_registration_is_closed(status: str, now: str, deadline: str | None, words: str | None) -> None:
    why = closed_because(_event(status=status, deadline=deadline), at(now))
    assert (why is None) if words is None else (why is not None and words in why)


def _registration(
    state: RegistrationState = "registered", checked_in: str | None = None, **more: Any
) -> Registration:
    values: dict[str, Any] = {
        "event_id": "e1",
        "candidate_id": "c1",
        "email": "ann.lee@example.com",
        "first_name": "Ann",
        "last_name": "de Lee",
        "state": state,
        "registered_at": "2026-06-01T10:00:00.000000Z",
        "state_at": "2026-06-01T10:00:00.000000Z",
        "checked_in_at": checked_in,
    }
    values.update(more)
    return Registration.model_validate(values)


def test_attendance_and_audiences() -> None:
    event = _event()
    before, after = at("2026-06-10T12:00"), at("2026-06-10T17:00")
    came = _registration(checked_in="2026-06-10T08:05:00.000000Z")
    away = _registration()
    waiting = _registration("waitlisted")
    assert attendance_of(came, event, before) == "attended"
    assert attendance_of(away, event, before) == "registered"
    assert attendance_of(away, event, after) == "no_show"
    assert attendance_of(waiting, event, after) is None
    assert [in_audience(r, event, "registered", after) for r in (came, away, waiting)] == [True, True, False]
    assert [in_audience(r, event, "no_show", after) for r in (came, away, waiting)] == [False, True, False]
    assert [in_audience(r, event, "attended", before) for r in (came, away, waiting)] == [True, False, False]


def test_no_shows_are_counted_once_the_event_is_over() -> None:
    event = _event(counts=EventCounts(registered=10, attended=7))
    assert figures(event, at("2026-06-10T15:00")).counts.no_show == 0
    assert figures(event, at("2026-06-10T16:01")).counts.no_show == 3


def test_the_desks_search_matches_word_starts_of_name_or_email() -> None:
    r = _registration()
    assert matches(r, "ann") and matches(r, "lee") and matches(r, "ANN LEE") and matches(r, "ann.lee@")
    assert not matches(r, "nn") and not matches(r, "bob")


def test_when_text_is_on_the_events_clock() -> None:
    assert when_text(_event()) == "Wed 10 Jun 2026, 10:00 to 16:00 CEST"
    assert (
        when_text(_event(ends="2026-06-11T12:00")) == "Wed 10 Jun 2026, 10:00 to Thu 11 Jun 2026, 12:00 CEST"
    )


# ---------------------------------------------------------------------------------- with in-memory stores


@dataclass
class Events:
    """The event repository's conditions, in memory."""

    items: dict[str, Event] = field(default_factory=dict)

    def get(self, event_id: str) -> Event:
        from crm.platform.errors import NotFound

        if event_id not in self.items:
            raise NotFound("no event")
        return self.items[event_id]

    def get_many(self, ids: list[str]) -> dict[str, Event]:
        return {i: self.items[i] for i in ids if i in self.items}

    def count(self, event_id: str, **deltas: int) -> None:
        event = self.items[event_id]
        counts = event.counts.model_dump()
        for name, delta in deltas.items():
            counts[name] += delta
        self.items[event_id] = event.model_copy(update={"counts": EventCounts(**counts)})

    def schedule(self, event: Event, due: dict[str, str]) -> None: ...

    def unschedule(self, event_id: str) -> None: ...


@dataclass
class Registrations:
    """The registration repository's conditions, in memory (what the table's transactions check)."""

    events: Events
    items: dict[str, Registration] = field(default_factory=dict)

    def get(self, event_id: str, candidate_id: str) -> Registration | None:
        return self.items.get(candidate_id)

    def get_many(self, event_id: str, ids: list[str]) -> dict[str, Registration]:
        return {i: self.items[i] for i in ids if i in self.items}

    def every(self, event_id: str, *, state: RegistrationState | None = None) -> list[Registration]:
        found = [r for r in self.items.values() if state is None or r.state == state]
        return sorted(found, key=lambda r: (r.state, r.state_at, r.candidate_id))

    def first_waitlisted(self, event_id: str) -> Registration | None:
        line = self.every(event_id, state="waitlisted")
        return line[0] if line else None

    def waitlist_position(self, registration: Registration) -> int:
        line = self.every(registration.event_id, state="waitlisted")
        return [r.candidate_id for r in line].index(registration.candidate_id) + 1

    def register(
        self,
        registration: Registration,
        *,
        previous: RegistrationState | None,
        hold: Hold,
        now: str,
        more: Any,
    ) -> None:
        current = self.items.get(registration.candidate_id)
        if (current is None) != (previous is None) or (current is not None and current.state != previous):
            raise AlreadyThere()
        event = self.events.get(registration.event_id)
        c = event.counts
        if hold == "place" and not (
            event.status == "published"
            and c.registered < event.capacity
            and c.waitlisted == 0
            and event.closes_at > now
        ):
            raise NoPlace()
        if hold == "waitlist" and not (event.status == "published" and event.closes_at > now):
            raise NoPlace()
        if hold == "walk_in" and event.status not in ("published", "finished"):
            raise NoPlace()
        deltas = {"waitlisted" if hold == "waitlist" else "registered": 1}
        if registration.checked_in_at:
            deltas["attended"] = 1
        if previous in ("cancelled", "waitlisted"):
            deltas[str(previous)] = deltas.get(str(previous), 0) - 1
        self.events.count(event.id, **deltas)
        self.items[registration.candidate_id] = registration

    def cancel(self, current: Registration, *, at: str, more: Any) -> Registration:
        found = self.items.get(current.candidate_id)
        if found is None or found.state != current.state or found.checked_in_at:
            raise StateChanged()
        cancelled = current.model_copy(update={"state": "cancelled", "state_at": at, "cancelled_at": at})
        self.events.count(current.event_id, **{current.state: -1, "cancelled": 1})
        self.items[current.candidate_id] = cancelled
        return cancelled

    def promote(self, waiting: Registration, *, at: str, more: Any) -> Registration:
        found = self.items.get(waiting.candidate_id)
        if found is None or found.state != "waitlisted":
            raise StateChanged()
        event = self.events.get(waiting.event_id)
        if event.status != "published" or event.counts.registered >= event.capacity:
            raise NoPlace()
        promoted = waiting.model_copy(update={"state": "registered", "state_at": at, "promoted_at": at})
        self.events.count(event.id, registered=1, waitlisted=-1)
        self.items[waiting.candidate_id] = promoted
        return promoted

    def check_in(
        self, current: Registration, *, at: str, by: str, request_id: str, more: Any
    ) -> Registration:
        found = self.items.get(current.candidate_id)
        if found is None or found.state != "registered" or found.checked_in_at:
            raise StateChanged()
        checked = current.model_copy(
            update={"checked_in_at": at, "checked_in_by": by, "check_in_request": request_id}
        )
        self.events.count(current.event_id, attended=1)
        self.items[current.candidate_id] = checked
        return checked


@dataclass
class People:
    """The candidates slice as this one uses it."""

    def get(self, candidate_id: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(
            id=candidate_id,
            email=f"{candidate_id}@example.com",
            first_name=candidate_id.title(),
            last_name="Guest",
        )

    def activity_operations(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        self.moment += timedelta(milliseconds=1)  # each write its own moment, as a real clock's
        return self.moment


def desk(capacity: int = 2, now: str = "2026-06-01T10:00") -> tuple[EventService, Events, Registrations]:
    events = Events({"e1": _event(capacity=capacity)})
    registrations = Registrations(events)
    service = EventService(
        events,  # type: ignore[arg-type]
        registrations=registrations,  # type: ignore[arg-type]
        candidates=People(),  # type: ignore[arg-type]
        now=Clock(at(now)),
        pause=lambda _: None,
    )
    return service, events, registrations


def register(service: EventService, *names: str) -> list[Registration]:
    people = People()
    return [service.register("e1", people.get(name), actor="test") for name in names]


def test_places_up_to_the_capacity_then_the_waitlist_in_order() -> None:
    service, events, registrations = desk(capacity=2)
    done = register(service, "ann", "bob", "cy", "dee")
    assert [r.state for r in done] == ["registered", "registered", "waitlisted", "waitlisted"]
    assert [r.candidate_id for r in registrations.every("e1", state="waitlisted")] == ["cy", "dee"]
    assert (events.items["e1"].counts.registered, events.items["e1"].counts.waitlisted) == (2, 2)
    again = register(service, "ann")[0]
    assert again.state == "registered" and events.items["e1"].counts.registered == 2


def test_a_cancellation_gives_the_place_to_the_first_in_line_only() -> None:
    service, events, registrations = desk(capacity=2)
    register(service, "ann", "bob", "cy", "dee")
    service.cancel_registration("e1", "bob", actor="test")
    assert (
        registrations.items["cy"].state == "registered" and registrations.items["dee"].state == "waitlisted"
    )
    service.cancel_registration("e1", "bob", actor="test")  # twice is once
    counts = events.items["e1"].counts
    assert (counts.registered, counts.waitlisted, counts.cancelled) == (2, 1, 1)
    service.cancel_registration("e1", "dee", actor="test")  # leaving the line frees no place
    assert registrations.items["dee"].state == "cancelled" and events.items["e1"].counts.registered == 2


def test_someone_new_never_jumps_the_line_for_a_freed_place() -> None:
    service, events, registrations = desk(capacity=1)
    register(service, "ann", "bob")
    # A place frees without anyone promoting (a crash between the two writes): the count shows it.
    events.count("e1", registered=-1)
    late = register(service, "cy")[0]
    assert registrations.items["bob"].state == "registered"  # the first in line got it
    assert late.state == "waitlisted"


def test_more_places_go_to_the_line_in_order() -> None:
    service, events, registrations = desk(capacity=1)
    register(service, "ann", "bob", "cy", "dee")
    events.items["e1"] = events.items["e1"].model_copy(update={"capacity": 3})
    assert service.promote("e1") == 2
    assert [r.candidate_id for r in registrations.every("e1", state="registered")] == ["ann", "bob", "cy"]
    assert service.promote("e1") == 0


def test_a_closed_event_takes_nobody() -> None:
    service, events, _ = desk()
    events.items["e1"] = events.items["e1"].model_copy(update={"status": "cancelled"})
    with pytest.raises(RegistrationClosed):
        register(service, "ann")


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> None:
    signing._signing_key.cache_clear()
    monkeypatch.setattr(signing, "_signing_key", lambda: "k" * 40)


def test_a_code_checks_in_once(signed: None) -> None:
    service, events, _ = desk()
    register(service, "ann")
    token = checkin_token("e1", "ann", ends_at=events.items["e1"].ends_at)
    first = service.check_in("e1", CheckInRequest(token=token, request_id="r1"), actor="desk")
    assert first.status == "checked_in"
    assert service.check_in("e1", CheckInRequest(token=token, request_id="r1"), actor="desk") == first
    second = service.check_in("e1", CheckInRequest(token=token, request_id="r2"), actor="desk")
    assert second.status == "already_checked_in" and second.checked_in_at == first.checked_in_at
    local = (
        datetime.fromisoformat(first.checked_in_at.replace("Z", "+00:00"))
        .astimezone(BERLIN)
        .strftime("%H:%M")
    )
    assert second.message == f"Ann Guest was already checked in at {local}."
    assert events.items["e1"].counts.attended == 1


def test_codes_that_are_refused(signed: None) -> None:
    service, events, _ = desk(capacity=1)
    register(service, "ann", "bob")
    ends = events.items["e1"].ends_at
    now = at("2026-06-10T09:00")
    assert read_checkin_token(checkin_token("e1", "ann", ends_at=ends), event_id="e1", now=now) == "ann"
    with pytest.raises(InvalidCheckIn, match="another event"):
        read_checkin_token(checkin_token("e2", "ann", ends_at=ends), event_id="e1", now=now)
    with pytest.raises(InvalidCheckIn, match="expired"):
        read_checkin_token(
            checkin_token("e1", "ann", ends_at=ends), event_id="e1", now=now + timedelta(days=2)
        )
    with pytest.raises(InvalidCheckIn, match="not a valid"):
        read_checkin_token(checkin_token("e1", "ann", ends_at=ends) + "x", event_id="e1", now=now)
    with pytest.raises(InvalidCheckIn, match="waitlist"):
        service.check_in("e1", CheckInRequest(token=checkin_token("e1", "bob", ends_at=ends)), actor="desk")
    assert events.items["e1"].counts.attended == 0


def test_the_code_is_read_out_of_the_scanned_address() -> None:
    assert token_from("https://crm.example.com/ui/events/e1/check-in?token=abc.def-1") == "abc.def-1"
    assert token_from("  abc.def-1 ") == "abc.def-1"


def test_a_walk_in_takes_a_place_beyond_the_capacity_and_is_checked_in(signed: None) -> None:
    service, events, registrations = desk(capacity=1)
    register(service, "ann", "bob")
    answer = service.check_in("e1", CheckInRequest(candidate_id="cy"), actor="desk")
    assert answer.status == "checked_in" and answer.walk_in
    waiting = service.check_in("e1", CheckInRequest(candidate_id="bob"), actor="desk")
    assert waiting.status == "checked_in" and registrations.items["bob"].state == "registered"
    counts = events.items["e1"].counts
    assert (counts.registered, counts.waitlisted, counts.attended) == (3, 0, 2)


def test_a_checked_in_registration_cannot_be_cancelled() -> None:
    service, _, _ = desk()
    register(service, "ann")
    service.check_in("e1", CheckInRequest(candidate_id="ann"), actor="desk")
    with pytest.raises(Conflict):
        service.cancel_registration("e1", "ann", actor="test")
