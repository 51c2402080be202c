"""The audit log: record what happened, search it, export it.

Recorded: every read of a candidate's profile, exports, erasures, merges and unmerges, role changes,
API-key and webhook changes, custom-field changes, imports. An entry carries ids, never names or
addresses: a person's entries survive their erasure and say nothing about them but their id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from crm.audit.models import AuditEntry, AuditSearch
from crm.audit.repository import AuditRepository
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.ids import iso, new_id
from crm.platform.spreadsheet import csv_lines

log = logging.getLogger("crm.audit")

EXPORT_HEADER = ("at", "actor", "action", "subject", "person_id", "source_ip", "user_agent", "details")
#: The most entries one export holds (narrow the range for more).
MAX_EXPORT_ROWS = 100_000


class AuditLog:
    def __init__(self, repository: AuditRepository | None = None) -> None:
        self.repository = repository or AuditRepository()

    def record(
        self,
        action: str,
        *,
        actor: str,
        subject: str,
        person_id: str | None = None,
        source_ip: str | None = None,
        user_agent: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry. ``details`` holds ids and counts only."""
        now = clock.now()
        entry = AuditEntry(
            id=new_id(),
            at=iso(now),
            actor=actor,
            action=action,
            subject=subject,
            person_id=person_id,
            source_ip=(source_ip or None) and source_ip[:64],
            user_agent=(user_agent or None) and user_agent[:300],
            details=details or {},
        )
        retention = timedelta(days=get_settings().audit_retention_days)
        self.repository.insert(entry, ttl=int((now + retention).timestamp()))
        log.info("audited", extra={"action": action, "subject": subject})
        return entry

    def search(self, query: AuditSearch) -> tuple[list[AuditEntry], str | None]:
        start, end = query.bounds(clock.now(), timedelta(days=get_settings().audit_retention_days))
        return self.repository.search(
            start=start,
            end=end,
            person=query.person,
            actor=query.actor,
            action=query.action,
            limit=query.limit,
            cursor=query.cursor,
        )

    def entries(self, query: AuditSearch, *, most: int = MAX_EXPORT_ROWS) -> Iterator[AuditEntry]:
        """Every entry the search finds, page by page (at most ``most``)."""
        page = query.model_copy(update={"limit": 200, "cursor": None})
        count = 0
        while True:
            items, cursor = self.search(page)
            for entry in items:
                yield entry
                count += 1
                if count >= most:
                    return
            if not cursor:
                return
            page = page.model_copy(update={"cursor": cursor})

    def export_csv(self, query: AuditSearch) -> Iterator[str]:
        rows = (
            (e.at, e.actor, e.action, e.subject, e.person_id, e.source_ip, e.user_agent, _details(e.details))
            for e in self.entries(query)
        )
        return csv_lines(EXPORT_HEADER, rows)


def _details(details: dict[str, Any]) -> str:
    return "; ".join(f"{k}={v}" for k, v in sorted(details.items()))
