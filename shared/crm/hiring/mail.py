"""A status update: the email a candidate gets on entering a stage of a job's pipeline (the
stage's template; for a rejection, the job's rejection template, after the admin's delay).

Transactional (``topic`` None): it needs no marketing consent; the suppression list (bounces,
complaints) still applies. The message's ``ref`` is ``<application id>@<time it entered the
stage>``, so the delivery ledger sends each stay's email once however often the stream record or
the schedule fires, and a later stay at the same stage gets its own. At send time the
application must still be at that stay: one moved on meanwhile (a rejection undone within the
delay) sends nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from crm.candidates.service import CandidateService
from crm.hiring.service import HiringService
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render
from crm.platform.errors import NotFound
from crm.templates.service import TemplateService

SCOPE_PREFIX = "stage#"


def stage_update_ref(application_id: str, entered_at: str) -> str:
    return f"{application_id}@{entered_at}"


def stage_update_name(ref: str) -> str:
    """The schedule of a delayed status email (Scheduler names: 64 characters of a safe set)."""
    return "stage-" + hashlib.sha256(ref.encode()).hexdigest()[:40]


class StageUpdatePlan(Plan):
    topic = None

    def __init__(
        self,
        ref: str,
        *,
        hiring: HiringService | None = None,
        candidates: CandidateService | None = None,
        templates: TemplateService | None = None,
    ) -> None:
        self.ref = ref
        self.scope = SCOPE_PREFIX + ref
        self.application_id, _, self.entered_at = ref.partition("@")
        self.hiring = hiring or HiringService()
        self.candidates = candidates or CandidateService()
        self.templates = templates or TemplateService()
        self.parts: dict[str, str] = {}

    def _why_not(self) -> tuple[str | None, dict[str, Any]]:
        """Why this stay gets no email (None: it does), and the job's values for the template."""
        try:
            application, job = self.hiring.application(self.application_id)
        except NotFound:
            return "removed", {}
        if (application.stage_entered_at or application.applied_at) != self.entered_at:
            return "moved_on", {}
        template_id = self.hiring.stage_template(job, application.stage)
        if template_id is None:
            return "no_template", {}
        try:
            template = self.templates.get(template_id)
        except NotFound:
            return "no_template", {}
        self.parts = {"subject": template.subject, "html": template.html, "text": template.text}
        job_values = {
            "id": job.id,
            "title": job.title,
            "location": job.location,
            "department": job.department,
        }
        return None, {"job": job_values, "candidate_id": application.candidate_id}

    def targets(self, recipients: list[str]) -> Verdicts:
        why, values = self._why_not()
        if why is not None:
            return {r: Skip(why) for r in recipients}
        wanted = [r for r in recipients if r == values["candidate_id"]]
        verdicts = person_targets(wanted, self.candidates.get_many(wanted), {"job": values["job"]})
        return {r: verdicts.get(r, Skip("removed")) for r in recipients}

    def render(self, target: Target) -> RenderedEmail:
        return render(self.parts, target.context)
