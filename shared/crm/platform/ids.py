"""Ids and timestamps: new ids, and the sortable UTC text every stored time uses."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4


def utcnow() -> str:
    """An ISO-8601 UTC timestamp with microseconds; sorts as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return uuid4().hex


def iso(value: datetime) -> str:
    """A datetime as the sortable text every stored timestamp uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
