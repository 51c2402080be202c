"""Jobs as the rest of the product uses them: create, read, list, open and close."""

from __future__ import annotations

from crm.candidates.models import Application
from crm.jobs.models import Job, JobCreate, JobStatus, JobUpdate
from crm.jobs.repository import JobRepository


class JobService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: JobRepository | None = None) -> None:
        self.repository = repository or JobRepository()

    def applicants(
        self, job_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        return self.repository.applicants(job_id, limit=limit, cursor=cursor)

    def create(self, data: JobCreate) -> Job:
        return self.repository.create(data)

    def get(self, job_id: str) -> Job:
        return self.repository.get(job_id)

    def get_open(self, job_id: str) -> Job:
        return self.repository.get_open(job_id)

    def list_page(
        self, *, status: JobStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        return self.repository.list_page(status=status, limit=limit, cursor=cursor)

    def update(self, job_id: str, data: JobUpdate) -> Job:
        return self.repository.update(job_id, data)
