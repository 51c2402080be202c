"""Referrals' items.

``CAND#<candidate>/REFERRAL#<referral id>``: one referral of one person, in the referred person's
partition, so an erasure takes it with everything else (ReferralRepository). It sits in ``gsi1``
under ``REFERRER#<referrer's user id>`` (a referrer's own list, newest first) and in ``gsi2`` under
``REFERRALS`` (every referral, newest first: the recruiters' list and report). A referral's id is
a digest of its referrer, person and job, so the same referral sent twice (or a form referral and
an application through the same referrer's link to the same job) is one item.

``REFCODE#<code>/REFCODE``: a personal referral code and whose it is (their user id and address),
written when the code is first shown (ReferralCodeRepository).
"""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.keys import person_partition
from crm.referrals.models import Referral, ReferralFilter

PREFIX = "REFERRAL#"
ALL_PARTITION = "REFERRALS"
CODE_SK = "REFCODE"


def referral_key(candidate_id: str, referral_id: str) -> tuple[str, str]:
    return person_partition(candidate_id), f"{PREFIX}{referral_id}"


def referrer_partition(referrer: str) -> str:
    return f"REFERRER#{referrer}"


def code_partition(code: str) -> str:
    return f"REFCODE#{code}"


def referral_operation(referral: Referral) -> dict[str, Any]:
    """A transaction operation that records ``referral`` unless it is there already (each attribute
    is set only where it has none), for the intake's transaction: a referral sent twice, or two at
    once, is one item with what the first said."""
    pk, sk = referral_key(referral.candidate_id, referral.id)
    values = {
        **referral.model_dump(exclude_none=True),
        "type": "referral",
        "gsi1pk": referrer_partition(referral.referrer),
        "gsi1sk": f"{referral.referred_at}#{referral.id}",
        "gsi2pk": ALL_PARTITION,
        "gsi2sk": f"{referral.referred_at}#{referral.id}",
    }
    names: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    sets: list[str] = []
    for i, (name, value) in enumerate(values.items()):
        names[f"#a{i}"], attributes[f":a{i}"] = name, table.value(value)
        sets.append(f"#a{i} = if_not_exists(#a{i}, :a{i})")
    return {
        "Update": {
            "Key": table.key(pk, sk),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attributes,
        }
    }


def confirm_operation(candidate_id: str, referral_id: str, *, now: str) -> dict[str, Any]:
    """A transaction operation marking the referral confirmed (once: it fails if it already is)."""
    return {
        "Update": {
            "Key": table.key(*referral_key(candidate_id, referral_id)),
            "UpdateExpression": "SET confirmed_at = :now",
            "ConditionExpression": "attribute_exists(sk) AND attribute_not_exists(confirmed_at)",
            "ExpressionAttributeValues": {":now": {"S": now}},
        }
    }


def _referral(item: dict[str, Any]) -> Referral:
    return Referral.model_validate(table.from_item(item))


