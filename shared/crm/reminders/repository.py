"""ReminderRepository. Items: CAND#<candidate>/REMINDER#<id> (erased with the candidate), in
gsi1 under REMINDERS#<owner> by due time (a recruiter's list, until it is done) and, until it is
queued for its email, in gsi2 under DUE (``crm.workflows.due_work``). Snoozing puts it back in
both at its new time; completing takes it out of both."""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import Conflict, NotFound
from crm.platform.ids import iso, new_id, utcnow
from crm.platform.keys import DUE_PARTITION, due_sort_key, person_partition
from crm.reminders.models import Reminder, ReminderCreate, ReminderPatch


def reminder_key(candidate_id: str, reminder_id: str) -> tuple[str, str]:
    return person_partition(candidate_id), f"REMINDER#{reminder_id}"


def _reminder(item: dict[str, Any], now: str) -> Reminder:
    values = table.from_item(item)
    values["due"] = values["due_at"] <= now
    return Reminder.model_validate(values)


class ReminderRepository:
    def create(self, data: ReminderCreate, *, owner: str) -> Reminder:
        now = utcnow()
        due_at = iso(data.due_at)
        reminder = Reminder(
            id=new_id(),
            candidate_id=data.candidate_id,
            due_at=due_at,
            note=data.note,
            owner=owner,
            state="pending",
            created_at=now,
        )
        pk, sk = reminder_key(data.candidate_id, reminder.id)
        item = reminder.model_dump(exclude={"due"})
        item.update(
            pk=pk,
            sk=sk,
            type="reminder",
            gsi1pk=f"REMINDERS#{owner}",
            gsi1sk=f"{due_at}#{reminder.id}",
            gsi2pk=DUE_PARTITION,
            gsi2sk=due_sort_key(due_at, "REMINDER", data.candidate_id, reminder.id),
        )
        table.transact(
            [
                {
                    "ConditionCheck": {
                        "Key": table.key(pk, "PROFILE"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}},
            ],
            cancelled=NotFound(
                f"No candidate with id {data.candidate_id}.",
                errors=[{"field": "candidate_id", "message": "no such candidate"}],
            ),
        )
        return reminder

    def get(self, candidate_id: str, reminder_id: str, *, now: str) -> Reminder | None:
        item = table.get_item(*reminder_key(candidate_id, reminder_id))
        return _reminder(item, now) if item else None

    def get_many(self, pairs: list[tuple[str, str]], *, now: str) -> dict[tuple[str, str], Reminder]:
        """The reminders that exist among (candidate id, reminder id) ``pairs``, in one batch read."""
        found = table.batch_get([reminder_key(c, r) for c, r in pairs])
        reminders = (_reminder(item, now) for item in found.values())
        return {(r.candidate_id, r.id): r for r in reminders}

    def list_page(
        self, *, owner: str, due_only: bool, now: str, limit: int, cursor: str | None
    ) -> tuple[list[Reminder], str | None]:
        values: dict[str, Any] = {":pk": {"S": f"REMINDERS#{owner}"}}
        key_condition = "gsi1pk = :pk"
        if due_only:
            key_condition += " AND gsi1sk <= :now"
            values[":now"] = {"S": f"{now}~"}
        items, next_cursor = table.query_page(
            key_condition=key_condition, values=values, index="gsi1", limit=limit, cursor=cursor
        )
        return [_reminder(i, now) for i in items], next_cursor

    def upcoming_page(
        self, *, owner: str, now: str, limit: int, cursor: str | None
    ) -> tuple[list[Reminder], str | None]:
        """The owner's reminders not yet due, soonest first (``list_page(due_only=True)`` has the rest)."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk AND gsi1sk > :now",
            values={":pk": {"S": f"REMINDERS#{owner}"}, ":now": {"S": f"{now}~"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
        )
        return [_reminder(i, now) for i in items], next_cursor

    def of_candidate(self, candidate_id: str, *, now: str) -> list[Reminder]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :r)",
            values={":pk": {"S": person_partition(candidate_id)}, ":r": {"S": "REMINDER#"}},
        )
        return sorted((_reminder(i, now) for i in items), key=lambda r: r.due_at)

    def dequeue(self, candidate_id: str, reminder_id: str, *, due_at: str | None = None) -> None:
        """Its email is queued: take it out of the due index (idempotent; a removed reminder is
        fine). With ``due_at``, only while it is still due then: one snoozed meanwhile stays in."""
        params: dict[str, Any] = {"ConditionExpression": "attribute_exists(pk)"}
        if due_at is not None:
            params = {
                "ConditionExpression": "attribute_exists(pk) AND due_at = :due",
                "ExpressionAttributeValues": {":due": {"S": due_at}},
            }
        table.write_if(
            "update_item",
            Key=table.key(*reminder_key(candidate_id, reminder_id)),
            UpdateExpression="REMOVE gsi2pk, gsi2sk",
            **params,
        )

    def mark_notified(self, candidate_id: str, reminder_id: str, *, now: str) -> None:
        table.write_if(
            "update_item",
            Key=table.key(*reminder_key(candidate_id, reminder_id)),
            UpdateExpression="SET #state = :notified, notified_at = :now REMOVE gsi2pk, gsi2sk",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":notified": {"S": "notified"}, ":now": {"S": now}},
        )

    def update(self, current: Reminder, patch: ReminderPatch, *, now: str) -> Reminder:
        """Apply ``patch`` to ``current`` (as read): completing is idempotent; snoozing or
        rewording a done reminder is a conflict. Conditioned on the item still being there and
        not done meanwhile, so a race never brings a done reminder back."""
        changes = patch.changes()
        if current.state == "done":
            if set(changes) == {"done"}:
                return current
            raise Conflict("This reminder is done; set a new one instead.")
        sets = []
        removes = []
        values: dict[str, Any] = {":done": {"S": "done"}}
        names = {"#state": "state"}
        if "note" in changes:
            sets.append("note = :note")
            values[":note"] = {"S": str(changes["note"])}
        if changes.get("done"):
            sets += ["#state = :done", "completed_at = :now"]
            values[":now"] = {"S": now}
            removes += ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
        if "due_at" in changes:
            due_at = iso(changes["due_at"])
            sets += [
                "due_at = :due",
                "gsi1sk = :gsi1sk",
                "gsi2pk = :gsi2pk",
                "gsi2sk = :gsi2sk",
                "#state = :pending",
            ]
            removes.append("notified_at")
            values.update(
                {
                    ":due": {"S": due_at},
                    ":gsi1sk": {"S": f"{due_at}#{current.id}"},
                    ":gsi2pk": {"S": DUE_PARTITION},
                    ":gsi2sk": {"S": due_sort_key(due_at, "REMINDER", current.candidate_id, current.id)},
                    ":pending": {"S": "pending"},
                }
            )
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        written = table.write_if(
            "update_item",
            Key=table.key(*reminder_key(current.candidate_id, current.id)),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk) AND #state <> :done",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        after = self.get(current.candidate_id, current.id, now=now)
        if after is None:
            raise NotFound("This reminder was deleted meanwhile.")
        if not written and after.state == "done" and set(changes) != {"done"}:
            raise Conflict("This reminder was completed meanwhile; set a new one instead.")
        return after

    def delete(self, candidate_id: str, reminder_id: str) -> None:
        """Delete the reminder (idempotent: a deleted one is fine)."""
        table.delete(table.key(*reminder_key(candidate_id, reminder_id)))
