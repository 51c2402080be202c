"""The mail engine's items: the delivery ledger, the message locks and the suppression list.

A *scope* names one mailing: a campaign (``campaign#<id>``), one step of a sequence
(``seq#<id>#<step>``), a job's alerts (``alert#<job>``), an alert confirmation
(``confirm#<request>``), a portal link (``portal#<request>``) or a reminder (``reminder``). The
engine never reads what a scope means: the slice that built the plan does.

* A **delivery record** per recipient, ``DELIVERY#<scope>#<recipient>`` / ``DELIVERY``, written
  once the recipient is final: ``sent`` (with the SES message id, in gsi2 under
  ``SESMSG#<message id>``, which finds the record when SES reports on it), ``skipped`` (no consent,
  suppressed, erased, ...) or ``failed``. One partition per recipient, so a large campaign spreads
  its writes. SES events (delivered, opened, ...) are marked on it (``events``, a string set), each
  once, in the same transaction as whatever counts them. A record sent to a person (a plan whose
  recipients are candidate ids) is also in gsi1 under ``MAILTO#<candidate id>`` by the time it
  was sent, so a person's every email is one Query, newest first (the profile's email history).
* A **message lock** per mail-queue message, ``MAILLOCK#<scope>#<digest of its recipients>`` /
  ``LOCK``: a lease that keeps two deliveries of the same message (SQS delivers at least once,
  sometimes twice at the same time) from working on it together. A worker that dies leaves a lock
  that expires before SQS redelivers the message (the lease is shorter than the visibility
  timeout), and the redelivery skips every recipient already recorded.
* A **suppression** per address, ``SUPPRESS#<normalised email>`` / ``SUPPRESS``, with the reasons
  (unsubscribed, bounced, complained) as a string set, so repeated notifications only add reasons.

A worker holding the lock reads the records, sends to the recipients not yet final and records
each send at once (one conditional write). The one window in which an email can go out twice
is a crash between SES accepting it and that write: SES has no idempotency key to close it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from crm.mailing.messages import message_digest
from crm.platform import table
from crm.platform.fields import normalise_email
from crm.platform.ids import utcnow

FINAL_STATES = frozenset({"sent", "skipped", "failed"})

Reason = Literal["unsubscribed", "bounced", "complained"]


def _delivery_key(scope: str, recipient: str) -> tuple[str, str]:
    return f"DELIVERY#{scope}#{recipient}", "DELIVERY"


def _suppression_key(email: str) -> tuple[str, str]:
    return f"SUPPRESS#{normalise_email(email)}", "SUPPRESS"


@dataclass(frozen=True)
class Delivery:
    recipient: str
    state: str
    reason: str | None = None
    scope: str = ""
    #: SES events marked on it so far (delivered, opened, clicked, bounced, complained).
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentMail:
    """One email sent to a person: its mailing, when, and what SES said of it since."""

    scope: str
    sent_at: str
    events: tuple[str, ...] = ()


class DuplicateSend(Exception):
    """Another worker recorded this recipient first: the email went out twice."""


class DeliveryLedger:
    """One record per recipient and mailing."""

    def read(self, scope: str, recipients: Iterable[str]) -> dict[str, Delivery]:
        wanted = {_delivery_key(scope, r): r for r in recipients}
        found = table.batch_get(list(wanted))
        out = {}
        for key_, item in found.items():
            values = table.from_item(item)
            events = tuple(sorted(str(e) for e in values.get("events") or ()))
            out[wanted[key_]] = Delivery(
                wanted[key_], str(values.get("state")), values.get("reason"), scope, events=events
            )
        return out

    def record_sent(
        self, scope: str, recipient: str, *, message_id: str, sent_at: str, person: bool = False
    ) -> None:
        """``recipient`` was sent ``message_id``; ``person``: they are a candidate (by id), whose
        email history lists it."""
        pk, sk = _delivery_key(scope, recipient)
        item = {
            "pk": pk,
            "sk": sk,
            "type": "delivery",
            "scope": scope,
            "recipient": recipient,
            "state": "sent",
            "sent_at": sent_at,
            "message_id": message_id,
            "gsi2pk": f"SESMSG#{message_id}",
            "gsi2sk": "DELIVERY",
        }
        if person:
            item.update(gsi1pk=f"MAILTO#{recipient}", gsi1sk=f"{sent_at}#{scope}")
        try:
            table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        except table.ConditionFailed as exc:
            raise DuplicateSend(recipient) from exc

    def record_final(self, scope: str, outcomes: dict[str, tuple[str, str]]) -> None:
        """Recipients that were not mailed: ``recipient -> (skipped | failed, reason)``."""
        items = []
        for recipient, (state, reason) in outcomes.items():
            pk, sk = _delivery_key(scope, recipient)
            items.append(
                table.to_item(
                    {
                        "pk": pk,
                        "sk": sk,
                        "type": "delivery",
                        "scope": scope,
                        "recipient": recipient,
                        "state": state,
                        "reason": reason,
                    }
                )
            )
        table.batch_put(items)

    def sent_to(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[SentMail], str | None]:
        """The emails sent to a person, newest first (one Query a page)."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": f"MAILTO#{candidate_id}"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        found = []
        for item in items:
            values = table.from_item(item)
            events = tuple(sorted(str(e) for e in values.get("events") or ()))
            found.append(SentMail(str(values["scope"]), str(values.get("sent_at", "")), events))
        return found, next_cursor

    def find_by_message_id(self, message_id: str) -> Delivery | None:
        """The delivery an SES message id names (SES events name only the message id)."""
        response = table.query(
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SESMSG#{message_id}"}},
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            return None
        values = table.from_item(items[0])
        return Delivery(
            recipient=str(values.get("recipient", "")),
            state=str(values.get("state", "")),
            reason=values.get("reason"),
            scope=str(values.get("scope", "")),
        )

    def mark_event(self, scope: str, recipient: str, event: str, *, along_with: list[dict[str, Any]]) -> bool:
        """Mark an SES event on a delivery record once, in one transaction with ``along_with``
        (the operations that count it); False, and nothing written, when it was marked already or
        the record does not exist."""
        pk, sk = _delivery_key(scope, recipient)
        mark = {
            "Update": {
                "Key": table.key(pk, sk),
                "UpdateExpression": "ADD events :event",
                "ConditionExpression": "attribute_exists(pk) AND NOT contains(events, :name)",
                "ExpressionAttributeValues": {
                    ":event": table.string_set([event]),
                    ":name": {"S": event},
                },
            }
        }
        try:
            table.transact([mark, *along_with])
        except table.TransactionCancelled as cancelled:
            if cancelled.only_first_failed:
                return False
            raise
        return True


class MessageLocks:
    """A lease per mail-queue message (its scope and recipients)."""

    @staticmethod
    def _key(scope: str, recipients: list[str]) -> tuple[str, str]:
        return f"MAILLOCK#{scope}#{message_digest(recipients)}", "LOCK"

    def acquire(self, scope: str, recipients: list[str], *, owner: str, now: str, lease_until: str) -> bool:
        pk, sk = self._key(scope, recipients)
        item = {"pk": pk, "sk": sk, "type": "mail_lock", "owner": owner, "lease_until": lease_until}
        return table.write_if(
            "put_item",
            Item=table.to_item(item),
            ConditionExpression="attribute_not_exists(pk) OR lease_until < :now",
            ExpressionAttributeValues={":now": {"S": now}},
        )

    def release(self, scope: str, recipients: list[str], *, owner: str) -> None:
        table.write_if(
            "delete_item",
            Key=table.key(*self._key(scope, recipients)),
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
        )


class SuppressionRepository:
    """Addresses never mailed again by campaigns, sequences or alerts."""

    def suppress(self, email: str, reason: Reason, *, source: str) -> None:
        table.update(
            table.key(*_suppression_key(email)),
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
        item = table.get_item(*_suppression_key(email), consistent=False)
        return sorted(item["reasons"]["SS"]) if item and "reasons" in item else []

    def suppressed_among(self, emails: Iterable[str]) -> set[str]:
        """The normalised addresses of ``emails`` that are suppressed (100 a request)."""
        found = table.batch_get([_suppression_key(e) for e in emails], consistent=False)
        return {pk.removeprefix("SUPPRESS#") for pk, _ in found}
