"""The rules of slots, as pure functions of the offer, the calendars and the current time: which
times may be offered, which are still free, and how a time reads in a person's own zone.

A slot is stored by its start in UTC (``2026-05-04T08:00:00Z``, to the minute), which is also how
a page names it; every slot of one offer has the offer's length. Times are shown in an IANA zone
with ``zoneinfo``, so a slot after a daylight-saving change reads at its own offset, not at the
offset of the day it was offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby, pairwise
from zoneinfo import ZoneInfo

from crm.interviews.models import MAX_DAYS_AHEAD, InterviewOffer, InterviewSlot, ShownSlot, time_zones
from crm.platform.errors import ValidationFailed
from crm.platform.times import parse

#: Between a slot's start and end as a person reads it.
DASH = "\N{EN DASH}"
#: A calendar forgets bookings that ended this long ago (they can no longer clash with anything).
FORGET_AFTER = timedelta(days=1)


def slot_key(moment: datetime) -> str:
    """A moment as a slot's start: UTC, to the minute."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(value: str) -> datetime:
    found = parse(value)
    if found is None:
        raise ValueError(f"not a time: {value!r}")
    return found


def overlaps(start_a: datetime, end_a: datetime, start_b: datetime, end_b: datetime) -> bool:
    """Two spans share some time (one ending as the other starts does not count)."""
    return start_a < end_b and start_b < end_a


def offered_slots(offer: InterviewOffer, now: datetime) -> list[InterviewSlot]:
    """The offer's slots in time order, each checked: in the future, at most a year ahead, and none
    overlapping another (with the offer's length). A ``ValidationFailed`` names each bad slot's
    field (``slots.<n>.start``, as sent)."""
    length = timedelta(minutes=offer.duration_minutes)
    latest = now + timedelta(days=MAX_DAYS_AHEAD)
    errors: list[dict[str, str]] = []
    starts: list[tuple[datetime, int]] = []
    for n, slot in enumerate(offer.slots):
        start = slot.start.astimezone(UTC).replace(second=0, microsecond=0)
        field = f"slots.{n}.start"
        if start <= now:
            errors.append({"field": field, "message": "is in the past: offer a time still to come"})
        elif start > latest:
            errors.append({"field": field, "message": f"is more than {MAX_DAYS_AHEAD} days ahead"})
        else:
            starts.append((start, n))  # only times that may be offered are checked for overlaps
    ordered = sorted(starts)
    for (before, _), (after, n) in pairwise(ordered):
        if after < before + length:
            errors.append(
                {
                    "field": f"slots.{n}.start",
                    "message": f"overlaps the slot at {slot_key(before)} (each slot lasts "
                    f"{offer.duration_minutes} minutes)",
                }
            )
    if errors:
        errors.sort(key=lambda e: int(e["field"].split(".")[1]))
        raise ValidationFailed("Some of the slots cannot be offered.", errors=errors)
    return [InterviewSlot(start=slot_key(s), end=slot_key(s + length)) for s, _ in ordered]


@dataclass(frozen=True)
class Busy:
    """Time taken in someone's calendar by a booked interview (ids only: no personal data)."""

    interview_id: str
    candidate_id: str
    start: str
    end: str

    def clashes(self, slot: InterviewSlot) -> bool:
        return overlaps(moment(self.start), moment(self.end), moment(slot.start), moment(slot.end))


def clashes(slot: InterviewSlot, busy: Iterable[Busy], *, own: str) -> list[Busy]:
    """The bookings of other interviews than ``own`` that share time with ``slot``."""
    return [b for b in busy if b.interview_id != own and b.clashes(slot)]


def free(
    slots: Iterable[InterviewSlot], busy: Iterable[Busy], *, own: str, now: datetime
) -> list[InterviewSlot]:
    """The slots still to come that no other interview's booking overlaps."""
    taken = list(busy)
    return [s for s in slots if moment(s.start) > now and not clashes(s, taken, own=own)]


def kept(busy: dict[str, Busy], now: datetime) -> dict[str, Busy]:
    """A calendar's bookings without those long over."""
    return {k: b for k, b in busy.items() if moment(b.end) > now - FORGET_AFTER}


# ------------------------------------------------------------------------------- showing times


def zone_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every zone for a select, grouped by region: ``(region, [(name, label)])``, UTC first."""
    names = sorted(time_zones() - {"UTC"})
    grouped = [
        (region, [(n, n.split("/", 1)[-1].replace("_", " ").replace("/", " / ")) for n in group])
        for region, group in groupby(names, key=lambda n: n.split("/", 1)[0] if "/" in n else "Other")
    ]
    return [("", [("UTC", "UTC")]), *grouped]


def zone_of(name: str | None, fallback: str) -> str:
    """``name`` when it is a zone this runtime knows, else ``fallback``."""
    return name if name and name in time_zones() else fallback


def utc_offset(at: datetime) -> str:
    """``UTC+02:00``, ``UTC-04:00``, ``UTC+05:30``, ``UTC``."""
    offset = at.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def shown(slot: InterviewSlot, zone: str) -> ShownSlot:
    """A slot in ``zone``'s local time: ``Monday 4 May 2026``, ``10:00-11:00`` (an en dash) and the zone's
    abbreviation and offset at that moment (``CEST, UTC+02:00``)."""
    tz = ZoneInfo(zone)
    start, end = moment(slot.start).astimezone(tz), moment(slot.end).astimezone(tz)
    later = "" if end.date() == start.date() else f" ({end:%a} {end.day} {end:%b})"
    name = start.tzname() or ""
    offset = utc_offset(start)
    label = offset if name in ("", offset, "UTC") or name.startswith(("+", "-")) else f"{name}, {offset}"
    return ShownSlot(
        start=slot.start,
        end=slot.end,
        day=f"{start:%A} {start.day} {start:%B %Y}",
        time=f"{start:%H:%M}{DASH}{end:%H:%M}{later}",
        zone=label,
    )


def spoken(slot: InterviewSlot, zone: str) -> str:
    """A slot in one line, for an email or the timeline: ``Monday 4 May 2026, 10:00-11:00
    (Europe/Berlin, CEST, UTC+02:00)`` (an en dash)."""
    s = shown(slot, zone)
    return f"{s.day}, {s.time} ({zone}, {s.zone})" if zone != "UTC" else f"{s.day}, {s.time} (UTC)"
