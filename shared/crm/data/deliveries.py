"""DeliveryLedger: one record per (scope, recipient), the guard that makes every email go out once.

A *scope* names one mailing: a campaign (``campaign#<id>``), one step of a sequence
(``seq#<id>#<step>``), a job's alerts (``alert#<job>``), an alert confirmation
(``confirm#<request>``) or a reminder (``reminder``). Item: ``DELIVERY#<scope>#<recipient>``
/ ``DELIVERY`` (one partition per recipient, so a large campaign spreads its writes).

A record moves ``claimed`` -> ``sent`` | ``skipped`` | ``failed``. A worker *claims* the
recipients of a message in one transaction (a claim is a lease: a worker that dies leaves
claims that expire, and the retried message claims them again), sends, and records each send
at once with one conditional update. The one window in which an email can go out twice is a
crash between SES accepting the message and that update; SES has no idempotency key to close it.

``counted`` marks a final record already added to its campaign's stats (see
``CampaignRepository.count``), so stats add up however often a message is retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from crm.data import table

FINAL_STATES = frozenset({"sent", "skipped", "failed"})
TRANSACTION_LIMIT = 100


def delivery_key(scope: str, recipient: str) -> tuple[str, str]:
    return f"DELIVERY#{scope}#{recipient}", "DELIVERY"


@dataclass(frozen=True)
class Delivery:
    recipient: str
    state: str
    owner: str | None = None
    lease_until: str | None = None
    counted: bool = False
    reason: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def _delivery(recipient: str, item: dict[str, Any]) -> Delivery:
    values = table.from_item(item)
    return Delivery(
        recipient=recipient,
        state=str(values.get("state", "claimed")),
        owner=values.get("owner"),
        lease_until=values.get("lease_until"),
        counted=bool(values.get("counted", False)),
        reason=values.get("reason"),
    )


class DeliveryLedger:
    def __init__(self, scope: str) -> None:
        self.scope = scope

    def read(self, recipients: Iterable[str]) -> dict[str, Delivery]:
        wanted = {delivery_key(self.scope, r): r for r in recipients}
        found = table.batch_get(list(wanted))
        return {wanted[k]: _delivery(wanted[k], item) for k, item in found.items()}

    def claim(self, recipients: list[str], *, owner: str, now: str, lease_until: str) -> set[str]:
        """Claim the recipients nobody has finished or holds an unexpired lease on; returns those claimed."""
        claimed: set[str] = set()
        for start in range(0, len(recipients), TRANSACTION_LIMIT):
            pending = recipients[start : start + TRANSACTION_LIMIT]
            while pending:
                refused = self._claim_chunk(pending, owner=owner, now=now, lease_until=lease_until)
                if refused is None:
                    claimed.update(pending)
                    break
                pending = [r for i, r in enumerate(pending) if i not in refused]
        return claimed

    def _claim_chunk(
        self, recipients: list[str], *, owner: str, now: str, lease_until: str
    ) -> set[int] | None:
        operations = []
        for recipient in recipients:
            pk, sk = delivery_key(self.scope, recipient)
            operations.append(
                {
                    "Put": {
                        "Item": table.to_item(
                            {
                                "pk": pk,
                                "sk": sk,
                                "type": "delivery",
                                "scope": self.scope,
                                "recipient": recipient,
                                "state": "claimed",
                                "owner": owner,
                                "lease_until": lease_until,
                            }
                        ),
                        "ConditionExpression": (
                            "attribute_not_exists(pk) OR (#state = :claimed AND lease_until < :now)"
                        ),
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {":claimed": {"S": "claimed"}, ":now": {"S": now}},
                    }
                }
            )
        try:
            table.transact(operations)
        except ClientError as exc:
            if table.error_code(exc) != "TransactionCanceledException":
                raise
            reasons = table.cancellation_reasons(exc)
            refused = {i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if not refused:
                raise  # a conflicting transaction: the message is retried
            return refused
        return None

    def mark_sent(self, recipient: str, *, owner: str, message_id: str, sent_at: str) -> None:
        """Record a send (the SES message id also finds the record when SES reports on it)."""
        pk, sk = delivery_key(self.scope, recipient)
        try:
            table.ddb().update_item(
                TableName=table.table_name(),
                Key=table.key(pk, sk),
                UpdateExpression=(
                    "SET #state = :sent, sent_at = :at, message_id = :mid, gsi2pk = :g2pk, gsi2sk = :g2sk "
                    "REMOVE lease_until"
                ),
                ConditionExpression="#state = :claimed AND #owner = :owner",
                ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":sent": {"S": "sent"},
                    ":claimed": {"S": "claimed"},
                    ":owner": {"S": owner},
                    ":at": {"S": sent_at},
                    ":mid": {"S": message_id},
                    ":g2pk": {"S": f"SESMSG#{message_id}"},
                    ":g2sk": {"S": "DELIVERY"},
                },
            )
        except ClientError as exc:
            if table.error_code(exc) != "ConditionalCheckFailedException":
                raise
            # Our lease ran out and another worker took the recipient over: it may send again.
            # Nothing can take an accepted email back; the lease is sized to make this rare.
            raise LeaseLost(recipient) from exc

    def mark_final(self, outcomes: dict[str, tuple[str, str]], *, owner: str) -> None:
        """Record recipients that were not mailed: ``recipient -> (state, reason)`` (skipped or failed).

        These are recipients this worker holds the claim of, so a plain batch write is safe."""
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
                        "owner": owner,
                    }
                )
            )
        table.batch_put(items)

    def release(self, recipients: list[str], *, owner: str) -> None:
        """Give up claims (SES asked us to slow down): the retried message can take them at once."""
        for recipient in recipients:
            pk, sk = delivery_key(self.scope, recipient)
            try:
                table.ddb().delete_item(
                    TableName=table.table_name(),
                    Key=table.key(pk, sk),
                    ConditionExpression="#state = :claimed AND #owner = :owner",
                    ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
                    ExpressionAttributeValues={":claimed": {"S": "claimed"}, ":owner": {"S": owner}},
                )
            except ClientError as exc:
                if table.error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def count_operations(self, recipients: list[str]) -> list[dict[str, Any]]:
        """Transaction operations that mark final records as counted (once only)."""
        operations = []
        for recipient in recipients:
            pk, sk = delivery_key(self.scope, recipient)
            operations.append(
                {
                    "Update": {
                        "Key": table.key(pk, sk),
                        "UpdateExpression": "SET counted = :true",
                        "ConditionExpression": "attribute_not_exists(counted) AND #state IN (:s, :k, :f)",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {
                            ":true": {"BOOL": True},
                            ":s": {"S": "sent"},
                            ":k": {"S": "skipped"},
                            ":f": {"S": "failed"},
                        },
                    }
                }
            )
        return operations


class LeaseLost(Exception):
    """Another worker took over a recipient whose lease had run out."""


def find_by_message_id(message_id: str) -> dict[str, Any] | None:
    """The delivery record of an SES message id (SES events name only the message id)."""
    response = table.ddb().query(
        TableName=table.table_name(),
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SESMSG#{message_id}"}},
        Limit=1,
    )
    items = response.get("Items", [])
    return table.from_item(items[0]) if items else None
