"""SequenceRepository. Items: SEQ#<id>/SEQUENCE (gsi1 SEQUENCES), and one enrolment per
candidate and sequence, CAND#<candidate>/ENROLL#<sequence>, so it lives and is erased with the
candidate. An enrolment is in gsi1 under SEQENROLL#<sequence> (progress) and, while a step is
waiting, in gsi2 under DUE, sorted by due time (``crm.workflows.due_work`` reads that).
"""

from __future__ import annotations

from typing import Any

from crm.platform import table
from crm.platform.errors import NotFound
from crm.platform.ids import new_id, utcnow
from crm.platform.keys import DUE_PARTITION, due_sort_key, person_partition
from crm.sequences.models import Enrollment, EnrollmentResult, Sequence, SequenceCreate


def enrollment_key(candidate_id: str, sequence_id: str) -> tuple[str, str]:
    return person_partition(candidate_id), f"ENROLL#{sequence_id}"


class SequenceRepository:
    def create(self, data: SequenceCreate) -> Sequence:
        now = utcnow()
        sequence = Sequence(id=new_id(), created_at=now, **data.model_dump())
        item = sequence.model_dump(exclude={"enrollments"})
        item.update(pk=f"SEQ#{sequence.id}", sk="SEQUENCE", type="sequence", gsi1pk="SEQUENCES")
        item["gsi1sk"] = f"{now}#{sequence.id}"
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return sequence

    def get(self, sequence_id: str, *, with_progress: bool = False) -> Sequence:
        item = table.get_item(f"SEQ#{sequence_id}", "SEQUENCE")
        if not item:
            raise NotFound(f"No sequence with id {sequence_id}.")
        sequence = Sequence.model_validate(table.from_item(item))
        if with_progress:
            counts: dict[str, int] = {}
            for enrolment in table.query_all(
                key_condition="gsi1pk = :pk",
                values={":pk": {"S": f"SEQENROLL#{sequence_id}"}},
                index="gsi1",
                projection="#state",
                names={"#state": "state"},
            ):
                state = enrolment["state"]["S"]
                counts[state] = counts.get(state, 0) + 1
            sequence.enrollments = counts
        return sequence

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Sequence], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "SEQUENCES"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [Sequence.model_validate(table.from_item(i)) for i in items], next_cursor

    def enrollments_page(
        self, sequence_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Enrollment], str | None]:
        """The sequence's enrolments (its progress), newest first: one Query on gsi1."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": f"SEQENROLL#{sequence_id}"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [Enrollment.model_validate(table.from_item(i)) for i in items], next_cursor

    def enroll(
        self, sequence: Sequence, candidate_ids: list[str], *, first_due_at: str, now: str
    ) -> EnrollmentResult:
        """Enrol each candidate once (enrolling again changes nothing); unknown ids are reported."""
        result = EnrollmentResult(enrolled=0, already_enrolled=0)
        for candidate_id in dict.fromkeys(candidate_ids):
            pk, sk = enrollment_key(candidate_id, sequence.id)
            item = {
                "pk": pk,
                "sk": sk,
                "type": "enrollment",
                "sequence_id": sequence.id,
                "candidate_id": candidate_id,
                "state": "active",
                "next_step": 0,
                "due_at": first_due_at,
                "enrolled_at": now,
                "stop_on": set(sequence.stop_on),
                "gsi1pk": f"SEQENROLL#{sequence.id}",
                "gsi1sk": f"{now}#{candidate_id}",
                "gsi2pk": DUE_PARTITION,
                "gsi2sk": due_sort_key(first_due_at, "ENROLL", sequence.id, candidate_id),
            }
            try:
                table.transact(
                    [
                        {
                            "ConditionCheck": {
                                "Key": table.key(pk, "PROFILE"),
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                        {
                            "Put": {
                                "Item": table.to_item(item) | {"stop_on": table.string_set(sequence.stop_on)},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
            except table.TransactionCancelled as cancelled:
                if cancelled.failed(0):
                    result.not_found.append(candidate_id)
                elif cancelled.failed(1):
                    result.already_enrolled += 1
                else:
                    raise
                continue
            result.enrolled += 1
        return result

    def enrollment(self, candidate_id: str, sequence_id: str) -> Enrollment | None:
        item = table.get_item(*enrollment_key(candidate_id, sequence_id))
        return Enrollment.model_validate(table.from_item(item)) if item else None

    def enrollments(self, sequence_id: str, candidate_ids: list[str]) -> dict[str, Enrollment]:
        """The enrolments in ``sequence_id`` of those of ``candidate_ids`` who have one (one batch read)."""
        found = table.batch_get([enrollment_key(c, sequence_id) for c in candidate_ids])
        enrolments = (Enrollment.model_validate(table.from_item(item)) for item in found.values())
        return {e.candidate_id: e for e in enrolments}

    def enrollments_of(self, candidate_id: str) -> list[dict[str, Any]]:
        return [
            table.from_item(i)
            for i in table.query_all(
                key_condition="pk = :pk AND begins_with(sk, :e)",
                values={":pk": {"S": person_partition(candidate_id)}, ":e": {"S": "ENROLL#"}},
            )
        ]

    def advance(self, candidate_id: str, sequence_id: str, *, step: int, next_due_at: str | None) -> bool:
        """Step ``step`` was queued: wait for the next one, or complete. False if already advanced."""
        pk, sk = enrollment_key(candidate_id, sequence_id)
        values: dict[str, Any] = {
            ":step": {"N": str(step)},
            ":next": {"N": str(step + 1)},
            ":active": {"S": "active"},
        }
        if next_due_at:
            expression = "SET next_step = :next, due_at = :due, gsi2sk = :g2sk"
            values[":due"] = {"S": next_due_at}
            values[":g2sk"] = {"S": due_sort_key(next_due_at, "ENROLL", sequence_id, candidate_id)}
        else:
            expression = "SET next_step = :next, #state = :completed REMOVE due_at, gsi2pk, gsi2sk"
            values[":completed"] = {"S": "completed"}
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression=expression,
            ConditionExpression="#state = :active AND next_step = :step",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )

    def stop(self, candidate_id: str, sequence_id: str, *, reason: str, now: str) -> bool:
        pk, sk = enrollment_key(candidate_id, sequence_id)
        return table.write_if(
            "update_item",
            Key=table.key(pk, sk),
            UpdateExpression=(
                "SET #state = :stopped, stopped_reason = :reason, stopped_at = :now "
                "REMOVE due_at, gsi2pk, gsi2sk"
            ),
            ConditionExpression="#state = :active",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":stopped": {"S": "stopped"},
                ":active": {"S": "active"},
                ":reason": {"S": reason},
                ":now": {"S": now},
            },
        )

    def stop_all(self, candidate_id: str, *, reason: str, now: str) -> int:
        """Stop every active enrolment of the candidate whose sequence stops on ``reason``."""
        stopped = 0
        for enrolment in self.enrollments_of(candidate_id):
            if enrolment.get("state") == "active" and reason in (enrolment.get("stop_on") or []):
                stopped += self.stop(candidate_id, enrolment["sequence_id"], reason=reason, now=now)
        return stopped
