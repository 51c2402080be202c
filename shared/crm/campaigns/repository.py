"""CampaignRepository. Items: CAMPAIGN#<id>/CAMPAIGN, in gsi1 under CAMPAIGNS (newest first).

The campaign item carries its status, its dispatch progress (``crm.dispatch.repository``, with the
``stat_recipients`` counter) and the SES engagement counters (``stat_delivered`` ...), each moved
in a transaction that also marks the delivery record, so a repeated SES event never counts twice.
Sent, suppressed and failed come from one *tally* item per mail message
(``CAMPAIGN#<id>/TALLY#<digest>``), rewritten whole by every attempt at that message, so retries
never count twice either; reading a campaign sums its tallies (one Query).
"""

from __future__ import annotations

from typing import Any

from crm.campaigns.models import Campaign, CampaignCreate, CampaignStats
from crm.dispatch.repository import DispatchProgress
from crm.mailing.repository import delivery_key, message_digest
from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import iso, new_id, utcnow

STAT_NAMES = tuple(CampaignStats.model_fields)
ENGAGEMENT_EVENTS = ("delivered", "bounced", "complained", "opened", "clicked")


def campaign_key(campaign_id: str) -> tuple[str, str]:
    return f"CAMPAIGN#{campaign_id}", "CAMPAIGN"


def scope(campaign_id: str) -> str:
    return f"campaign#{campaign_id}"


def _tallies(campaign_id: str) -> dict[str, int]:
    """Sent, suppressed and failed: the sum of the campaign's per-message tallies."""
    totals = {"sent": 0, "suppressed": 0, "failed": 0}
    for item in table.query_all(
        key_condition="pk = :pk AND begins_with(sk, :tally)",
        values={":pk": {"S": campaign_key(campaign_id)[0]}, ":tally": {"S": "TALLY#"}},
    ):
        for name in totals:
            totals[name] += int(item.get(name, {}).get("N", 0))
    return totals


def _campaign(item: dict[str, Any]) -> Campaign:
    values = table.from_item(item)
    counters = {name: int(values.get(f"stat_{name}", 0)) for name in STAT_NAMES}
    if values.get("launched_at"):
        counters.update(_tallies(values["id"]))
    stats = CampaignStats(**counters)
    status = values["status"]
    finished = stats.sent + stats.suppressed + stats.failed >= stats.recipients
    if status == "sending" and values.get("dispatched_at") and finished:
        status = "sent"
    return Campaign(
        id=values["id"],
        name=values["name"],
        template_id=values["template_id"],
        audience=values.get("audience") or {},
        send_at=values.get("send_at"),
        status=status,
        stats=stats,
        launched_at=values.get("launched_at"),
        dispatched_at=values.get("dispatched_at"),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


class CampaignRepository:
    def create(self, data: CampaignCreate) -> Campaign:
        now = utcnow()
        campaign_id = new_id()
        pk, sk = campaign_key(campaign_id)
        item = {
            "pk": pk,
            "sk": sk,
            "type": "campaign",
            "gsi1pk": "CAMPAIGNS",
            "gsi1sk": f"{now}#{campaign_id}",
            "id": campaign_id,
            "name": data.name,
            "template_id": data.template_id,
            "audience": data.audience.model_dump(exclude_none=True),
            "send_at": iso(data.send_at) if data.send_at else None,
            "status": "draft",
            "created_at": now,
            "updated_at": now,
        }
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return self.get(campaign_id)

    def get(self, campaign_id: str) -> Campaign:
        item = table.get_item(*campaign_key(campaign_id))
        if not item:
            raise NotFound(f"No campaign with id {campaign_id}.")
        return _campaign(item)

    def template_id(self, campaign_id: str) -> str:
        """What a mail worker needs of the campaign: one GetItem, no stats."""
        item = table.get_item(*campaign_key(campaign_id), consistent=False)
        if not item:
            raise NotFound(f"No campaign with id {campaign_id}.")
        return str(item["template_id"]["S"])

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "CAMPAIGNS"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [_campaign(i) for i in items], next_cursor

    def launch(self, campaign_id: str, *, status: str, now: str) -> tuple[Campaign, bool]:
        """Move a draft to ``scheduled`` or ``sending``. Returns (campaign, whether this call launched it);
        launching again changes nothing."""
        pk, sk = campaign_key(campaign_id)
        try:
            table.update(
                table.key(pk, sk),
                "SET #status = :status, launched_at = :now, updated_at = :now",
                condition="attribute_exists(pk) AND #status = :draft",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":draft": {"S": "draft"},
                    ":now": {"S": now},
                },
            )
        except table.ConditionFailed:
            return self.get(campaign_id), False
        return self.get(campaign_id), True

    def set_send_at(self, campaign_id: str, send_at: str | None, *, now: str) -> bool:
        """Set (or, with ``None``, clear) a draft's send time; False when it is no longer a draft."""
        pk, sk = campaign_key(campaign_id)
        values: dict[str, Any] = {":draft": {"S": "draft"}, ":now": {"S": now}}
        if send_at is None:
            update = "REMOVE send_at SET updated_at = :now"
        else:
            update = "SET send_at = :at, updated_at = :now"
            values[":at"] = {"S": send_at}
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(pk) AND #status = :draft",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def start_sending(self, campaign_id: str, *, now: str) -> None:
        """A scheduled campaign's time has come (idempotent)."""
        pk, sk = campaign_key(campaign_id)
        table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression="SET #status = :sending, updated_at = :now",
            ConditionExpression="#status = :scheduled",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sending": {"S": "sending"},
                ":scheduled": {"S": "scheduled"},
                ":now": {"S": now},
            },
        )

    def progress(self, campaign_id: str) -> DispatchProgress:
        return DispatchProgress(*campaign_key(campaign_id))

    def tally(self, campaign_id: str, recipients: list[str], states: dict[str, str]) -> None:
        """The final states of one mail message's recipients, as one tally item (a rewrite of the
        same message's tally is harmless: final states never change)."""
        totals = {"sent": 0, "suppressed": 0, "failed": 0}
        for state in states.values():
            totals["suppressed" if state == "skipped" else state] += 1
        pk, _ = campaign_key(campaign_id)
        item = {"pk": pk, "sk": f"TALLY#{message_digest(recipients)}", "type": "campaign_tally", **totals}
        table.put(table.to_item(item))

    def record_event(self, campaign_id: str, recipient: str, event: str) -> bool:
        """Count one SES engagement event (delivered, opened, ...) once per recipient."""
        pk, sk = delivery_key(scope(campaign_id), recipient)
        operations = [
            {
                "Update": {
                    "Key": table.key(pk, sk),
                    "UpdateExpression": "ADD events :event",
                    "ConditionExpression": "attribute_exists(pk) AND NOT contains(events, :name)",
                    "ExpressionAttributeValues": {
                        ":event": table.string_set([event]),
                        ":name": {"S": event},
                    },
                }
            },
            {
                "Update": {
                    "Key": table.key(*campaign_key(campaign_id)),
                    "UpdateExpression": f"ADD stat_{event} :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as cancelled:
            if cancelled.only_first_failed:
                return False
            raise
        return True
