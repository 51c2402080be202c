"""The delivery ledger: what makes every email go out once per recipient and mailing.

A *scope* names one mailing: a campaign (``campaign#<id>``), one step of a sequence
(``seq#<id>#<step>``), a job's alerts (``alert#<job>``), an alert confirmation
(``confirm#<request>``) or a reminder (``reminder``).

* A **delivery record** per recipient, ``DELIVERY#<scope>#<recipient>`` / ``DELIVERY``, written
  once the recipient is final: ``sent`` (with the SES message id, which also finds the record
  when SES reports on it), ``skipped`` (no consent, suppressed, erased, ...) or ``failed``.
  One partition per recipient, so a large campaign spreads its writes.
* A **message lock** per mail-queue message, ``MAILLOCK#<scope>#<digest of its recipients>``:
  a lease that keeps two deliveries of the same message (SQS delivers at least once, sometimes
  twice at the same time) from working on it together. A worker that dies leaves a lock that
  expires before SQS redelivers the message (the lease is shorter than the visibility timeout),
  and the redelivery skips every recipient already recorded.

A worker holding the lock reads the records, sends to the recipients not yet final and records
each send at once (one conditional write). The one window in which an email can go out twice
is a crash between SES accepting it and that write: SES has no idempotency key to close it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm.platform import table

FINAL_STATES = frozenset({"sent", "skipped", "failed"})


def delivery_key(scope: str, recipient: str) -> tuple[str, str]:
    return f"DELIVERY#{scope}#{recipient}", "DELIVERY"


def message_digest(recipients: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(recipients)).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Delivery:
    recipient: str
    state: str
    reason: str | None = None


class DuplicateSend(Exception):
    """Another worker recorded this recipient first: the email went out twice."""


class DeliveryLedger:
    def __init__(self, scope: str) -> None:
        self.scope = scope

    def read(self, recipients: Iterable[str]) -> dict[str, Delivery]:
        wanted = {delivery_key(self.scope, r): r for r in recipients}
        found = table.batch_get(list(wanted))
        out = {}
        for key_, item in found.items():
            values = table.from_item(item)
            out[wanted[key_]] = Delivery(wanted[key_], str(values.get("state")), values.get("reason"))
        return out

    def record_sent(self, recipient: str, *, message_id: str, sent_at: str) -> None:
        pk, sk = delivery_key(self.scope, recipient)
        item = {
            "pk": pk,
            "sk": sk,
            "type": "delivery",
            "scope": self.scope,
            "recipient": recipient,
            "state": "sent",
            "sent_at": sent_at,
            "message_id": message_id,
            "gsi2pk": f"SESMSG#{message_id}",
            "gsi2sk": "DELIVERY",
        }
        try:
            table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        except table.ConditionFailed as exc:
            raise DuplicateSend(recipient) from exc

    def record_final(self, outcomes: dict[str, tuple[str, str]]) -> None:
        """Recipients that were not mailed: ``recipient -> (skipped | failed, reason)``."""
        items = []
        for recipient, (state, reason) in outcomes.items():
            pk, sk = delivery_key(self.scope, recipient)
            items.append(
                table.to_item(
                    {
                        "pk": pk,
                        "sk": sk,
                        "type": "delivery",
                        "scope": self.scope,
                        "recipient": recipient,
                        "state": state,
                        "reason": reason,
                    }
                )
            )
        table.batch_put(items)


class MessageLock:
    """A lease on one mail-queue message (its scope and recipients)."""

    def __init__(self, scope: str, recipients: list[str]) -> None:
        self.key = (f"MAILLOCK#{scope}#{message_digest(recipients)}", "LOCK")

    def acquire(self, *, owner: str, now: str, lease_until: str) -> bool:
        item = {"pk": self.key[0], "sk": self.key[1], "type": "mail_lock", "owner": owner}
        item["lease_until"] = lease_until
        return table.write_if(
            "put_item",
            Item=table.to_item(item),
            ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
            ExpressionAttributeValues={":now": {"S": now}},
        )

    def release(self, *, owner: str) -> None:
        table.write_if(
            "delete_item",
            Key=table.key(*self.key),
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )


def find_by_message_id(message_id: str) -> dict[str, Any] | None:
    """The delivery record of an SES message id (SES events name only the message id)."""
    response = table.query(
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SESMSG#{message_id}"}},
        Limit=1,
    )
    items = response.get("Items", [])
    return table.from_item(items[0]) if items else None
