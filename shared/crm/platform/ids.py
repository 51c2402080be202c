"""Ids and timestamps: new ids, and the sortable UTC text every stored time uses."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from crm.platform import clock


def utcnow() -> str:
    """The product's time (``crm.platform.clock``: real UTC in AWS, the local stack's clock in
    ``crm dev``) as an ISO-8601 timestamp with microseconds; sorts as text. Records made after
    the local clock moved carry the moved time, as the sends they go with do."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return uuid4().hex


def iso(value: datetime) -> str:
    """A datetime as the sortable text every stored timestamp uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
