"""AlertSubscriptionRepository: a candidate's job-alert subscription, double opt-in.

Item: CAND#<candidate>/ALERTSUB (erased with the candidate). A request from the career site
sets ``pending`` (tags, location and a fresh ``request_id``); the stream function sees the new
request and queues the confirmation email. Following the signed link makes the pending
criteria the subscription's own and puts the item in gsi1 under ALERTSUBS, which the job-alert
dispatcher pages when a job opens. Until then nothing is sent, and criteria confirmed earlier
stay as they were.
"""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.keys import person_partition

SUBSCRIBERS_PARTITION = "ALERTSUBS"


def subscription_key(candidate_id: str) -> tuple[str, str]:
    return person_partition(candidate_id), "ALERTSUB"


def request_operation(
    candidate_id: str, *, tags: list[str], location: str | None, request_id: str, now: str
) -> dict[str, Any]:
    """A transaction operation recording a subscription request (part of the intake transaction)."""
    pending = {"tags": tags, "location": location, "request_id": request_id, "requested_at": now}
    return {
        "Update": {
            "Key": table.key(*subscription_key(candidate_id)),
            "UpdateExpression": (
                "SET pending = :pending, #type = :type, candidate_id = :cid, "
                "#state = if_not_exists(#state, :new), updated_at = :now"
            ),
            "ExpressionAttributeNames": {"#type": "type", "#state": "state"},
            "ExpressionAttributeValues": {
                ":pending": table.encode({k: v for k, v in pending.items() if v is not None}),
                ":type": {"S": "alert_subscription"},
                ":cid": {"S": candidate_id},
                ":new": {"S": "pending"},
                ":now": {"S": now},
            },
        }
    }


class AlertSubscriptionRepository:
    def get(self, candidate_id: str) -> dict[str, Any] | None:
        item = table.get_item(*subscription_key(candidate_id))
        return table.from_item(item) if item else None

    def confirm(self, candidate_id: str, request_id: str, *, now: str) -> dict[str, Any]:
        """Make the pending request the subscription (following the link twice is fine)."""
        current = self.get(candidate_id)
        if current is None:
            raise NotFound("This subscription no longer exists.")
        pending = current.get("pending") or {}
        if pending.get("request_id") != request_id:
            if current.get("confirmed_request_id") == request_id:
                return current
            raise NotFound("This confirmation link has been replaced by a newer one.")
        values = {
            ":tags": table.encode(pending.get("tags") or []),
            ":location": table.encode(pending.get("location")),
            ":confirmed": {"S": "confirmed"},
            ":rid": {"S": request_id},
            ":now": {"S": now},
            ":g1pk": {"S": SUBSCRIBERS_PARTITION},
            ":g1sk": {"S": candidate_id},
        }
        table.write_if(
            "update_item",
            Key=table.key(*subscription_key(candidate_id)),
            UpdateExpression=(
                "SET tags = :tags, #location = :location, #state = :confirmed, confirmed_at = :now, "
                "confirmed_request_id = :rid, gsi1pk = :g1pk, gsi1sk = :g1sk REMOVE pending"
            ),
            ConditionExpression="pending.request_id = :rid",
            ExpressionAttributeNames={"#state": "state", "#location": "location"},
            ExpressionAttributeValues=values,
        )
        return self.get(candidate_id) or {}

    def subscribers_page(
        self, cursor: str | None, *, limit: int = 500
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Confirmed subscriptions (candidate id, tags, location), one Query page."""
        params: dict[str, Any] = {
            "TableName": table.table_name(),
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": SUBSCRIBERS_PARTITION}},
            "ProjectionExpression": "candidate_id, tags, #location",
            "ExpressionAttributeNames": {"#location": "location"},
            "Limit": limit,
        }
        start = table.decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"})
        if start:
            params["ExclusiveStartKey"] = start
        response = table.query(**params)
        return [table.from_item(i) for i in response.get("Items", [])], table.encode_cursor(
            response.get("LastEvaluatedKey")
        )
