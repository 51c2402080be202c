"""CampaignRepository. Items: CAMPAIGN#<id>/CAMPAIGN, in gsi1 under CAMPAIGNS (newest first), and
one *tally* per mail message, CAMPAIGN#<id>/TALLY#<digest of its recipients>.

The campaign item carries its status, its dispatch progress (``crm.dispatch``, with the
``stat_recipients`` counter), the SES engagement counters (``stat_delivered`` ...) and, once the
campaign is sent, its sent, suppressed and failed totals (``stat_sent`` ...), rolled up from the
tallies. A tally is rewritten whole by every attempt at its message, so retries never count twice;
an engagement counter moves in a transaction that also marks the event on the delivery record
(``crm.mailing.deliveries``), so a repeated SES event never counts twice either.

The audience is read from the candidate list projections (``crm.candidates.projections`` builds
the key condition: the most selective dimension is the key, the other conditions filter), ids
only, so a page of 500 is a few kilobytes. Never a Scan.
"""

from __future__ import annotations

from typing import Any

from crm.campaigns.models import Campaign, CampaignCreate, CampaignStats
from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import iso, new_id, utcnow

STAT_NAMES = tuple(CampaignStats.model_fields)
#: What a campaign's tallies add up: the final states of its recipients.
TALLIED = ("sent", "suppressed", "failed")
Totals = dict[str, int]


def campaign_key(campaign_id: str) -> tuple[str, str]:
    return f"CAMPAIGN#{campaign_id}", "CAMPAIGN"


def _campaign(item: dict[str, Any]) -> Campaign:
    """The campaign as its item holds it (status as stored, stats from its counters)."""
    values = table.from_item(item)
    stats = CampaignStats(**{name: int(values.get(f"stat_{name}", 0)) for name in STAT_NAMES})
    return Campaign(
        id=values["id"],
        name=values["name"],
        template_id=values["template_id"],
        audience=values.get("audience") or {},
        send_at=values.get("send_at"),
        status=values["status"],
        stats=stats,
        launched_at=values.get("launched_at"),
        dispatched_at=values.get("dispatched_at"),
        cancelled_at=values.get("cancelled_at"),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def _add_tally(totals: Totals, item: dict[str, Any]) -> None:
    for name in TALLIED:
        totals[name] += int(item.get(name, {}).get("N", 0))


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
        """One Query: the items alone, never their tallies."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "CAMPAIGNS"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [_campaign(i) for i in items], next_cursor

    # ------------------------------------------------------------------ tallies

    def tallies(self, campaign_id: str) -> Totals:
        """Sent, suppressed and failed: the sum of the campaign's per-message tallies (one Query a page)."""
        totals = dict.fromkeys(TALLIED, 0)
        for item in table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :tally)",
            values={":pk": {"S": campaign_key(campaign_id)[0]}, ":tally": {"S": "TALLY#"}},
        ):
            _add_tally(totals, item)
        return totals

    def with_tallies(self, campaign_id: str) -> tuple[Campaign, Totals]:
        """The campaign's item and the sum of its tallies in one strongly consistent Query of its
        partition (more only for a campaign of more than a few thousand messages)."""
        params: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": campaign_key(campaign_id)[0]}},
            "ConsistentRead": True,
        }
        campaign: Campaign | None = None
        totals = dict.fromkeys(TALLIED, 0)
        while True:
            response = table.query(**params)
            for item in response.get("Items", []):
                sort_key = item["sk"]["S"]
                if sort_key == "CAMPAIGN":
                    campaign = _campaign(item)
                elif sort_key.startswith("TALLY#"):
                    _add_tally(totals, item)
            if not response.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        if campaign is None:
            raise NotFound(f"No campaign with id {campaign_id}.")
        return campaign, totals

    def write_tally(self, campaign_id: str, digest: str, totals: Totals) -> None:
        """One mail message's final states (a rewrite of the same message's tally is harmless:
        final states never change)."""
        pk, _ = campaign_key(campaign_id)
        item = {"pk": pk, "sk": f"TALLY#{digest}", "type": "campaign_tally", **totals}
        table.put(table.to_item(item))

    # ------------------------------------------------------------------ status

    def launch(self, campaign_id: str, *, status: str, now: str) -> bool:
        """Move a draft to ``scheduled`` or ``sending``; False when it is no longer a draft."""
        pk, sk = campaign_key(campaign_id)
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression="SET #status = :status, launched_at = :now, updated_at = :now",
            ConditionExpression="attribute_exists(pk) AND #status = :draft",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":draft": {"S": "draft"},
                ":now": {"S": now},
            },
        )

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

    def cancel(self, campaign_id: str, *, now: str) -> bool:
        """A draft or scheduled campaign becomes ``cancelled``; False when it is neither (any more)."""
        pk, sk = campaign_key(campaign_id)
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression="SET #status = :cancelled, cancelled_at = :now, updated_at = :now",
            ConditionExpression="#status IN (:draft, :scheduled)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":cancelled": {"S": "cancelled"},
                ":draft": {"S": "draft"},
                ":scheduled": {"S": "scheduled"},
                ":now": {"S": now},
            },
        )

    def start_sending(self, campaign_id: str, *, now: str) -> bool:
        """A scheduled campaign's time has come; False when it is not scheduled (already sending, or
        cancelled meanwhile)."""
        pk, sk = campaign_key(campaign_id)
        return table.write_if(
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

    def mark_sent(self, campaign_id: str, totals: Totals) -> bool:
        """A sending campaign becomes ``sent`` with its totals rolled up (False if it was already)."""
        pk, sk = campaign_key(campaign_id)
        values: dict[str, Any] = {f":{name}": {"N": str(totals[name])} for name in TALLIED}
        values |= {":sent_status": {"S": "sent"}, ":sending": {"S": "sending"}}
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression="SET #status = :sent_status, "
            + ", ".join(f"stat_{name} = :{name}" for name in TALLIED),
            ConditionExpression="#status = :sending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def progress_item(self, campaign_id: str) -> tuple[str, str]:
        """The item the dispatcher keeps this campaign's progress on: the campaign's own."""
        return campaign_key(campaign_id)

    def engagement_counter(self, campaign_id: str, event: str) -> dict[str, Any]:
        """A transaction operation counting one SES event (``delivered``, ``opened``...)."""
        return {
            "Update": {
                "Key": table.key(*campaign_key(campaign_id)),
                "UpdateExpression": f"ADD stat_{event} :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
