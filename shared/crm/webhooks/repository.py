"""The webhooks' items: endpoints, their messages and the delivery log.

* Endpoint: ``WEBHOOK#<id>`` / ``WEBHOOK`` (its secret encrypted, never returned), in gsi1 under
  ``WEBHOOKS`` (newest first).
* Message: ``WHMSG#<endpoint>`` / ``<message id>`` (the signed payload, its state and attempts),
  in gsi1 under ``WHFAILED#<endpoint>`` / ``<created>#<id>`` while a failed message is not yet
  delivered, and in the due-work index (gsi2 ``DUE``) while it waits for its next retry.
* Attempt: ``WHLOG#<endpoint>`` / ``<at>#<message id>#<attempt>`` (the log, read newest first).

Messages and attempts expire (``ttl``) 30 days after they are written.
"""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import NotFound, VersionConflict
from crm.platform.keys import DUE_PARTITION, due_sort_key
from crm.webhooks.models import Attempt, Message, Webhook

ENDPOINTS = "WEBHOOKS"
DUE_KIND = "WEBHOOK"
ENDPOINT_FIELDS = set(Webhook.model_fields)


def _endpoint_key(endpoint_id: str) -> dict[str, Any]:
    return table.key(f"WEBHOOK#{endpoint_id}", "WEBHOOK")


def _message_key(endpoint_id: str, message_id: str) -> dict[str, Any]:
    return table.key(f"WHMSG#{endpoint_id}", message_id)


def due_key(next_retry_at: str, endpoint_id: str, message_id: str) -> str:
    return due_sort_key(next_retry_at, DUE_KIND, endpoint_id, message_id)


