"""ReplyRepository. Items:

* ``CAND#<candidate>/INREPLY#<reply id>`` - one per reply (erased with the person); the reply id is
  the digest of the message's Message-ID, so a redelivered message finds its reply already there
  (the put's condition) and stores nothing twice. The profile lists them (a person gets few).
* ``INBOUND#QUARANTINE/<day>`` - how many inbound messages were quarantined that day, by reason
  (counters only: no personal data).
"""

from __future__ import annotations

from typing import Any

from crm.inbound.models import Reply
from crm.platform import table
from crm.platform.keys import person_partition

PREFIX = "INREPLY#"
QUARANTINE_PK = "INBOUND#QUARANTINE"


class ReplyRepository:
    def put_operation(self, reply: Reply, *, attachment_keys: list[str]) -> dict[str, Any]:
        """The write of a new reply, for the candidates slice's transaction with its timeline entry;
        it fails (and with it the transaction) when the reply is already stored."""
        item = reply.model_dump()
        for attachment, key in zip(item["attachments"], attachment_keys, strict=True):
            attachment["key"] = key
        item.update(pk=person_partition(reply.candidate_id), sk=f"{PREFIX}{reply.id}", type="reply")
        return {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def get(self, candidate_id: str, reply_id: str) -> Reply | None:
        item = table.get_item(person_partition(candidate_id), f"{PREFIX}{reply_id}")
        return Reply.model_validate(table.from_item(item)) if item else None

    def attachment_key(self, candidate_id: str, reply_id: str, index: int) -> str | None:
        item = table.get_item(person_partition(candidate_id), f"{PREFIX}{reply_id}")
        if not item:
            return None
        for attachment in table.from_item(item).get("attachments") or []:
            if attachment.get("index") == index and attachment.get("key"):
                return str(attachment["key"])
        return None

    def of_candidate(self, candidate_id: str) -> list[Reply]:
        """Every reply from the person, newest first."""
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": PREFIX}},
        )
        replies = [Reply.model_validate(table.from_item(i)) for i in items]
        return sorted(replies, key=lambda r: (r.received_at, r.id), reverse=True)

    def count_quarantined(self, reason: str, *, day: str) -> None:
        table.update(
            table.key(QUARANTINE_PK, day),
            "ADD #reason :one, #total :one SET #type = :type",
            ExpressionAttributeNames={"#reason": reason, "#total": "total", "#type": "type"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":type": {"S": "inbound_quarantine"}},
        )

    def quarantined(self, day: str) -> dict[str, int]:
        item = table.get_item(QUARANTINE_PK, day)
        if not item:
            return {}
        counts = table.from_item(item)
        return {k: int(v) for k, v in counts.items() if k not in ("pk", "sk", "type")}
