"""The job-alert slice's email: one alert per matching job to each confirmed subscriber who
consented to job alerts (scope ``alert#<job>``), and the double opt-in confirmation of a request
(transactional: no consent needed yet, the suppression list still applies)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crm.alerts.service import AlertService, confirm_url
from crm.candidates.service import CandidateService
from crm.jobs.service import JobService
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform.config import get_settings
from crm.templates import builtin as builtin_templates


class JobAlertPlan(Plan):
    topic = "job_alerts"

    def __init__(
        self, job_id: str, *, jobs: JobService | None = None, candidates: CandidateService | None = None
    ) -> None:
        self.job = (jobs or JobService()).get(job_id)
        self.candidates = candidates or CandidateService()
        self.scope = f"alert#{job_id}"
        base = get_settings().public_base_url.rstrip("/")
        self.job_context: dict[str, Any] = {
            "id": self.job.id,
            "title": self.job.title,
            "location": self.job.location,
            "department": self.job.department,
            "url": f"{base}/careers?{urlencode({'job': self.job.id})}",
        }

    def targets(self, recipients: list[str]) -> Verdicts:
        if self.job.status != "open":
            return dict.fromkeys(recipients, Skip("job_closed"))
        return person_targets(recipients, self.candidates.get_many(recipients), {"job": self.job_context})

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.JOB_ALERT, target.context)


class AlertConfirmationPlan(Plan):
    topic = None

    def __init__(
        self,
        request_id: str,
        *,
        alerts: AlertService | None = None,
        candidates: CandidateService | None = None,
    ) -> None:
        self.request_id = request_id
        self.scope = f"confirm#{request_id}"
        self.alerts = alerts or AlertService()
        self.candidates = candidates or CandidateService()

    def targets(self, recipients: list[str]) -> Verdicts:
        verdicts = person_targets(recipients, self.candidates.get_many(recipients))
        for candidate_id, verdict in list(verdicts.items()):
            if isinstance(verdict, Skip):
                continue
            pending = (self.alerts.get(candidate_id) or {}).get("pending") or {}
            if pending.get("request_id") != self.request_id:
                verdicts[candidate_id] = Skip("superseded")
                continue
            verdict.context.update(
                confirm_url=confirm_url(candidate_id, self.request_id),
                tags=pending.get("tags") or [],
                location=pending.get("location"),
            )
        return verdicts

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.ALERT_CONFIRMATION, target.context)
