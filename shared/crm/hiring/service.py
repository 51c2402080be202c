"""An application's way through its job's pipeline.

A job orders its own stages (``crm.jobs.models.default_stages`` until a recruiter edits them);
every application can also be ``rejected`` (with a reason from the admin's list) or
``withdrawn``. A move names the version of the application the client read, so two recruiters
moving one application at once cannot both win: the second gets a ``VersionConflict`` (409) and
reloads. Each move closes the current stay in the history and opens the next, with who moved it
and when, so the time spent in each stage can be counted (``Application.seconds_in_stages``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm.candidates.models import SOURCED, Application, StageVisit, split_application_id
from crm.candidates.service import CandidateService
from crm.hiring.models import (
    DEFAULT_REJECTION_EMAIL_DELAY_HOURS,
    DEFAULT_REJECTION_REASONS,
    ApplicationMove,
    Feedback,
    FeedbackCreate,
    FeedbackPage,
)
from crm.hiring.repository import FeedbackRepository, HiringSettingsRepository
from crm.jobs.models import REJECTED, Job, JobCreate, JobStage, JobUpdate
from crm.jobs.service import JobService
from crm.platform.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from crm.platform.ids import new_id, utcnow
from crm.templates.service import TemplateService

#: An application keeps its newest stays; older ones fold away (a pathological client moving one
#: application back and forth cannot grow its item without bound).
MAX_HISTORY = 100


def field_error(field: str, message: str, detail: str | None = None) -> ValidationFailed:
    return ValidationFailed(
        detail or message[:1].upper() + message[1:] + ".", errors=[{"field": field, "message": message}]
    )


def with_history(application: Application) -> list[StageVisit]:
    """The application's stays; one stored before stays were kept has one, from its application."""
    if application.history:
        return list(application.history)
    entered = application.stage_entered_at or application.applied_at
    return [StageVisit(stage=application.stage, entered_at=entered, by=application.moved_by or "career-site")]


def moved_to(application: Application, move: ApplicationMove, *, actor: str, now: str) -> Application:
    """``application`` after ``move`` (validated): the current stay closed, the next one opened."""
    history = with_history(application)
    history[-1] = history[-1].model_copy(update={"left_at": now})
    history.append(StageVisit(stage=move.stage, entered_at=now, by=actor, reason=move.reason))
    return application.model_copy(
        update={
            "stage": move.stage,
            "reason": move.reason,
            "version": application.version + 1,
            "stage_entered_at": now,
            "moved_by": actor,
            "history": history[-MAX_HISTORY:],
        }
    )


