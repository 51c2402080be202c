"""Jobs as the rest of the product uses them: create, read, list, open and close. Only an open job
takes applications and shows on the career site."""

from __future__ import annotations

from collections.abc import Callable

from crm.jobs.models import Job, JobCreate, JobStatus, JobUpdate
from crm.jobs.repository import JobRepository
from crm.platform.errors import NotFound
from crm.platform.ids import new_id, utcnow


class JobService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: JobRepository | None = None, *, now: Callable[[], str] = utcnow) -> None:
        self.repository = repository if repository is not None else JobRepository()
        self.now = now

    def alert_run_item(self, job_id: str, run: str) -> tuple[str, str]:
        """Where the dispatcher keeps the progress of one alert run of the job."""
        return self.repository.alert_run_item(job_id, run)

    def create(self, data: JobCreate) -> Job:
        now = self.now()
        return self.repository.insert(Job(id=new_id(), created_at=now, updated_at=now, **data.model_dump()))

    def get(self, job_id: str) -> Job:
        return self.repository.get(job_id)

    def get_open(self, job_id: str) -> Job:
        """A job that takes applications (``NotFound`` for a closed one, as for none)."""
        job = self.repository.get(job_id)
        if job.status != "open":
            raise NotFound(f"Job {job_id} is not open for applications.")
        return job

    def list_page(
        self, *, status: JobStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        return self.repository.list_page(status=status, limit=limit, cursor=cursor)

    def of_team_member(self, email: str, *, limit: int, cursor: str | None) -> tuple[list[Job], str | None]:
        """The jobs where ``email`` is a hiring manager or interviewer, newest first."""
        return self.repository.of_team_member(email.lower(), limit=limit, cursor=cursor)

    def update(self, job_id: str, data: JobUpdate) -> Job:
        """Apply the fields sent; nothing sent changes nothing (not even ``updated_at``)."""
        current = self.repository.get(job_id)
        changes = data.model_dump(exclude_unset=True)
        if not changes:
            return current
        updated = Job.model_validate({**current.model_dump(), **changes, "updated_at": self.now()})
        return self.repository.replace(updated, before=current)
