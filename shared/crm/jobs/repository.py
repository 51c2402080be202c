"""JobRepository. Items: JOB#<id>/JOB, in gsi1 under JOBS (newest first) and in gsi2 under
JOBSTATUS#<status> (the career site lists open jobs)."""

from __future__ import annotations

from typing import Any

from crm.candidates.models import Application
from crm.jobs.models import Job, JobCreate, JobStatus, JobUpdate
from crm.platform import table
from crm.platform.errors import Conflict, NotFound
from crm.platform.ids import new_id, utcnow


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
    def create(self, data: JobCreate) -> Job:
        now = utcnow()
        job = Job(id=new_id(), created_at=now, updated_at=now, **data.model_dump())
        table.put(_item(job), condition="attribute_not_exists(pk)")
        return job

    def get(self, job_id: str) -> Job:
        item = table.get_item(f"JOB#{job_id}", "JOB")
        if not item:
            raise NotFound(f"No job with id {job_id}.")
        return Job.model_validate(table.from_item(item))

    def get_open(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status != "open":
            raise NotFound(f"Job {job_id} is not open for applications.")
        return job

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

    def update(self, job_id: str, data: JobUpdate) -> Job:
        current = self.get(job_id)
        changes = data.model_dump(exclude_unset=True)
        if not changes:
            return current
        updated = current.model_copy(update={**changes, "updated_at": utcnow()})
        updated = Job.model_validate(updated.model_dump())
        try:
            table.put(
                _item(updated),
                condition="updated_at = :seen",
                ExpressionAttributeValues={":seen": {"S": current.updated_at}},
            )
        except table.ConditionFailed as exc:
            raise Conflict("The job changed while saving; try again.") from exc
        return updated

    def applicants(
        self, job_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        self.get(job_id)
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": f"JOBAPPS#{job_id}"}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [Application.model_validate(table.from_item(i)) for i in items], next_cursor
