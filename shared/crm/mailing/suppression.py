"""SuppressionRepository: addresses never mailed again by campaigns, sequences or alerts.

Items: SUPPRESS#<normalised email>/SUPPRESS with the reasons (unsubscribed, bounced,
complained) as a string set, so repeated notifications only add reasons.
"""

from __future__ import annotations

from typing import Literal

from crm.platform import table
from crm.platform.fields import normalise_email
from crm.platform.ids import utcnow

Reason = Literal["unsubscribed", "bounced", "complained"]


class SuppressionRepository:
    def suppress(self, email: str, reason: Reason, *, source: str) -> None:
        table.update(
            table.key(f"SUPPRESS#{normalise_email(email)}", "SUPPRESS"),
            (
                "ADD reasons :reason SET #type = :type, first_at = if_not_exists(first_at, :now), "
                "last_at = :now, last_source = :source"
            ),
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues={
                ":reason": table.string_set([reason]),
                ":type": {"S": "suppression"},
                ":now": {"S": utcnow()},
                ":source": {"S": source},
            },
        )

    def reasons(self, email: str) -> list[str]:
        item = table.get_item(f"SUPPRESS#{normalise_email(email)}", "SUPPRESS", consistent=False)
        return sorted(item["reasons"]["SS"]) if item and "reasons" in item else []

    def is_suppressed(self, email: str) -> bool:
        return bool(self.reasons(email))
