"""Interviews' items.

* ``CAND#<candidate>/INTERVIEW#<job>#<suffix>``: one interview (its offered slots, its state, the
  booked slot, the invitation's sequence and a version), in the person's partition, so it is
  listed with their applications and erased with them. Every change is conditioned on the
  version read.
  In ``gsi1`` under ``JOBINTERVIEWS#<job>`` (newest first), so a job's board reads its
  interviews with one Query.
* ``CALENDAR#<address>/CALENDAR``: one interviewer's calendar: the bookings that take their time
  (``busy``: interview id -> start, end and candidate id; ids only), and a ``version``. A booking
  writes the calendar of every interviewer on condition that its version is still the one read,
  in the same transaction as the interview, so of two bookings that read the same calendar only
  one is written: the other reads again and finds the time taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm.interviews.models import Interview, split_interview_id
from crm.interviews.slots import Busy
from crm.platform import table
from crm.platform.keys import person_partition

INTERVIEW_PREFIX = "INTERVIEW#"
CALENDAR_PREFIX = "CALENDAR#"
CALENDAR_SK = "CALENDAR"


def interview_sk(job_id: str, suffix: str) -> str:
    return f"INTERVIEW#{job_id}#{suffix}"


def job_interviews_pk(job_id: str) -> str:
    return f"JOBINTERVIEWS#{job_id}"


def calendar_pk(owner: str) -> str:
    return f"CALENDAR#{owner.lower()}"


@dataclass
class Calendar:
    """One person's calendar as read: ``version`` 0 when it has never been written."""

    owner: str
    version: int = 0
    busy: dict[str, Busy] = field(default_factory=dict)


def _interview(item: dict[str, Any]) -> Interview:
    return Interview.model_validate(table.from_item(item))


class InterviewRepository:
    def get(self, interview_id: str) -> Interview | None:
        parts = split_interview_id(interview_id)
        if parts is None:
            return None
        candidate_id, job_id, suffix = parts
        item = table.get_item(person_partition(candidate_id), interview_sk(job_id, suffix))
        return _interview(item) if item else None

    def of_candidate(self, candidate_id: str, job_id: str | None = None) -> list[Interview]:
        """The person's interviews (for one job's application when ``job_id`` is given), newest first."""
        prefix = interview_sk(job_id, "") if job_id else INTERVIEW_PREFIX
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": prefix}},
        )
        found = [_interview(i) for i in items]
        return sorted(found, key=lambda i: i.created_at, reverse=True)

    def of_job(self, job_id: str, *, limit: int) -> list[Interview]:
        """A job's newest ``limit`` interviews (one Query of ``gsi1``)."""
        items, _ = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": job_interviews_pk(job_id)}},
            index="gsi1",
            limit=limit,
            cursor=None,
            forward=False,
        )
        return [_interview(i) for i in items]

    def interview_operation(self, interview: Interview, *, seen_version: int | None) -> dict[str, Any]:
        """The Put of ``interview``: a new one (``seen_version`` None) on condition that it is new,
        a changed one on condition that it still has the version read."""
        parts = split_interview_id(interview.id)
        if parts is None:
            raise ValueError("not an interview id")
        candidate_id, job_id, suffix = parts
        item = interview.model_dump()
        item.update(
            pk=person_partition(candidate_id),
            sk=interview_sk(job_id, suffix),
            type="interview",
            gsi1pk=job_interviews_pk(job_id),
            gsi1sk=f"{interview.created_at}#{interview.id}",
        )
        put: dict[str, Any] = {"Item": table.to_item(item)}
        if seen_version is None:
            put["ConditionExpression"] = "attribute_not_exists(sk)"
        else:
            put["ConditionExpression"] = "version = :seen"
            put["ExpressionAttributeValues"] = {":seen": table.value(seen_version)}
        return {"Put": put}

    # ------------------------------------------------------------------ calendars

    def calendars(self, owners: list[str]) -> dict[str, Calendar]:
        """Each owner's calendar (read consistently; one never written is empty, version 0)."""
        keys = [(calendar_pk(o), CALENDAR_SK) for o in owners]
        found = table.batch_get(keys, consistent=True)
        calendars: dict[str, Calendar] = {}
        for owner in owners:
            item = found.get((calendar_pk(owner), CALENDAR_SK))
            if item is None:
                calendars[owner] = Calendar(owner=owner)
                continue
            data = table.from_item(item)
            busy = {
                interview_id: Busy(
                    interview_id=interview_id,
                    candidate_id=str(entry.get("candidate_id", "")),
                    start=str(entry["start"]),
                    end=str(entry["end"]),
                )
                for interview_id, entry in (data.get("busy") or {}).items()
            }
            calendars[owner] = Calendar(owner=owner, version=int(data.get("version", 0)), busy=busy)
        return calendars

    def calendar_operation(self, calendar: Calendar, busy: dict[str, Busy], *, at: str) -> dict[str, Any]:
        """The Put of ``calendar`` holding ``busy``, on condition that nobody wrote it since it was read."""
        item = {
            "pk": calendar_pk(calendar.owner),
            "sk": CALENDAR_SK,
            "type": "calendar",
            "owner": calendar.owner,
            "version": calendar.version + 1,
            "updated_at": at,
            "busy": {
                b.interview_id: {"start": b.start, "end": b.end, "candidate_id": b.candidate_id}
                for b in busy.values()
            },
        }
        put: dict[str, Any] = {"Item": table.to_item(item)}
        if calendar.version == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :seen"
            put["ExpressionAttributeValues"] = {":seen": table.value(calendar.version)}
        return {"Put": put}