class HiringService:
    """What the web layer (and later slices) use of hiring."""

    def __init__(
        self,
        candidates: CandidateService | None = None,
        jobs: JobService | None = None,
        settings: HiringSettingsRepository | None = None,
        feedback: FeedbackRepository | None = None,
        templates: TemplateService | None = None,
        *,
        now: Callable[[], str] = utcnow,
    ) -> None:
        self.templates = templates if templates is not None else TemplateService()
        self.candidates = candidates if candidates is not None else CandidateService()
        self.jobs = jobs if jobs is not None else JobService()
        self.settings = settings if settings is not None else HiringSettingsRepository()
        self.feedback = feedback if feedback is not None else FeedbackRepository()
        self.now = now

    # ------------------------------------------------------------------ rejection reasons

    def rejection_reasons(self) -> list[str]:
        stored = self.settings.rejection_reasons()
        return stored if stored is not None else list(DEFAULT_REJECTION_REASONS)

    def rejection_email_delay_hours(self) -> int:
        stored = self.settings.rejection_email_delay_hours()
        return stored if stored is not None else DEFAULT_REJECTION_EMAIL_DELAY_HOURS

    def set_rejection_reasons(
        self, reasons: list[str], *, actor: str, email_delay_hours: int | None = None
    ) -> list[str]:
        self.settings.save_rejection_reasons(
            reasons, email_delay_hours=email_delay_hours, at=self.now(), by=actor
        )
        return reasons

    def stage_template(self, job: Job, stage: str) -> str | None:
        """The email template a candidate gets on entering ``stage`` of ``job`` (None: no email)."""
        if stage == REJECTED:
            return job.rejection_template_id
        return next((s.template_id for s in job.stages if s.key == stage), None)

    # ------------------------------------------------------------------ reading

    def application(self, application_id: str) -> tuple[Application, Job]:
        """One application and its job (``NotFound`` for an id that names none)."""
        ids = split_application_id(application_id)
        found = self.candidates.get_application(*ids) if ids else None
        if found is None:
            raise NotFound(f"No application with id {application_id}.")
        return found, self.jobs.get(found.job_id)

    def job_applications(
        self, job_id: str, *, stage: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        """A job's applications: all, newest first, or those at one ``stage``, longest there first."""
        job = self.jobs.get(job_id)
        if stage is None:
            return self.candidates.applications_for_job(job_id, limit=limit, cursor=cursor)
        if stage not in job.stage_keys():
            raise field_error("stage", f"use one of this job's stages: {', '.join(job.stage_keys())}")
        return self.candidates.applications_in_stage(job_id, stage, limit=limit, cursor=cursor)

    def board(self, job: Job, *, per_stage: int) -> list[tuple[str, list[Application], bool]]:
        """Each stage of ``job`` with its first ``per_stage`` applications (longest there first) and
        whether there are more: one Query per stage."""
        columns = []
        for stage in job.stage_keys():
            items, more = self.candidates.applications_in_stage(job.id, stage, limit=per_stage, cursor=None)
            columns.append((stage, items, more is not None))
        return columns

    # ------------------------------------------------------------------ changes

    def move(self, application_id: str, move: ApplicationMove, *, actor: str) -> Application:
        application, job = self.application(application_id)
        if move.stage not in job.stage_keys():
            raise field_error("stage", f"use one of this job's stages: {', '.join(job.stage_keys())}")
        if move.stage == REJECTED:
            reasons = self.rejection_reasons()
            if move.reason is None:
                raise field_error("reason", "a rejection needs a reason: " + "; ".join(reasons))
            if move.reason not in reasons:
                raise field_error("reason", "use one of the rejection reasons: " + "; ".join(reasons))
        elif move.reason is not None:
            raise field_error("reason", "only a rejection takes a reason")
        if move.version != application.version:
            raise VersionConflict(
                "The application was moved meanwhile: reload it and try again.",
                current_version=application.version,
                current_stage=application.stage,
            )
        if move.stage == application.stage and move.reason == application.reason:
            return application  # already there: nothing to record
        moved = moved_to(application, move, actor=actor, now=self.now())
        detail: dict[str, Any] = {
            "job_id": job.id,
            "from": application.stage,
            "to": move.stage,
            # The names as the job called them then (a timeline reads in words; a stage renamed or
            # removed later still reads as it did).
            "from_name": job.stage_name(application.stage),
            "to_name": job.stage_name(move.stage),
        }
        if move.reason:
            detail["reason"] = move.reason
        return self.candidates.move_application(
            moved, seen_version=application.version, actor=actor, detail=detail
        )

    def add_candidate(self, job_id: str, candidate_id: str, *, actor: str) -> Application:
        """A recruiter sources a known person into an open job's pipeline, at its first stage."""
        job = self.jobs.get(job_id)
        if job.status != "open":
            raise Conflict(
                "The job is closed: open it to add people to it.",
                field="job_id",
                errors=[{"field": "job_id", "message": "the job is closed"}],
            )
        self.candidates.get(candidate_id)
        application = Application(
            candidate_id=candidate_id,
            job_id=job_id,
            source=SOURCED,
            applied_at=self.now(),
            stage=job.stages[0].key,
        )
        return self.candidates.add_application(application, actor=actor)

    def create_job(self, data: JobCreate) -> Job:
        """A new job, whose stage emails name templates that exist (a 422 naming the field)."""
        self._check_templates(data.stages, data.rejection_template_id, "rejection_template_id")
        return self.jobs.create(data)

    def _check_templates(self, stages: list[JobStage] | None, rejection: str | None, field: str) -> None:
        wanted = [
            (f"stages.{n}.template_id", s.template_id) for n, s in enumerate(stages or []) if s.template_id
        ]
        if rejection:
            wanted.append((field, rejection))
        for name, template_id in wanted:
            try:
                self.templates.get(template_id)
            except NotFound:
                raise field_error(
                    name, "no such template", f"No email template with id {template_id}."
                ) from None

    def update_job(self, job_id: str, data: JobUpdate) -> Job:
        """A job's update, where its stages change: a stage that still holds applications stays
        (a 409 names it), so no application is left at a stage its job no longer has."""
        self._check_templates(data.stages, data.rejection_template_id, "rejection_template_id")
        if data.stages is not None:
            current = self.jobs.get(job_id)
            kept = {s.key for s in data.stages}
            for stage in current.stages:
                if stage.key in kept:
                    continue
                held, _ = self.candidates.applications_in_stage(job_id, stage.key, limit=1, cursor=None)
                if held:
                    message = f"stage {stage.name} still has applications: move them first"
                    raise Conflict(
                        message[:1].upper() + message[1:] + ".",
                        field="stages",
                        errors=[{"field": "stages", "message": message}],
                    )
        return self.jobs.update(job_id, data)

    # ------------------------------------------------------------------ interview feedback

    def give_feedback(
        self,
        application_id: str,
        data: FeedbackCreate,
        *,
        actor: str,
        subject: str,
        email: str | None,
        interview_id: str | None = None,
    ) -> Feedback:
        """One person's feedback on one interview of an application: the interview is one of the
        job's, every attribute of its scorecard is rated and no other; once per interview.
        ``interview_id`` names the scheduled interview it is about (``crm.interviews`` checks it
        is this application's): once per person and scheduled interview."""
        application, job = self.application(application_id)
        interview = next((i for i in job.interviews if i.casefold() == data.interview.casefold()), None)
        if interview is None:
            raise field_error("interview", "use one of this job's interviews: " + "; ".join(job.interviews))
        for name in data.ratings:
            if name not in job.scorecard:
                raise field_error(
                    f"ratings.{name}", "not on this job's scorecard: " + "; ".join(job.scorecard)
                )
        missing = [name for name in job.scorecard if name not in data.ratings]
        if missing:
            raise field_error(
                "ratings", "rate every attribute of the scorecard; missing: " + "; ".join(missing)
            )
        now = self.now()
        feedback = Feedback(
            id=new_id(),
            application_id=application.id,
            candidate_id=application.candidate_id,
            job_id=job.id,
            interview=interview,
            interview_id=interview_id,
            ratings=dict(data.ratings),
            recommendation=data.recommendation,
            notes=data.notes.strip(),
            author=actor,
            author_email=email,
            submitted_at=now,
        )
        more = self.candidates.feedback_operations(
            application.candidate_id,
            job.id,
            recommendation=data.recommendation,
            actor=actor,
            at=now,
            detail={"job_id": job.id, "interview": interview}
            | ({"interview_id": interview_id} if interview_id else {}),
        )
        return self.feedback.add(feedback, author_subject=subject, more=more)

    def feedback_for(self, application_id: str, *, actor: str, email: str | None) -> FeedbackPage:
        """The feedback ``actor`` may read on one application. Someone on the job's hiring team
        (a hiring manager or interviewer) sees what others gave only once they have given their
        own, so nobody is anchored by it; recruiters and admins who coordinate the hire see all."""
        application, job = self.application(application_id)
        return self.visible_feedback(
            job, self.feedback.of_application(application.candidate_id, job.id), actor=actor, email=email
        )

    def feedback_on(
        self, job: Job, application: Application, *, actor: str, email: str | None
    ) -> FeedbackPage:
        """:meth:`feedback_for` when the application and its job are at hand (a profile)."""
        items = self.feedback.of_application(application.candidate_id, job.id)
        return self.visible_feedback(job, items, actor=actor, email=email)

    @staticmethod
    def visible_feedback(job: Job, items: list[Feedback], *, actor: str, email: str | None) -> FeedbackPage:
        mine = [f for f in items if f.author == actor]
        on_team = email is not None and email.lower() in job.team()
        if not on_team or mine:
            return FeedbackPage(items=items, hidden=0, mine_submitted=bool(mine))
        return FeedbackPage(items=[], hidden=len(items), mine_submitted=False)
