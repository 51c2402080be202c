"""An audit search's range: no further back than entries are kept, never into the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm.audit.models import AuditSearch


def test_an_audit_search_reads_no_further_back_than_the_retention_and_not_into_the_future() -> None:
    now = datetime(2026, 12, 8, tzinfo=UTC)
    kept = timedelta(days=730)
    ancient = AuditSearch.model_validate({"from": "0488-01-04T00:39:49Z", "to": "2999-01-01T00:00:00Z"})
    start, end = ancient.bounds(now, kept)
    assert start == now - kept - timedelta(days=31) and end == now
    recent = AuditSearch.model_validate({"from": "2026-11-01T00:00:00Z"})
    assert recent.bounds(now, kept) == (datetime(2026, 11, 1, tzinfo=UTC), now)
