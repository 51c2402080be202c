"""The time the product runs on.

In AWS this is the real UTC time. The local stack (``crm dev``) can move its own clock
forward (``POST /dev/clock``) so that due schedules, sequence steps and reminders fire
without waiting: it sets ``CRM_LOCAL_CLOCK_FILE`` to a small JSON file holding the
offset in seconds. That variable is never set by the deployed template, so in AWS the
offset is always 0 and nothing here can change it.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crm.platform.config import LOCAL_CLOCK_FILE_ENV, local_clock_file

CLOCK_FILE_ENV = LOCAL_CLOCK_FILE_ENV

_lock = threading.Lock()


class ClockNotAdjustable(RuntimeError):
    """Only the local stack's clock can be moved."""


def _clock_file() -> Path | None:
    value = local_clock_file()
    return Path(value) if value else None


def offset_seconds() -> float:
    """Seconds the local stack's clock is ahead of real time (0 outside the local stack)."""
    path = _clock_file()
    if path is None:
        return 0.0
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("offset_seconds", 0)
    except (OSError, ValueError, AttributeError):
        return 0.0
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def now() -> datetime:
    """The current time in UTC (timezone-aware), plus the local stack's offset, if any."""
    return datetime.now(UTC) + timedelta(seconds=offset_seconds())


def is_adjustable() -> bool:
    return _clock_file() is not None


def advance(seconds: float) -> float:
    """Move the local stack's clock forward; returns the new offset. Refused outside it."""
    path = _clock_file()
    if path is None:
        raise ClockNotAdjustable("the clock can only be moved in the local stack")
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    with _lock:
        offset = offset_seconds() + seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps({"offset_seconds": offset}), encoding="utf-8")
        os.replace(temporary, path)
    return offset