class StoredSecrets:
    """An endpoint's encrypted secrets and its owner's address (never leave the slice)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.current: str = str(data.get("secret_enc", ""))
        self.previous: str | None = data.get("previous_secret_enc")
        self.owner_email: str | None = data.get("owner_email")


def _endpoint(data: dict[str, Any]) -> Webhook:
    return Webhook.model_validate({k: v for k, v in data.items() if k in ENDPOINT_FIELDS})


class WebhookRepository:
    # ------------------------------------------------------------------ endpoints

    def insert(self, record: Webhook, *, secret_enc: str, owner_email: str | None) -> None:
        item = record.model_dump()
        item.update(
            pk=f"WEBHOOK#{record.id}",
            sk="WEBHOOK",
            type="webhook",
            gsi1pk=ENDPOINTS,
            gsi1sk=f"{record.created_at}#{record.id}",
            secret_enc=secret_enc,
            owner_email=owner_email,
        )
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")

    def find(self, endpoint_id: str) -> tuple[Webhook, StoredSecrets] | None:
        item = table.get_item(f"WEBHOOK#{endpoint_id}", "WEBHOOK")
        if not item:
            return None
        data = table.from_item(item)
        return _endpoint(data), StoredSecrets(data)

    def get(self, endpoint_id: str) -> Webhook:
        found = self.find(endpoint_id)
        if found is None:
            raise NotFound(f"No webhook endpoint with id {endpoint_id}.")
        return found[0]

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Webhook], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": ENDPOINTS}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [_endpoint(table.from_item(i)) for i in items], next_cursor

    def all(self) -> list[Webhook]:
        items = table.query_all(key_condition="gsi1pk = :pk", values={":pk": {"S": ENDPOINTS}}, index="gsi1")
        return [_endpoint(table.from_item(i)) for i in items]

    def change(
        self, endpoint_id: str, changes: dict[str, Any], *, version: int, remove: tuple[str, ...] = ()
    ) -> Webhook:
        """Set ``changes`` (and remove ``remove``) if the endpoint is still at ``version``."""
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": table.value(value) for i, value in enumerate(changes.values())}
        sets = [f"#c{i} = :c{i}" for i in range(len(changes))] + ["version = version + :one"]
        expression = "SET " + ", ".join(sets)
        if remove:
            names.update({f"#r{i}": name for i, name in enumerate(remove)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        try:
            response = table.update(
                _endpoint_key(endpoint_id),
                expression,
                condition="attribute_exists(pk) AND version = :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":one": {"N": "1"}, ":version": {"N": str(version)}},
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed as exc:
            if self.find(endpoint_id) is None:
                raise NotFound(f"No webhook endpoint with id {endpoint_id}.") from exc
            raise VersionConflict("The endpoint changed meanwhile; read it again.") from exc
        return _endpoint(table.from_item(response["Attributes"]))

    def delete(self, endpoint_id: str) -> None:
        try:
            table.delete(_endpoint_key(endpoint_id), condition="attribute_exists(pk)")
        except table.ConditionFailed as exc:
            raise NotFound(f"No webhook endpoint with id {endpoint_id}.") from exc

    def mark_failing(self, endpoint_id: str, since: str) -> str | None:
        """Note the first failure since the last success; returns when the failing began."""
        try:
            response = table.update(
                _endpoint_key(endpoint_id),
                "SET failing_since = if_not_exists(failing_since, :since)",
                condition="attribute_exists(pk)",
                ExpressionAttributeValues={":since": {"S": since}},
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed:
            return None
        return str(table.from_item(response["Attributes"]).get("failing_since") or since)

    def clear_failing(self, endpoint_id: str) -> None:
        table.write_if(
            "update_item",
            Key=_endpoint_key(endpoint_id),
            UpdateExpression="REMOVE failing_since",
            ConditionExpression="attribute_exists(failing_since)",
        )

    def disable(self, endpoint_id: str, *, reason: str, at: str) -> bool:
        """Disable an enabled endpoint; False when it was not (already disabled, or gone)."""
        return table.write_if(
            "update_item",
            Key=_endpoint_key(endpoint_id),
            UpdateExpression="SET enabled = :no, disabled_reason = :reason, disabled_at = :at, "
            "version = version + :one",
            ConditionExpression="attribute_exists(pk) AND enabled = :yes",
            ExpressionAttributeValues={
                ":no": {"BOOL": False},
                ":yes": {"BOOL": True},
                ":reason": {"S": reason},
                ":at": {"S": at},
                ":one": {"N": "1"},
            },
        )

    # ------------------------------------------------------------------ messages

    def put_message(self, message: Message, *, ttl: int) -> bool:
        """Store a new message; False when one with its id is already there (a replayed event)."""
        item = message.model_dump()
        item.update(pk=f"WHMSG#{message.endpoint_id}", sk=message.id, type="webhook_message", ttl=ttl)
        return table.write_if(
            "put_item", Item=table.to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def get_message(self, endpoint_id: str, message_id: str) -> Message | None:
        item = table.get_item(f"WHMSG#{endpoint_id}", message_id)
        if not item:
            return None
        data = table.from_item(item)
        return Message.model_validate({k: v for k, v in data.items() if k in Message.model_fields})

    def claim(self, endpoint_id: str, message_id: str, *, now: str, lease_until: str) -> bool:
        """Take the message for one attempt (nobody else sends it until ``lease_until``); False
        when it is delivered already or another worker is sending it."""
        return table.write_if(
            "update_item",
            Key=_message_key(endpoint_id, message_id),
            UpdateExpression="SET lease_until = :until",
            ConditionExpression="attribute_exists(pk) AND #state <> :delivered "
            "AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":until": {"S": lease_until},
                ":now": {"S": now},
                ":delivered": {"S": "delivered"},
            },
        )

    def delivered(self, message: Message, *, at: str, status: int, attempts: int) -> None:
        table.update(
            _message_key(message.endpoint_id, message.id),
            "SET #state = :delivered, delivered_at = :at, last_status = :status, attempts = :attempts "
            "REMOVE lease_until, next_retry_at, gsi1pk, gsi1sk, gsi2pk, gsi2sk",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":delivered": {"S": "delivered"},
                ":at": {"S": at},
                ":status": {"N": str(status)},
                ":attempts": {"N": str(attempts)},
            },
        )

    def failed(
        self, message: Message, *, attempts: int, status: int | None, next_retry_at: str | None
    ) -> None:
        """A failed attempt: the message waits for ``next_retry_at`` (in the due-work index), or
        has failed for good (None); either way it is listed among the failed ones."""
        values: dict[str, Any] = {
            ":state": {"S": "retrying" if next_retry_at else "failed"},
            ":attempts": {"N": str(attempts)},
            ":failed": {"S": f"WHFAILED#{message.endpoint_id}"},
            ":failed_sort": {"S": f"{message.created_at}#{message.id}"},
        }
        sets = ["#state = :state", "attempts = :attempts", "gsi1pk = :failed", "gsi1sk = :failed_sort"]
        removes = ["lease_until"]
        if status is not None:
            sets.append("last_status = :status")
            values[":status"] = {"N": str(status)}
        else:
            removes.append("last_status")
        if next_retry_at:
            sets += ["next_retry_at = :next", "gsi2pk = :due", "gsi2sk = :due_sort"]
            values.update(
                {
                    ":next": {"S": next_retry_at},
                    ":due": {"S": DUE_PARTITION},
                    ":due_sort": {"S": due_key(next_retry_at, message.endpoint_id, message.id)},
                }
            )
        else:
            removes += ["next_retry_at", "gsi2pk", "gsi2sk"]
        table.update(
            _message_key(message.endpoint_id, message.id),
            "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes),
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def release(self, message: Message) -> None:
        """Give the lease back without an attempt (the endpoint is disabled or gone)."""
        table.write_if(
            "update_item",
            Key=_message_key(message.endpoint_id, message.id),
            UpdateExpression="REMOVE lease_until, next_retry_at, gsi2pk, gsi2sk",
            ConditionExpression="attribute_exists(pk)",
        )

    def taken_from_due(self, endpoint_id: str, message_id: str, due_sort: str) -> bool:
        """Take a message out of the due-work index (only if it is still due at ``due_sort``)."""
        return table.write_if(
            "update_item",
            Key=_message_key(endpoint_id, message_id),
            UpdateExpression="REMOVE gsi2pk, gsi2sk",
            ConditionExpression="gsi2sk = :sort",
            ExpressionAttributeValues={":sort": {"S": due_sort}},
        )

    def reopen(self, endpoint_id: str, message_id: str) -> bool:
        """Make a message deliverable again (a redelivery); False when there is no such message."""
        return table.write_if(
            "update_item",
            Key=_message_key(endpoint_id, message_id),
            UpdateExpression="SET #state = :pending REMOVE lease_until, next_retry_at, gsi2pk, gsi2sk",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":pending": {"S": "pending"}},
        )

    def failed_since(self, endpoint_id: str, since: str, *, most: int = 1000) -> list[Message]:
        items = table.query_all(
            key_condition="gsi1pk = :pk AND gsi1sk >= :since",
            values={":pk": {"S": f"WHFAILED#{endpoint_id}"}, ":since": {"S": since}},
            index="gsi1",
        )
        found = []
        for item in items:
            data = table.from_item(item)
            found.append(Message.model_validate({k: v for k, v in data.items() if k in Message.model_fields}))
            if len(found) >= most:
                break
        return found

    # ------------------------------------------------------------------ the log

    def add_attempt(self, endpoint_id: str, attempt: Attempt, *, ttl: int) -> None:
        item = attempt.model_dump()
        item.update(
            pk=f"WHLOG#{endpoint_id}",
            sk=f"{attempt.at}#{attempt.message_id}#{attempt.attempt:04d}",
            type="webhook_attempt",
            ttl=ttl,
        )
        table.put(table.to_item(item))

    def attempts_page(
        self, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Attempt], str | None]:
        items, next_cursor = table.query_page(
            key_condition="pk = :pk",
            values={":pk": {"S": f"WHLOG#{endpoint_id}"}},
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        out = []
        for item in items:
            data = table.from_item(item)
            out.append(Attempt.model_validate({k: v for k, v in data.items() if k in Attempt.model_fields}))
        return out, next_cursor
