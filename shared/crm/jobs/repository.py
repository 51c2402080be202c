"""JobRepository. Items: JOB#<id>/JOB, in gsi1 under JOBS (newest first) and in gsi2 under
JOBSTATUS#<status> (the career site lists open jobs); and one JOB#<id>/TEAM#<email> per person on
the job's hiring team (its hiring managers and interviewers), in gsi1 under TEAM#<email>, so a
hiring manager's jobs are one Query, never a Scan. The job and its team items are written in one
transaction. A job's applications belong to the candidates (``CandidateService.applications_for_job``)."""

from __future__ import annotations

from typing import Any

from crm.jobs.models import Job, JobStatus
from crm.platform import table
from crm.platform.errors import Conflict, NotFound


def _item(job: Job) -> dict[str, Any]:
    item = job.model_dump()
    item.update(
        pk=f"JOB#{job.id}",
        sk="JOB",
        type="job",
        gsi1pk="JOBS",
        gsi1sk=f"{job.created_at}#{job.id}",
        gsi2pk=f"JOBSTATUS#{job.status}",
        gsi2sk=f"{job.created_at}#{job.id}",
    )
    return table.to_item(item)


def _team_item(job: Job, email: str) -> dict[str, Any]:
    return table.to_item(
        {
            "pk": f"JOB#{job.id}",
            "sk": f"TEAM#{email}",
            "type": "job_team",
            "job_id": job.id,
            "email": email,
            "gsi1pk": f"TEAM#{email}",
            "gsi1sk": f"{job.created_at}#{job.id}",
        }
    )


def _team_writes(job: Job, before: Job | None) -> list[dict[str, Any]]:
    """The puts and deletes that make the team items match ``job`` (``before``: what was stored).
    Every member is put again on each save (a put of the same item changes nothing), so a job
    saved before the index existed gets its items at its next save."""
    now, was = job.team(), before.team() if before is not None else set()
    puts = [{"Put": {"Item": _team_item(job, email)}} for email in sorted(now)]
    gone = sorted(was - now)
    deletes = [{"Delete": {"Key": table.key(f"JOB#{job.id}", f"TEAM#{email}")}} for email in gone]
    return puts + deletes


def _save(
    job: Job, team: list[dict[str, Any]], *, condition: str, values: dict[str, Any], conflict: Conflict
) -> None:
    """The job item under ``condition`` with its team writes, in one transaction (a job with no
    team: one conditional put); the condition failing is ``conflict``."""
    item = _item(job)
    extra = {"ExpressionAttributeValues": values} if values else {}
    if team:
        put = {"Put": {"Item": item, "ConditionExpression": condition, **extra}}
        table.transact([put, *team], cancelled=conflict)
        return
    try:
        table.put(item, condition=condition, **extra)
    except table.ConditionFailed as exc:
        raise conflict from exc


class JobRepository:
    def alert_run_item(self, job_id: str, run: str) -> tuple[str, str]:
        """The item that keeps how far one alert run of the job (the time it opened) has got:
        ``JOB#<id>/ALERTS#<run>``, beside the job, so each opening alerts its subscribers once."""
        return f"JOB#{job_id}", f"ALERTS#{run}"

    def insert(self, job: Job) -> Job:
        conflict = Conflict(f"A job with id {job.id} exists.")
        _save(
            job, _team_writes(job, None), condition="attribute_not_exists(pk)", values={}, conflict=conflict
        )
        return job

    def get(self, job_id: str) -> Job:
        item = table.get_item(f"JOB#{job_id}", "JOB")
        if not item:
            raise NotFound(f"No job with id {job_id}.")
        return Job.model_validate(table.from_item(item))

    def list_page(
        self, *, status: JobStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        if status:
            items, next_cursor = table.query_page(
                key_condition="gsi2pk = :pk",
                values={":pk": {"S": f"JOBSTATUS#{status}"}},
                index="gsi2",
                limit=limit,
                cursor=cursor,
                forward=False,
            )
        else:
            items, next_cursor = table.query_page(
                key_condition="gsi1pk = :pk",
                values={":pk": {"S": "JOBS"}},
                index="gsi1",
                limit=limit,
                cursor=cursor,
                forward=False,
            )
        return [Job.model_validate(table.from_item(i)) for i in items], next_cursor

    def replace(self, job: Job, *, before: Job) -> Job:
        """Store ``job`` over ``before`` (the job as read; changed meanwhile: a ``Conflict``)."""
        _save(
            job,
            _team_writes(job, before),
            condition="updated_at = :seen",
            values={":seen": {"S": before.updated_at}},
            conflict=Conflict("The job changed while saving; try again."),
        )
        return job

    def of_team_member(self, email: str, *, limit: int, cursor: str | None) -> tuple[list[Job], str | None]:
        """The jobs that name ``email`` a hiring manager or interviewer, newest first."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": f"TEAM#{email}"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        keys = [(f"JOB#{table.from_item(i)['job_id']}", "JOB") for i in items]
        found = table.batch_get(keys)
        jobs = [Job.model_validate(table.from_item(found[k])) for k in keys if k in found]
        return jobs, next_cursor
