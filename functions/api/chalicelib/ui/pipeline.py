"""What the recruiter's pages show of a job's pipeline: the board's columns and cards, the stages
an application can be moved to, and each application on a profile with its job and stage."""

from __future__ import annotations

from typing import Any

from crm.candidates.models import Application
from crm.jobs.models import CLOSED_STAGES, Job
from crm.platform import clock, times
from crm.platform.errors import NotFound


def stage_choices(job: Job) -> list[tuple[str, str]]:
    """``(key, name)`` of every stage an application of ``job`` can be moved to."""
    return [(s.key, s.name) for s in job.stages] + [(k, k.capitalize()) for k in CLOSED_STAGES]


def days_since(when: str | None) -> int | None:
    """Whole days from ``when`` to the (local stack's) clock."""
    moment = times.parse(when)
    return None if moment is None else max(0, (clock.now() - moment).days)


def board(
    job: Job, columns: list[tuple[str, list[Application], bool]], people: dict[str, Any]
) -> list[dict[str, Any]]:
    """The board's columns: each stage's name, its first cards and whether it has more."""
    names = dict(stage_choices(job))
    return [
        {
            "key": key,
            "name": names.get(key, key),
            "more": more,
            "cards": [
                {
                    "application": a,
                    "candidate": people.get(a.candidate_id),
                    "days": days_since(a.stage_entered_at or a.applied_at),
                    "tally": recommendation_tally(a),
                }
                for a in items
            ],
        }
        for key, items, more in columns
    ]


def profile_rows(applications: list[Application], get_job: Any, feedback: Any = None) -> list[dict[str, Any]]:
    """Each application of a person with its job (``None`` when the job is gone), the name of its
    stage, the stages it can be moved to, and the feedback the viewer may read
    (``feedback(job, application)``)."""
    rows = []
    for a in applications:
        try:
            job = get_job(a.job_id)
        except NotFound:
            job = None
        rows.append(
            {
                "application": a,
                "job": job,
                "stage_name": dict(stage_choices(job)).get(a.stage, a.stage) if job else a.stage,
                "choices": stage_choices(job) if job else [],
                "days": days_since(a.stage_entered_at or a.applied_at),
                "feedback": feedback(job, a) if feedback is not None and job is not None else None,
            }
        )
    return rows


def recommendation_tally(application: Application) -> list[tuple[str, int]]:
    """The recommendations given on ``application``, strongest yes first (only those given)."""
    counts = [
        ("Strong yes", application.feedback_strong_yes),
        ("Yes", application.feedback_yes),
        ("No", application.feedback_no),
        ("Strong no", application.feedback_strong_no),
    ]
    return [(label, n) for label, n in counts if n]
