"""The rules of interview scheduling, without AWS: which slots may be offered, which are still
free, how a time reads in the candidate's zone across a daylight-saving change, what the
candidate's link accepts, and which emails each change of an interview sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from crm.interviews import links
from crm.interviews.events import interview_mail
from crm.interviews.models import Interview, InterviewOffer, InterviewSlot, split_interview_id
from crm.interviews.slots import DASH, Busy, free, kept, offered_slots, shown, slot_key, spoken
from crm.platform import signing
from crm.platform.errors import ValidationFailed
from crm.platform.signing import InvalidLink, sign

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def offer(*starts: str, minutes: int = 60, **more: Any) -> InterviewOffer:
    return InterviewOffer.model_validate(
        {
            "slots": [{"start": s} for s in starts],
            "duration_minutes": minutes,
            "timezone": "Europe/Berlin",
            **more,
        }
    )


def fields_of(exc: ValidationError) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in exc.errors()]


# ---------------------------------------------------------------------------------- offering


def test_offered_slots_are_ordered_in_utc_to_the_minute_with_the_offers_length() -> None:
    slots = offered_slots(offer("2026-03-25T10:00:30+01:00", "2026-03-24T09:00:00Z"), NOW)
    assert [s.model_dump() for s in slots] == [
        {"start": "2026-03-24T09:00:00Z", "end": "2026-03-24T10:00:00Z"},
        {"start": "2026-03-25T09:00:00Z", "end": "2026-03-25T10:00:00Z"},
    ]


def test_a_time_without_a_time_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        offer("2026-03-24T09:00:00Z", "2026-03-25T10:00:00")
    assert fields_of(raised.value) == ["slots.1.start"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": 9}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"slots": []}, "slots"),
        ({"slots": [{"start": f"2026-04-{d:02d}T09:00:00Z"} for d in range(1, 22)]}, "slots"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"interviewers": ["not an address"]}, "interviewers.0"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_offers_name_their_field(changes: dict[str, Any], field: str) -> None:
    body = {
        "slots": [{"start": "2026-03-24T09:00:00Z"}],
        "duration_minutes": 60,
        "timezone": "UTC",
        **changes,
    }
    with pytest.raises(ValidationError) as raised:
        InterviewOffer.model_validate(body)
    assert field in fields_of(raised.value)


def test_slots_in_the_past_too_far_ahead_or_overlapping_are_refused_naming_each() -> None:
    with pytest.raises(ValidationFailed) as raised:
        offered_slots(
            offer(
                "2026-03-24T09:00:00Z",
                "2026-03-20T11:59:00Z",  # past
                "2026-03-24T09:30:00Z",  # overlaps the first (60 minutes)
                "2027-04-01T09:00:00Z",  # more than a year ahead
                "2026-03-24T10:00:00Z",  # right after the one at 09:30: overlaps it
            ),
            NOW,
        )
    assert [e["field"] for e in raised.value.errors] == [
        "slots.1.start",
        "slots.2.start",
        "slots.3.start",
        "slots.4.start",
    ]
    assert "past" in raised.value.errors[0]["message"]
    assert "overlaps" in raised.value.errors[1]["message"]


def test_times_at_the_ends_of_the_calendar_are_refused_not_crashed_on() -> None:
    with pytest.raises(ValidationFailed) as raised:
        offered_slots(offer("9999-12-31T23:30:00Z", "0001-01-01T00:00:00Z", minutes=480), NOW)
    assert [e["field"] for e in raised.value.errors] == ["slots.0.start", "slots.1.start"]
    with pytest.raises(ValidationError) as invalid:
        offer("0001-01-01T00:00:00+14:00")  # no UTC time: refused by the field itself
    assert fields_of(invalid.value) == ["slots.0.start"]


def test_back_to_back_slots_do_not_overlap() -> None:
    slots = offered_slots(offer("2026-03-24T09:00:00Z", "2026-03-24T09:30:00Z", minutes=30), NOW)
    assert len(slots) == 2


# ---------------------------------------------------------------------------------- free slots


def slot(start: str, minutes: int = 60) -> InterviewSlot:
    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return InterviewSlot(start=start, end=slot_key(begin + timedelta(minutes=minutes)))


def test_free_slots_leave_out_the_past_and_what_another_booking_overlaps() -> None:
    slots = [slot("2026-03-20T11:00:00Z"), slot("2026-03-24T09:00:00Z"), slot("2026-03-24T11:00:00Z")]
    busy = [
        Busy("other", "c2", "2026-03-24T09:30:00Z", "2026-03-24T10:00:00Z"),  # overlaps the 09:00
        Busy("mine", "c1", "2026-03-24T11:00:00Z", "2026-03-24T12:00:00Z"),  # our own booking
        Busy("ended", "c3", "2026-03-24T10:00:00Z", "2026-03-24T11:00:00Z"),  # ends as 11:00 starts
    ]
    assert [s.start for s in free(slots, busy, own="mine", now=NOW)] == ["2026-03-24T11:00:00Z"]


def test_a_calendar_forgets_bookings_long_over() -> None:
    busy = {
        "old": Busy("old", "c", "2026-03-18T09:00:00Z", "2026-03-18T10:00:00Z"),
        "soon": Busy("soon", "c", "2026-03-21T09:00:00Z", "2026-03-21T10:00:00Z"),
    }
    assert list(kept(busy, NOW)) == ["soon"]


# ---------------------------------------------------------------------------------- time zones


def test_times_read_in_the_chosen_zone_across_a_daylight_saving_change() -> None:
    """Offered in Berlin on either side of its change to summer time (29 March 2026): 10:00 local
    both days, so 09:00 UTC then 08:00 UTC. New York changed three weeks earlier (UTC-4 on both
    days); Tokyo never does (UTC+9)."""
    before = slot("2026-03-27T09:00:00Z")
    after = slot("2026-03-30T08:00:00Z")
    berlin = [shown(s, "Europe/Berlin") for s in (before, after)]
    assert [(s.day, s.time, s.zone) for s in berlin] == [
        ("Friday 27 March 2026", f"10:00{DASH}11:00", "CET, UTC+01:00"),
        ("Monday 30 March 2026", f"10:00{DASH}11:00", "CEST, UTC+02:00"),
    ]
    new_york = [shown(s, "America/New_York") for s in (before, after)]
    assert [(s.time, s.zone) for s in new_york] == [
        (f"05:00{DASH}06:00", "EDT, UTC-04:00"),
        (f"04:00{DASH}05:00", "EDT, UTC-04:00"),
    ]
    tokyo = [shown(s, "Asia/Tokyo") for s in (before, after)]
    assert [(s.time, s.zone) for s in tokyo] == [
        (f"18:00{DASH}19:00", "JST, UTC+09:00"),
        (f"17:00{DASH}18:00", "JST, UTC+09:00"),
    ]
    # A zone without an abbreviation shows its offset once; a slot past midnight names its end day.
    late = shown(slot("2026-03-27T20:30:00Z", 90), "Asia/Kolkata")
    assert (late.day, late.time, late.zone) == (
        "Saturday 28 March 2026",
        f"02:00{DASH}03:30",
        "IST, UTC+05:30",
    )
    crossing = shown(slot("2026-03-27T22:30:00Z", 90), "UTC")
    assert crossing.time == f"22:30{DASH}00:00 (Sat 28 Mar)" and crossing.zone == "UTC"
    assert (
        spoken(after, "Europe/Berlin")
        == f"Monday 30 March 2026, 10:00{DASH}11:00 (Europe/Berlin, CEST, UTC+02:00)"
    )


# ---------------------------------------------------------------------------------- the link


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "_signing_key", lambda: "k" * 40)


def test_the_link_names_its_interview_and_refuses_forged_foreign_or_expired_tokens(
    key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = links.booking_token("cand_job_abc")
    assert links.interview_of(token) == "cand_job_abc"
    for bad in (None, "", token[:-2] + "xx", token + "x", "x" * 3000):
        with pytest.raises(InvalidLink):
            links.interview_of(bad)
    # A portal link's token is signed with the same key for another purpose: refused here.
    with pytest.raises(InvalidLink):
        links.interview_of(sign("portal", {"c": "cand_job_abc"}))
    with pytest.raises(InvalidLink):
        links.interview_of(sign("interview", {"c": "no interview named"}))
    # Signed with another key (another deployment): refused.
    monkeypatch.setattr(signing, "_signing_key", lambda: "another key")
    with pytest.raises(InvalidLink):
        links.interview_of(token)


def test_an_old_link_expires(key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous

    token = links.booking_token("cand_job_abc")
    later = datetime.now(UTC).timestamp() + links.LINK_DAYS * 86400 + 60
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    with pytest.raises(InvalidLink, match="expired"):
        links.interview_of(token)


def test_interview_ids_name_person_job_and_suffix() -> None:
    assert split_interview_id("c1_j2_abc") == ("c1", "j2", "abc")
    for bad in ("c1_j2", "c1__abc", "c1_j2_abc_d", "c1_j2_a#b", "c1_j2_ä"):
        assert split_interview_id(bad) is None


# ---------------------------------------------------------------------------------- emails


def item(**changes: Any) -> dict[str, Any]:
    base = Interview(
        id="c1_j1_x",
        application_id="c1_j1",
        candidate_id="c1",
        job_id="j1",
        title="Interview",
        duration_minutes=60,
        timezone="Europe/Berlin",
        slots=[slot("2026-03-24T09:00:00Z"), slot("2026-03-25T09:00:00Z")],
        interviewers=["ivy@example.com"],
        organizer_email="rec@example.com",
        offered_by="user:1",
        state="offered",
        created_at="2026-03-20T12:00:00Z",
        updated_at="2026-03-20T12:00:00Z",
    ).model_dump()
    return {**base, "pk": "CAND#c1", "sk": "INTERVIEW#j1#x", **changes}


KEYS = {"pk": "CAND#c1", "sk": "INTERVIEW#j1#x"}


def mails(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[tuple[str, str, list[str]]]:
    return [(j.kind, j.ref, j.recipients) for j in interview_mail(KEYS, old, new)]


def test_each_event_of_an_interview_queues_its_emails_once() -> None:
    offered = item()
    booked = item(state="booked", start="2026-03-24T09:00:00Z", end="2026-03-24T10:00:00Z", version=2)
    moved = item(
        state="booked", start="2026-03-25T09:00:00Z", end="2026-03-25T10:00:00Z", sequence=1, version=3
    )
    cancelled = {**moved, "state": "cancelled", "sequence": 2, "cancelled_by": "candidate", "version": 4}
    team = ["ivy@example.com", "rec@example.com"]
    assert mails(None, offered) == [("interview", "c1_j1_x@offered", ["c1"])]
    assert mails(offered, booked) == [
        ("interview", "c1_j1_x@booked-0", ["c1"]),
        ("interview_team", "c1_j1_x@booked-0", team),
    ]
    assert mails(booked, moved) == [
        ("interview", "c1_j1_x@booked-1", ["c1"]),
        ("interview_team", "c1_j1_x@booked-1", team),
    ]
    assert mails(moved, cancelled) == [
        ("interview", "c1_j1_x@cancelled-2", ["c1"]),
        ("interview_team", "c1_j1_x@cancelled-2", team),
    ]
    # An offer withdrawn before any booking: the candidate only (the team had no invitation).
    assert mails(offered, item(state="cancelled", cancelled_by="recruiter")) == [
        ("interview", "c1_j1_x@cancelled-0", ["c1"])
    ]
    # A replayed record, an erasure, or another item: nothing.
    assert mails(booked, booked) == []
    assert mails(booked, None) == []
    assert interview_mail({"pk": "CAND#c1", "sk": "APP#j1"}, None, {"stage": "applied"}) == []