class ReferralRepository:
    def get(self, candidate_id: str, referral_id: str) -> Referral | None:
        item = table.get_item(*referral_key(candidate_id, referral_id))
        return _referral(item) if item else None

    def add(self, referral: Referral) -> None:
        """Record ``referral`` outside an intake (an application through a referral link)."""
        operation = referral_operation(referral)["Update"]
        table.update(
            operation["Key"],
            operation["UpdateExpression"],
            ExpressionAttributeNames=operation["ExpressionAttributeNames"],
            ExpressionAttributeValues=operation["ExpressionAttributeValues"],
        )

    def of_candidate(self, candidate_id: str) -> list[Referral]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": PREFIX}},
        )
        return [_referral(i) for i in items]

    def of_referrer(
        self, referrer: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Referral], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": referrer_partition(referrer)}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [_referral(i) for i in items], next_cursor

    def count_since(self, referrer: str, since: str) -> int:
        """How many referrals ``referrer`` made since ``since`` (one Query of their own list)."""
        response = table.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk >= :since",
            ExpressionAttributeValues={":pk": {"S": referrer_partition(referrer)}, ":since": {"S": since}},
            Select="COUNT",
        )
        return int(response.get("Count", 0))

    def page(self, flt: ReferralFilter) -> tuple[list[Referral], str | None]:
        """Every referral, newest first, with the filter's conditions."""
        conditions: list[str] = []
        values: dict[str, Any] = {":pk": {"S": ALL_PARTITION}}
        names: dict[str, str] = {}
        for field, value in (
            ("referrer_email", flt.referrer),
            ("job_id", flt.job_id),
            ("status", flt.status),
            ("channel", flt.channel),
        ):
            if value is not None:
                names[f"#{field}"] = field
                values[f":{field}"] = {"S": value}
                conditions.append(f"#{field} = :{field}")
        items, next_cursor = table.query_page(
            key_condition="gsi2pk = :pk",
            values=values,
            index="gsi2",
            limit=flt.limit,
            cursor=flt.cursor,
            forward=False,
            filter_expression=" AND ".join(conditions) or None,
            names=names or None,
        )
        return [_referral(i) for i in items], next_cursor

    def newest(self, cap: int) -> tuple[list[Referral], bool]:
        """Up to ``cap`` referrals, newest first, and whether there were more (the report)."""
        found: list[Referral] = []
        params: dict[str, Any] = {
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ALL_PARTITION}},
            "ScanIndexForward": False,
        }
        while len(found) < cap:
            params["Limit"] = min(1000, cap - len(found) + 1)
            response = table.query(**params)
            found.extend(_referral(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
            params["ExclusiveStartKey"] = start
        return found[:cap], len(found) > cap

    def attach_job(self, candidate_id: str, referral_id: str, job_id: str) -> bool:
        """A confirmed referral to no job in particular follows ``job_id`` from now on (once)."""
        return table.write_if(
            "update_item",
            Key=table.key(*referral_key(candidate_id, referral_id)),
            UpdateExpression="SET job_id = :job",
            ConditionExpression="attribute_exists(sk) AND attribute_exists(confirmed_at) "
            "AND attribute_not_exists(job_id)",
            ExpressionAttributeValues={":job": {"S": job_id}},
        )

    def set_status(
        self, candidate_id: str, referral_id: str, status: str, *, at: str, hired_at: str | None
    ) -> bool:
        """The referral's status became ``status`` at ``at``; False when the referral is gone or
        already holds a later change (a replayed, older stream record changes nothing)."""
        values: dict[str, Any] = {":status": {"S": status}, ":at": {"S": at}}
        expression = "SET #status = :status, status_at = :at"
        if hired_at is not None:
            values[":hired"] = {"S": hired_at}
            expression += ", hired_at = :hired"
        else:
            expression += " REMOVE hired_at"
        return table.write_if(
            "update_item",
            Key=table.key(*referral_key(candidate_id, referral_id)),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(sk) AND status_at <= :at",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )


class ReferralCodeRepository:
    def owner(self, code: str) -> dict[str, str] | None:
        """Whose code this is (``referrer``, ``referrer_email``), or None for a code never shown."""
        item = table.get_item(code_partition(code), CODE_SK, consistent=False)
        if not item:
            return None
        found = table.from_item(item)
        return {"referrer": str(found["referrer"]), "referrer_email": str(found.get("referrer_email") or "")}

    def save(self, code: str, *, referrer: str, referrer_email: str, now: str) -> None:
        """Record whose ``code`` is (the same user again: their address is brought up to date)."""
        table.write_if(
            "put_item",
            Item=table.to_item(
                {
                    "pk": code_partition(code),
                    "sk": CODE_SK,
                    "type": "referral_code",
                    "referrer": referrer,
                    "referrer_email": referrer_email,
                    "updated_at": now,
                }
            ),
            ConditionExpression="attribute_not_exists(pk) OR referrer = :referrer",
            ExpressionAttributeValues={":referrer": {"S": referrer}},
        )
