"""SequenceRepository. Items: SEQ#<id>/SEQUENCE (gsi1 SEQUENCES), and one enrolment per
candidate and sequence, CAND#<candidate>/ENROLL#<sequence>, so it lives and is erased with the
candidate. An enrolment is in gsi1 under SEQENROLL#<sequence> (progress) and, while a step is
waiting, in gsi2 under DUE, sorted by due time (``crm.workflows.due_work`` reads that). A step that
comes due while its sequence is paused is *held*: the enrolment moves to gsi2 under
SEQHELD#<sequence> until the sequence is resumed.

The sequence item keeps counters of its enrolments (``enrolled_count``, ``active_count``,
``completed_count``, ``stopped_count``), moved in the same transaction as each enrolment's change
of state, whose condition is that state: a retried change fails its condition and counts nothing.
"""

from __future__ import annotations

import random
import time
from typing import Any

from crm.platform import table
from crm.platform.errors import NotFound, ServiceUnavailable, VersionConflict
from crm.platform.ids import new_id, utcnow
from crm.platform.keys import DUE_PARTITION, due_sort_key, person_partition
from crm.sequences.models import (
    RELEASE_PAGE,
    Enrollment,
    EnrollmentResult,
    Sequence,
    SequenceCounts,
    SequenceCreate,
    SequenceUpdate,
)

COUNTERS = ("enrolled", "active", "completed", "stopped")


def enrollment_key(candidate_id: str, sequence_id: str) -> tuple[str, str]:
    return person_partition(candidate_id), f"ENROLL#{sequence_id}"


def sequence_key(sequence_id: str) -> dict[str, Any]:
    return table.key(f"SEQ#{sequence_id}", "SEQUENCE")


def held_partition(sequence_id: str) -> str:
    return f"SEQHELD#{sequence_id}"


def count_operation(sequence_id: str, **deltas: int) -> dict[str, Any]:
    """The transaction's update of the sequence's counters (``active=-1, completed=1``...)."""
    terms = [f"{name}_count :{name}" for name in deltas]
    values = {f":{name}": {"N": str(delta)} for name, delta in deltas.items()} | {":one": {"N": "1"}}
    return {
        "Update": {
            "Key": sequence_key(sequence_id),
            "UpdateExpression": "ADD " + ", ".join([*terms, "changes :one"]),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
        }
    }


def _transact(operations: list[dict[str, Any]], *, attempts: int = 8) -> None:
    """A transaction, retried with jittered back-off while it only conflicts with another one
    (many enrolments of one sequence move its counters at the same time)."""
    for attempt in range(attempts):
        try:
            table.transact([{k: dict(v) for k, v in op.items()} for op in operations])
            return
        except table.TransactionCancelled as cancelled:
            if not cancelled.conflicted:
                raise
            if attempt == attempts - 1:
                raise ServiceUnavailable("The sequence is busy; try again.") from cancelled
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not a secret


def _sequence_from_item(item: dict[str, Any]) -> Sequence:
    values = table.from_item(item)
    counts = {name: max(0, int(values.get(f"{name}_count") or 0)) for name in COUNTERS}
    return Sequence.model_validate({**values, "counts": SequenceCounts(**counts)})


