"""JobRepository. Items: JOB#<id>/JOB, in gsi1 under JOBS (newest first) and in gsi2 under
JOBSTATUS#<status> (the career site lists open jobs). A job's applications belong to the
candidates (``CandidateService.applications_for_job``)."""

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


class JobRepository:
    def alert_run_item(self, job_id: str, run: str) -> tuple[str, str]:
        """The item that keeps how far one alert run of the job (the time it opened) has got:
        ``JOB#<id>/ALERTS#<run>``, beside the job, so each opening alerts its subscribers once."""
        return f"JOB#{job_id}", f"ALERTS#{run}"

    def insert(self, job: Job) -> Job:
        table.put(_item(job), condition="attribute_not_exists(pk)")
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

    def replace(self, job: Job, *, seen: str) -> Job:
        """Store ``job`` over the one last updated at ``seen`` (changed meanwhile: a ``Conflict``)."""
        try:
            table.put(
                _item(job),
                condition="updated_at = :seen",
                ExpressionAttributeValues={":seen": {"S": seen}},
            )
        except table.ConditionFailed as exc:
            raise Conflict("The job changed while saving; try again.") from exc
        return job
