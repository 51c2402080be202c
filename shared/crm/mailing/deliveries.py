"""The delivery ledger as other slices use it: the delivery an SES event names, and marking that
event on it once, in one transaction with whatever the caller counts (decision 17)."""

from __future__ import annotations

from typing import Any

from crm.mailing.repository import Delivery as Delivery
from crm.mailing.repository import DeliveryLedger
from crm.mailing.repository import SentMail as SentMail


class Deliveries:
    def __init__(self, ledger: DeliveryLedger | None = None) -> None:
        self.ledger = ledger or DeliveryLedger()

    def read(self, scope: str, recipients: list[str]) -> dict[str, Delivery]:
        """The delivery records of some recipients of one mailing (with the SES events marked)."""
        return self.ledger.read(scope, recipients)

    def sent_to(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[SentMail], str | None]:
        """A person's emails, newest first (their email history on the profile)."""
        return self.ledger.sent_to(candidate_id, limit=limit, cursor=cursor)

    def find_by_message_id(self, message_id: str) -> Delivery | None:
        return self.ledger.find_by_message_id(message_id)

    def mark_event(self, delivery: Delivery, event: str, *, along_with: list[dict[str, Any]]) -> bool:
        """True the first time ``event`` is marked on ``delivery`` (and ``along_with`` written with it)."""
        return self.ledger.mark_event(delivery.scope, delivery.recipient, event, along_with=along_with)