class SequenceRepository:
    def create(self, data: SequenceCreate) -> Sequence:
        now = utcnow()
        sequence = Sequence(id=new_id(), created_at=now, updated_at=now, **data.model_dump())
        item = sequence.model_dump(exclude={"enrollments", "counts"})
        item.update(pk=f"SEQ#{sequence.id}", sk="SEQUENCE", type="sequence", gsi1pk="SEQUENCES")
        item["gsi1sk"] = f"{now}#{sequence.id}"
        item.update({f"{name}_count": 0 for name in COUNTERS}, counted=True, changes=0)
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return sequence

    def get(self, sequence_id: str, *, with_progress: bool = False) -> Sequence:
        item = table.get_item(f"SEQ#{sequence_id}", "SEQUENCE")
        if not item:
            raise NotFound(f"No sequence with id {sequence_id}.")
        if with_progress or "counted" not in item:
            counts = self._count_states(sequence_id)
            if "counted" not in item:
                item = self._backfill(item, counts)
            sequence = _sequence_from_item(item)
            sequence.enrollments = counts
            return sequence
        return _sequence_from_item(item)

    def _count_states(self, sequence_id: str) -> dict[str, int]:
        """Enrolments by state, read from the enrolments themselves (pattern 27, every page)."""
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
        return counts

    def _backfill(self, item: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
        """A sequence stored before it had counters gets them once, from its enrolments, on condition
        that no enrolment changed in between (``changes`` as read); otherwise the next read tries again."""
        values: dict[str, Any] = {f":{name}": {"N": str(counts.get(name, 0))} for name in COUNTERS[1:]}
        values[":enrolled"] = {"N": str(sum(counts.values()))}
        values[":yes"] = {"BOOL": True}
        seen = item.get("changes")
        condition = "attribute_not_exists(counted) AND " + (
            "changes = :seen" if seen else "attribute_not_exists(changes)"
        )
        if seen:
            values[":seen"] = seen
        assignments = ", ".join(f"{name}_count = :{name}" for name in COUNTERS)
        try:
            answer = table.update(
                sequence_key(item["id"]["S"]),
                f"SET {assignments}, counted = :yes",
                condition=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed:
            return (
                item
                | {f"{name}_count": {"N": str(counts.get(name, 0))} for name in COUNTERS[1:]}
                | {"enrolled_count": {"N": str(sum(counts.values()))}}
            )
        return dict(answer.get("Attributes") or item)

    def update(self, sequence_id: str, data: SequenceUpdate, *, now: str) -> tuple[Sequence, Sequence]:
        """Apply the change against the version read; the sequence before and after. Resuming puts
        the sequence itself in the due-work index (``RELEASE``), so the next tick sends what was held."""
        current = self.get(sequence_id)
        stale = VersionConflict(
            "Someone else changed this sequence; reload and try again.",
            current=current.model_dump(mode="json", exclude={"enrollments"}),
            field="version",
        )
        if data.version != current.version:
            raise stale
        changes = data.changes()
        sets = ["updated_at = :now", "version = :next"]
        removes: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {
            ":now": {"S": now},
            ":next": {"N": str(current.version + 1)},
            ":seen": {"N": str(current.version)},
        }
        for name in ("name", "steps", "stop_on"):
            if name in changes:
                sets.append(f"#{name} = :{name}")
                names[f"#{name}"] = name
                values[f":{name}"] = table.value(changes[name])
        status = changes.get("status")
        if status and status != current.status:
            sets.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = {"S": status}
            if status == "paused":
                sets.append("paused_at = :now")
                removes += ["gsi2pk", "gsi2sk"]
            else:
                sets += ["gsi2pk = :due", "gsi2sk = :release"]
                values[":due"] = {"S": DUE_PARTITION}
                values[":release"] = {"S": due_sort_key(now, "RELEASE", sequence_id)}
                removes.append("paused_at")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        condition = "version = :seen" + (" OR attribute_not_exists(version)" if current.version == 1 else "")
        try:
            answer = table.update(
                sequence_key(sequence_id),
                expression,
                condition=f"attribute_exists(pk) AND ({condition})",
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed as exc:
            raise stale from exc
        return current, _sequence_from_item(dict(answer["Attributes"]))

    def release_done(self, sequence_id: str, marker: str) -> bool:
        """The held enrolments are all released: take the sequence out of the due-work index (unless
        it was paused and resumed again since, which wrote a new marker)."""
        return table.write_if(
            "update_item",
            Key=sequence_key(sequence_id),
            UpdateExpression="REMOVE gsi2pk, gsi2sk",
            ConditionExpression="gsi2sk = :marker",
            ExpressionAttributeValues={":marker": {"S": marker}},
        )

    def held_page(self, sequence_id: str, *, limit: int = RELEASE_PAGE) -> list[dict[str, Any]]:
        """A page of the enrolments held while the sequence was paused, oldest due first."""
        response = table.query(
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :held",
            ExpressionAttributeValues={":held": {"S": held_partition(sequence_id)}},
            Limit=limit,
        )
        return [table.from_item(i) for i in response.get("Items", [])]

    def hold(self, candidate_id: str, sequence_id: str, *, step: int) -> bool:
        """Step ``step`` came due while the sequence is paused: keep it (out of the due-work index)
        until the sequence is resumed. In one transaction with a check that the sequence is still
        paused, so nothing is held after a resume has released what was held. False if the
        enrolment moved on or the sequence is no longer paused."""
        pk, sk = enrollment_key(candidate_id, sequence_id)
        try:
            table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": sequence_key(sequence_id),
                            "ConditionExpression": "#status = :paused",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {":paused": {"S": "paused"}},
                        }
                    },
                    {
                        "Update": {
                            "Key": table.key(pk, sk),
                            "UpdateExpression": "SET gsi2pk = :held, held = :yes",
                            "ConditionExpression": "#state = :active AND next_step = :step AND gsi2pk = :due",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":held": {"S": held_partition(sequence_id)},
                                ":yes": {"BOOL": True},
                                ":active": {"S": "active"},
                                ":step": {"N": str(step)},
                                ":due": {"S": DUE_PARTITION},
                            },
                        }
                    },
                ]
            )
        except table.TransactionCancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):
                return False
            raise
        return True

    def past_the_end(self, sequence_id: str, steps: int) -> list[Enrollment]:
        """Active enrolments whose next step is at or after ``steps`` (steps were removed)."""
        return [
            Enrollment.model_validate(table.from_item(i))
            for i in _query_filtered(
                key_condition="gsi1pk = :pk",
                values={
                    ":pk": {"S": f"SEQENROLL#{sequence_id}"},
                    ":active": {"S": "active"},
                    ":steps": {"N": str(steps)},
                },
                filter_expression="#state = :active AND next_step >= :steps",
                names={"#state": "state"},
            )
        ]

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Sequence], str | None]:
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": "SEQUENCES"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        sequences = []
        for item in items:
            if "counted" not in item:  # stored before counters: counted once, then kept
                sequences.append(self.get(item["id"]["S"]))
            else:
                sequences.append(_sequence_from_item(item))
        return sequences, next_cursor

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
        self,
        sequence: Sequence,
        candidate_ids: list[str],
        *,
        first_due_at: str,
        now: str,
        result: EnrollmentResult | None = None,
    ) -> EnrollmentResult:
        """Enrol each candidate once (enrolling again changes nothing), counting each on the
        sequence in the same transaction; unknown ids and those already enrolled are reported."""
        result = result or EnrollmentResult(enrolled=0, already_enrolled=0)
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
                _transact(
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
                        count_operation(sequence.id, enrolled=1, active=1),
                    ]
                )
            except table.TransactionCancelled as cancelled:
                if cancelled.failed(0):
                    result.skip(candidate_id, "unknown")
                elif cancelled.failed(1):
                    result.skip(candidate_id, "already_enrolled")
                elif cancelled.failed(2):
                    raise NotFound(f"No sequence with id {sequence.id}.") from cancelled
                else:
                    raise
                continue
            result.enrolled += 1
            result.enrolled_ids.append(candidate_id)
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
        update = {
            "Key": table.key(pk, sk),
            "ConditionExpression": "#state = :active AND next_step = :step",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": values,
        }
        if next_due_at:
            # Back in the due-work index (a held step, released on resume, leaves SEQHELD#).
            update["UpdateExpression"] = (
                "SET next_step = :next, due_at = :due, gsi2pk = :duepk, gsi2sk = :g2sk REMOVE held"
            )
            values[":due"] = {"S": next_due_at}
            values[":duepk"] = {"S": DUE_PARTITION}
            values[":g2sk"] = {"S": due_sort_key(next_due_at, "ENROLL", sequence_id, candidate_id)}
            return table.write_if("update_item", **update)
        update["UpdateExpression"] = (
            "SET next_step = :next, #state = :completed REMOVE due_at, held, gsi2pk, gsi2sk"
        )
        values[":completed"] = {"S": "completed"}
        return self._change_state(update, sequence_id, active=-1, completed=1)

    def complete(self, candidate_id: str, sequence_id: str, *, now: str) -> bool:
        """An active enrolment past the sequence's last step (steps were removed) is completed."""
        pk, sk = enrollment_key(candidate_id, sequence_id)
        update = {
            "Key": table.key(pk, sk),
            "UpdateExpression": (
                "SET #state = :completed, completed_at = :now REMOVE due_at, held, gsi2pk, gsi2sk"
            ),
            "ConditionExpression": "#state = :active",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":completed": {"S": "completed"},
                ":active": {"S": "active"},
                ":now": {"S": now},
            },
        }
        return self._change_state(update, sequence_id, active=-1, completed=1)

    def stop(self, candidate_id: str, sequence_id: str, *, reason: str, now: str) -> bool:
        pk, sk = enrollment_key(candidate_id, sequence_id)
        update = {
            "Key": table.key(pk, sk),
            "UpdateExpression": (
                "SET #state = :stopped, stopped_reason = :reason, stopped_at = :now "
                "REMOVE due_at, held, gsi2pk, gsi2sk"
            ),
            "ConditionExpression": "#state = :active",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":stopped": {"S": "stopped"},
                ":active": {"S": "active"},
                ":reason": {"S": reason},
                ":now": {"S": now},
            },
        }
        return self._change_state(update, sequence_id, active=-1, stopped=1)

    def _change_state(self, update: dict[str, Any], sequence_id: str, **deltas: int) -> bool:
        """The enrolment's change of state and the sequence's counters, in one transaction; False
        when the enrolment is no longer in the state the change starts from (counted nothing)."""
        try:
            _transact([{"Update": update}, count_operation(sequence_id, **deltas)])
        except table.TransactionCancelled as cancelled:
            if cancelled.failed(0):
                return False
            if cancelled.failed(1):  # no such sequence (any more): nothing to count on
                return table.write_if("update_item", **update)
            raise
        return True

    def unenroll_operations(self, enrolment: Enrollment) -> list[dict[str, Any]]:
        """The writes that take someone out of a sequence, on condition that their enrolment is
        still in the state read: the enrolment goes (and with it its due-work entry), and the
        sequence's counters follow. The caller adds the timeline entry."""
        pk, sk = enrollment_key(enrolment.candidate_id, enrolment.sequence_id)
        return [
            {
                "Delete": {
                    "Key": table.key(pk, sk),
                    "ConditionExpression": "#state = :state AND next_step = :step",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":state": {"S": enrolment.state},
                        ":step": {"N": str(enrolment.next_step)},
                    },
                }
            },
            count_operation(enrolment.sequence_id, **{"enrolled": -1, enrolment.state: -1}),
        ]

    def stop_all(self, candidate_id: str, *, reason: str, now: str) -> int:
        """Stop every active enrolment of the candidate whose sequence stops on ``reason``."""
        stopped = 0
        for enrolment in self.enrollments_of(candidate_id):
            if enrolment.get("state") == "active" and reason in (enrolment.get("stop_on") or []):
                stopped += self.stop(candidate_id, enrolment["sequence_id"], reason=reason, now=now)
        return stopped


def _query_filtered(
    *, key_condition: str, values: dict[str, Any], filter_expression: str, names: dict[str, str]
) -> list[dict[str, Any]]:
    """Every item of one gsi1 key condition that passes the filter (reads every page)."""
    params: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": values,
        "FilterExpression": filter_expression,
        "ExpressionAttributeNames": names,
    }
    found: list[dict[str, Any]] = []
    while True:
        response = table.query(**params)
        found += response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return found
        params["ExclusiveStartKey"] = last
