"""A person's every email on their profile: each mailing of the delivery ledger (a campaign, a
sequence step, a job alert, a status update, a one-to-one email, a portal link...) in words, with
what SES said of it since. One Query a page (``Deliveries.sent_to``), then one read per
mailing named on the page (a campaign's name, a job's title), each once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm.campaigns.service import CampaignService
from crm.candidates.models import Application, split_application_id
from crm.candidates.service import CandidateService
from crm.interviews.models import split_interview_id
from crm.jobs.models import CLOSED_STAGES, Job
from crm.jobs.service import JobService
from crm.mailing.deliveries import Deliveries, SentMail
from crm.outreach.service import EmailService
from crm.platform.errors import NotFound
from crm.sequences.service import SequenceService

PAGE = 20
#: What a delivery's events say, strongest first, and how the page marks it.
STATES = (
    ("complained", "Complained", "bad"),
    ("bounced", "Bounced", "bad"),
    ("clicked", "Clicked", "ok"),
    ("opened", "Opened", "ok"),
    ("delivered", "Delivered", "ok"),
)


def state_of(mail: SentMail) -> tuple[str, str]:
    """The strongest thing known of one email (``Sent`` until SES reports), and its badge kind."""
    for event, label, kind in STATES:
        if event in mail.events:
            return label, kind
    return "Sent", "info"


class _Names:
    """Names of the mailings on one page, each read once (a mailing that is gone: a plain word)."""

    def __init__(self, candidate_id: str) -> None:
        self.candidate_id = candidate_id
        self.seen: dict[tuple[str, str], str | None] = {}
        self.jobs: dict[str, Job | None] = {}
        self.applications: dict[str, Application | None] = {}

    def _once(self, kind: str, ref: str, read: Callable[[], str]) -> str | None:
        if (kind, ref) not in self.seen:
            try:
                self.seen[(kind, ref)] = read()
            except NotFound:
                self.seen[(kind, ref)] = None
        return self.seen[(kind, ref)]

    def _job(self, job_id: str) -> Job | None:
        if job_id not in self.jobs:
            try:
                self.jobs[job_id] = JobService().get(job_id)
            except NotFound:
                self.jobs[job_id] = None
        return self.jobs[job_id]

    def job(self, job_id: str) -> str | None:
        found = self._job(job_id)
        return found.title if found else None

    def stage(self, candidate_id: str, job_id: str, entered_at: str) -> str | None:
        """The name of the stage the application entered at ``entered_at`` (the email's stay)."""
        key = f"{candidate_id}_{job_id}"
        if key not in self.applications:
            self.applications[key] = CandidateService().get_application(candidate_id, job_id)
        application, job = self.applications[key], self._job(job_id)
        if application is None or job is None:
            return None
        stage = next((v.stage for v in application.history if v.entered_at == entered_at), None)
        if stage is None and (application.stage_entered_at or application.applied_at) == entered_at:
            stage = application.stage
        if stage is None:
            return None
        return stage.capitalize() if stage in CLOSED_STAGES else job.stage_name(stage)

    def describe(self, scope: str) -> str:
        kind, _, ref = scope.partition("#")
        if kind == "campaign":
            name = self._once("campaign", ref, lambda: CampaignService().get(ref).name)
            return f"Campaign: {name}" if name else "A campaign"
        if kind == "seq":
            sequence_id, _, step = ref.partition("#")
            name = self._once("sequence", sequence_id, lambda: SequenceService().get(sequence_id).name)
            step_text = f", step {int(step) + 1}" if step.isdigit() else ""
            return f"Sequence: {name}{step_text}" if name else f"A nurture sequence{step_text}"
        if kind == "alert":
            title = self.job(ref)
            return f"Job alert: {title}" if title else "A job alert"
        if kind == "confirm":
            return "Job alert: confirm the subscription"
        if kind == "portal":
            return "Portal sign-in link"
        if kind == "stage":
            application_ref, _, entered_at = ref.partition("@")
            ids = split_application_id(application_ref)
            title = self.job(ids[1]) if ids else None
            stage = self.stage(*ids, entered_at) if ids else None
            if not title:
                return "A status update"
            return f"Status update: {title}, {stage}" if stage else f"Status update: {title}"
        if kind == "outreach":
            found = self._once("email", ref, lambda: _subject(self.candidate_id, ref))
            return f"Email: {found}" if found else "A one-to-one email"
        if kind == "interview":
            return self.interview(ref)
        return "An email"

    def interview(self, ref: str) -> str:
        """``<interview id>@<event>``: the link to choose a time, a booking, a move, a cancellation."""
        interview_ref, _, event = ref.partition("@")
        ids = split_interview_id(interview_ref)
        title = self.job(ids[1]) if ids else None
        if event == "offered":
            what = "choose a time"
        elif event.startswith("booked-"):
            what = "booked" if event == "booked-0" else "moved"
        else:
            what = "cancelled"
        return f"Interview for {title}: {what}" if title else f"Interview: {what}"


def _subject(candidate_id: str, email_id: str) -> str:
    email = EmailService().get(candidate_id, email_id)
    if email is None:
        raise NotFound(email_id)
    return email.subject


def history(candidate_id: str, *, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the person's emails, newest first: when, what, and its state."""
    mails, next_cursor = Deliveries().sent_to(candidate_id, limit=PAGE, cursor=cursor)
    names = _Names(candidate_id)
    rows = []
    for mail in mails:
        label, kind = state_of(mail)
        rows.append({"at": mail.sent_at, "what": names.describe(mail.scope), "state": label, "kind": kind})
    return rows, next_cursor
