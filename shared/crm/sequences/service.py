"""Nurture sequences as the API and the web UI use them: create one (every step's template must
exist), enrol candidates (by id or a whole pool; enrolling someone again changes nothing), and
read who is where in a sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.service import CandidateService
from crm.platform import clock
from crm.platform.errors import NotFound, ValidationFailed
from crm.platform.ids import iso
from crm.pools.service import PoolService
from crm.sequences.models import Enrollment, EnrollmentRequest, EnrollmentResult, Sequence, SequenceCreate
from crm.sequences.repository import SequenceRepository
from crm.templates.service import TemplateService

#: A pool enrolment is done in the request; larger pools are enrolled by candidate ids in pages.
MAX_POOL_ENROLMENT = 2000


def create_sequence(data: SequenceCreate) -> Sequence:
    """Store the sequence; 422 naming every step (``steps.<i>.template_id``) whose template is missing."""
    errors = []
    templates = TemplateService()
    for index, step in enumerate(data.steps):
        try:
            templates.get(step.template_id)
        except NotFound:
            errors.append(
                {"field": f"steps.{index}.template_id", "message": f"no template with id {step.template_id}"}
            )
    if errors:
        raise ValidationFailed("The sequence refers to a template that does not exist.", errors=errors)
    return SequenceRepository().create(data)


def pool_member_ids(pool_id: str) -> list[str]:
    """The ids of a pool's members (at most ``MAX_POOL_ENROLMENT``, else 422 on ``pool``)."""
    try:
        PoolService().get(pool_id)
    except NotFound:
        raise ValidationFailed(
            "The sequence refers to something that does not exist.",
            errors=[{"field": "audience.pool", "message": f"no pool with id {pool_id}"}],
        ) from None
    candidates = CandidateService()
    candidate_ids: list[str] = []
    cursor = None
    while True:
        members, cursor = candidates.list_page(CandidateFilter(pool=pool_id), limit=100, cursor=cursor)
        candidate_ids += [m.id for m in members]
        if len(candidate_ids) > MAX_POOL_ENROLMENT:
            raise ValidationFailed(
                f"The pool has more than {MAX_POOL_ENROLMENT} candidates; enrol them by id in batches.",
                errors=[{"field": "pool", "message": f"more than {MAX_POOL_ENROLMENT} candidates"}],
            )
        if not cursor:
            return candidate_ids


def ids_by_email(emails: list[str]) -> tuple[list[str], list[str]]:
    """The candidate ids of these emails (each once, in order), and the emails no candidate has."""
    repository = CandidateService()
    ids: list[str] = []
    unknown: list[str] = []
    for email in dict.fromkeys(emails):
        found = repository.find_id_by_email(email)
        if found is None:
            unknown.append(email)
        elif found not in ids:
            ids.append(found)
    return ids, unknown


def enroll(sequence_id: str, request: EnrollmentRequest) -> EnrollmentResult:
    """Enrol the candidates (or the pool's members); the first step is due after its delay."""
    repository = SequenceRepository()
    sequence = repository.get(sequence_id)
    if request.pool is not None:
        candidate_ids = pool_member_ids(request.pool)
    else:
        candidate_ids = list(request.candidate_ids or [])
    now = clock.now()
    first_due = iso(now + timedelta(days=sequence.steps[0].delay_days))
    return repository.enroll(sequence, candidate_ids, first_due_at=first_due, now=iso(now))


@dataclass
class Progress:
    """One enrolment as a recruiter reads it: who, and where they are in the sequence."""

    enrollment: Enrollment
    candidate: Candidate | None


def progress_page(sequence_id: str, *, limit: int, cursor: str | None) -> tuple[list[Progress], str | None]:
    """A page of the sequence's enrolments, newest first, each with its candidate."""
    enrollments, next_cursor = SequenceRepository().enrollments_page(sequence_id, limit=limit, cursor=cursor)
    candidates = CandidateService().get_many([e.candidate_id for e in enrollments])
    return [Progress(e, candidates.get(e.candidate_id)) for e in enrollments], next_cursor


class SequenceService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: SequenceRepository | None = None) -> None:
        self.repository = repository or SequenceRepository()

    def advance(self, candidate_id: str, sequence_id: str, *, step: int, next_due_at: str | None) -> bool:
        return self.repository.advance(candidate_id, sequence_id, step=step, next_due_at=next_due_at)

    def create(self, data: SequenceCreate) -> Sequence:
        return self.repository.create(data)

    def enroll(
        self, sequence: Sequence, candidate_ids: list[str], *, first_due_at: str, now: str
    ) -> EnrollmentResult:
        return self.repository.enroll(sequence, candidate_ids, first_due_at=first_due_at, now=now)

    def enrollment(self, candidate_id: str, sequence_id: str) -> Enrollment | None:
        return self.repository.enrollment(candidate_id, sequence_id)

    def enrollments(self, sequence_id: str, candidate_ids: list[str]) -> dict[str, Enrollment]:
        return self.repository.enrollments(sequence_id, candidate_ids)

    def enrollments_of(self, candidate_id: str) -> list[dict[str, Any]]:
        return self.repository.enrollments_of(candidate_id)

    def enrollments_page(
        self, sequence_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Enrollment], str | None]:
        return self.repository.enrollments_page(sequence_id, limit=limit, cursor=cursor)

    def get(self, sequence_id: str, *, with_progress: bool = False) -> Sequence:
        return self.repository.get(sequence_id, with_progress=with_progress)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Sequence], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def stop(self, candidate_id: str, sequence_id: str, *, reason: str, now: str) -> bool:
        return self.repository.stop(candidate_id, sequence_id, reason=reason, now=now)

    def stop_all(self, candidate_id: str, *, reason: str, now: str) -> int:
        return self.repository.stop_all(candidate_id, reason=reason, now=now)
