"""The suppression list as other slices use it: addresses never mailed again by campaigns,
sequences or alerts (unsubscribed from everything, bounced, complained). The mail engine checks it
before every send; the unsubscribe page and SES feedback add to it."""

from __future__ import annotations

from collections.abc import Iterable

from crm.mailing.repository import Reason as Reason
from crm.mailing.repository import SuppressionRepository as _Store


class SuppressionList:
    """Suppress an address (idempotent: a reason is added to a set) and ask about addresses."""

    def __init__(self, repository: _Store | None = None) -> None:
        self.repository = repository or _Store()

    def suppress(self, email: str, reason: Reason, *, source: str) -> None:
        self.repository.suppress(email, reason, source=source)

    def reasons(self, email: str) -> list[str]:
        return self.repository.reasons(email)

    def is_suppressed(self, email: str) -> bool:
        return bool(self.reasons(email))

    def suppressed_among(self, emails: Iterable[str]) -> set[str]:
        """The normalised addresses of ``emails`` that are suppressed."""
        return self.repository.suppressed_among(emails)


#: The name this class had before the re-cut (``crm.portal.unsubscribe`` and two tests use it).
SuppressionRepository = SuppressionList
