"""How the product shows a moment to a person: "3 hours ago", and the full time for a hover.

Pure functions of an ISO-8601 UTC timestamp (as the table stores them) and the current time, so
pages, emails and the portal say the same thing; the UI's small script rewrites the full time in
the reader's own time zone (the page works without it).
"""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def parse(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime (None when absent or not a time)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(value: str | None, now: datetime) -> str:
    """ "just now", "5 minutes ago", "in 2 days", "3 months ago"; "" for no time."""
    moment = parse(value)
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now" if not future else "in a moment"
    for size, unit in _UNITS:
        if seconds >= size * 0.95:
            count = max(1, round(seconds / size))
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {words}" if future else f"{words} ago"
    return "in 1 minute" if future else "1 minute ago"


def full(value: str | None) -> str:
    """ "2 Dec 2026, 10:42 UTC"; "" for no time."""
    moment = parse(value)
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def day(value: str | None) -> str:
    """ "2 Dec 2026"; "" for no time."""
    moment = parse(value)
    return f"{moment.day} {moment:%b %Y}" if moment else ""
