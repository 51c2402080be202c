"""How a moment reads on a page: relative words and the full time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.platform import times

NOW = datetime(2026, 12, 2, 10, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-02T10:41:50Z", "just now"),
        ("2026-12-02T10:37:00.000000Z", "5 minutes ago"),
        ("2026-12-02T07:42:00Z", "3 hours ago"),
        ("2026-12-01T10:42:00Z", "1 day ago"),
        ("2026-11-18T10:42:00Z", "2 weeks ago"),
        ("2026-09-02T10:42:00Z", "3 months ago"),
        ("2024-12-02T10:42:00Z", "2 years ago"),
        ("2026-12-04T10:42:00Z", "in 2 days"),
        ("2026-12-02T11:42:00+00:00", "in 1 hour"),
        ("", ""),
        (None, ""),
        ("not a time", ""),
    ],
)
def test_relative(value: str | None, expected: str) -> None:
    assert times.relative(value, NOW) == expected


def test_full_and_day() -> None:
    assert times.full("2026-12-02T10:42:07.123456Z") == "2 Dec 2026, 10:42 UTC"
    assert times.full("2026-12-02T11:42:07+01:00") == "2 Dec 2026, 10:42 UTC"
    assert times.day("2026-03-09T00:00:00Z") == "9 Mar 2026"
    assert times.full(None) == "" and times.day("x") == ""
