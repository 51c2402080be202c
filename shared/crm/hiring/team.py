"""What a caller may see of hiring: everything for recruiters, admins and API keys; for a hiring
manager only the jobs that name them a hiring manager or interviewer, and those jobs' applicants.

A hiring manager asking for a job they are not on gets ``Forbidden`` (403: job ids are public, on
the career site); for an application or a candidate outside their jobs they get ``NotFound`` (404),
the same answer as for an id that names nothing, so nothing tells them the person exists.
"""

from __future__ import annotations

from crm.access.service import Principal
from crm.candidates.models import Application
from crm.candidates.service import CandidateService
from crm.hiring.service import HiringService
from crm.jobs.models import Job, JobStatus
from crm.jobs.service import JobService
from crm.platform.errors import Forbidden, NotFound


class TeamScope:
    def __init__(
        self,
        principal: Principal | None,
        jobs: JobService | None = None,
        candidates: CandidateService | None = None,
    ) -> None:
        self.principal = principal
        self.jobs = jobs if jobs is not None else JobService()
        self.candidates = candidates if candidates is not None else CandidateService()

    @property
    def limited(self) -> bool:
        """The caller is a hiring manager: held to the jobs that name them."""
        return self.principal is not None and self.principal.team_only

    @property
    def email(self) -> str:
        principal = self.principal
        return (principal.email or "").lower() if principal is not None else ""

    def on_team(self, job: Job) -> bool:
        return not self.limited or (bool(self.email) and self.email in job.team())

    # ------------------------------------------------------------------ jobs

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if not self.on_team(job):
            raise Forbidden("You are not on this job's hiring team.")
        return job

    def jobs_page(
        self, *, status: JobStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        if not self.limited:
            return self.jobs.list_page(status=status, limit=limit, cursor=cursor)
        if not self.email:
            return [], None
        items, next_cursor = self.jobs.of_team_member(self.email, limit=limit, cursor=cursor)
        return [j for j in items if status is None or j.status == status], next_cursor

    # ------------------------------------------------------------------ applicants

    def application(self, application_id: str) -> tuple[Application, Job]:
        found, job = HiringService(self.candidates, self.jobs).application(application_id)
        if not self.on_team(job):
            raise NotFound(f"No application with id {application_id}.")
        return found, job

    def require_job(self, job_id: str) -> None:
        """``Forbidden`` for a hiring manager not on the job; staff pass with nothing read (the
        view reads the job itself)."""
        if self.limited:
            self.job(job_id)

    def require_application(self, application_id: str) -> None:
        """``NotFound`` for a hiring manager outside the application's job; staff pass with
        nothing read."""
        if self.limited:
            self.application(application_id)

    def applications_of(self, candidate_id: str) -> list[Application]:
        """The candidate's applications the caller may see: all, or those to the hiring manager's
        jobs (none: ``NotFound``, as for a candidate that does not exist)."""
        applications = self.candidates.applications(candidate_id)
        if not self.limited:
            return applications
        mine = [a for a in applications if self._on_team_of(a.job_id)]
        if not mine:
            raise NotFound(f"No candidate with id {candidate_id}.")
        return mine

    def candidate(self, candidate_id: str) -> None:
        """``NotFound`` unless the caller may see this candidate."""
        if self.limited:
            self.applications_of(candidate_id)

    def _on_team_of(self, job_id: str) -> bool:
        try:
            return self.on_team(self.jobs.get(job_id))
        except NotFound:
            return False
