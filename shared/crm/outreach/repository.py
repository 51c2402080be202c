"""EmailRepository. Items: CAND#<candidate>/OUTREACH#<id> (erased with the person), one per
email a recruiter wrote; the profile lists them (a person gets few) newest first."""

from __future__ import annotations

from typing import Any

from crm.outreach.models import Email
from crm.platform import table
from crm.platform.keys import person_partition

PREFIX = "OUTREACH#"


def email_key(candidate_id: str, email_id: str) -> dict[str, Any]:
    return table.key(person_partition(candidate_id), f"{PREFIX}{email_id}")


class EmailRepository:
    def put_operation(self, email: Email) -> dict[str, Any]:
        """The write of a new email, for the candidates slice's transaction with its timeline entry."""
        item = email.model_dump(exclude={"state", "reason"})
        item.update(pk=person_partition(email.candidate_id), sk=f"{PREFIX}{email.id}", type="outreach")
        return {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    def delete(self, candidate_id: str, email_id: str) -> None:
        table.delete(email_key(candidate_id, email_id))

    def get(self, candidate_id: str, email_id: str) -> Email | None:
        item = table.get_item(person_partition(candidate_id), f"{PREFIX}{email_id}")
        return Email.model_validate(table.from_item(item)) if item else None

    def of_candidate(self, candidate_id: str) -> list[Email]:
        """Every email written to the person, newest first."""
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": PREFIX}},
        )
        emails = [Email.model_validate(table.from_item(i)) for i in items]
        return sorted(emails, key=lambda e: (e.created_at, e.id), reverse=True)

    def with_prefix(self, candidate_id: str, prefix: str) -> list[Email]:
        """The person's emails whose id starts with ``prefix``."""
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": f"{PREFIX}{prefix}"}},
        )
        return [Email.model_validate(table.from_item(i)) for i in items]
