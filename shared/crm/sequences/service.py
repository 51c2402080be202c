"""Nurture sequences as the API and the web UI use them: create one (every step's template must
exist), change it (pause, resume, rename, new steps or stop rules), enrol candidates (by id or a
whole pool; enrolling someone again changes nothing; who cannot be mailed is skipped, and the
answer says why, person by person), take someone out again, and read who is where in a sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.service import CandidateService
from crm.events.models import Attendance
from crm.events.service import EventService, audience_errors
from crm.mailing.suppression import SuppressionList
from crm.platform import clock
from crm.platform.errors import Conflict, NotFound, ValidationFailed
from crm.platform.fields import normalise_email
from crm.platform.ids import iso
from crm.pools.service import PoolService
from crm.sequences.models import (
    Enrollment,
    EnrollmentRequest,
    EnrollmentResult,
    Sequence,
    SequenceCreate,
    SequenceStep,
    SequenceUpdate,
)
from crm.sequences.repository import SequenceRepository
from crm.templates.service import TemplateService

#: A pool enrolment is done in the request; larger pools are enrolled by candidate ids in pages.
MAX_POOL_ENROLMENT = 2000


def _check_templates(steps: list[SequenceStep]) -> None:
    """422 naming every step (``steps.<i>.template_id``) whose template is missing."""
    errors = []
    templates = TemplateService()
    for index, step in enumerate(steps):
        try:
            templates.get(step.template_id)
        except NotFound:
            errors.append(
                {"field": f"steps.{index}.template_id", "message": f"no template with id {step.template_id}"}
            )
    if errors:
        raise ValidationFailed("The sequence refers to a template that does not exist.", errors=errors)


def create_sequence(data: SequenceCreate) -> Sequence:
    """Store the sequence; 422 naming every step (``steps.<i>.template_id``) whose template is missing."""
    _check_templates(data.steps)
    return SequenceRepository().create(data)


def update_sequence(sequence_id: str, data: SequenceUpdate) -> Sequence:
    """Pause, resume, rename, replace the steps or the stop rules, against the version read.

    New steps apply to everyone from the step they are at (a step already waiting keeps its time);
    someone whose next step no longer exists has completed the sequence. Resuming sends every step
    held while paused at the next due-work tick (they are not shifted by the time paused)."""
    if data.steps is not None:
        _check_templates(data.steps)
    repository = SequenceRepository()
    before, after = repository.update(sequence_id, data, now=iso(clock.now()))
    if len(after.steps) < len(before.steps):
        now = iso(clock.now())
        for enrolment in repository.past_the_end(sequence_id, len(after.steps)):
            repository.complete(enrolment.candidate_id, sequence_id, now=now)
    return after


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


def event_member_ids(event_id: str, attendance: Attendance) -> list[str]:
    """The ids of an event's people of one attendance (at most ``MAX_POOL_ENROLMENT``)."""
    errors = audience_errors(event_id, attendance, prefix="")
    if errors:
        raise ValidationFailed("The sequence refers to something that does not exist.", errors=errors)
    candidate_ids = EventService().audience_ids(event_id, attendance)
    if len(candidate_ids) > MAX_POOL_ENROLMENT:
        raise ValidationFailed(
            f"The event has more than {MAX_POOL_ENROLMENT} such people; enrol them by id in batches.",
            errors=[{"field": "event", "message": f"more than {MAX_POOL_ENROLMENT} candidates"}],
        )
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
    """Enrol the candidates (or the pool's members), reporting who was skipped and why; the first
    step is due after its delay."""
    service = SequenceService()
    service.get(sequence_id)  # 404 before a pool's members are read
    if request.pool is not None:
        candidate_ids = pool_member_ids(request.pool)
    elif request.event is not None:
        candidate_ids = event_member_ids(request.event, request.attendance or "registered")
    else:
        candidate_ids = list(request.candidate_ids or [])
    return service.enroll_candidates(sequence_id, candidate_ids)


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

    def __init__(
        self,
        repository: SequenceRepository | None = None,
        *,
        candidates: CandidateService | None = None,
        suppressions: SuppressionList | None = None,
    ) -> None:
        self.repository = repository or SequenceRepository()
        self._candidates = candidates
        self._suppressions = suppressions

    @property
    def candidates(self) -> CandidateService:
        self._candidates = self._candidates or CandidateService()
        return self._candidates

    def enroll_candidates(self, sequence_id: str, candidate_ids: list[str]) -> EnrollmentResult:
        """Enrol each of ``candidate_ids`` (each once, in order) and report person by person:
        ``enrolled_ids``, and ``skipped`` with a reason: ``unknown`` (no such candidate),
        ``already_enrolled`` (nothing changes for them: safe to repeat), ``suppressed`` (their
        address is on the suppression list) or ``no_consent`` (no marketing consent). Enrolling
        into a paused sequence is allowed: the first step waits for the resume. ``NotFound`` for
        no such sequence."""
        sequence = self.repository.get(sequence_id)
        wanted = list(dict.fromkeys(candidate_ids))
        result = EnrollmentResult(enrolled=0, already_enrolled=0)
        people = self.candidates.get_many(wanted)
        enrolled = self.repository.enrollments(sequence_id, [c for c in wanted if c in people])
        suppressions = self._suppressions or SuppressionList()
        suppressed = suppressions.suppressed_among([p.email for p in people.values()]) if people else set()
        eligible = []
        for candidate_id in wanted:
            person = people.get(candidate_id)
            if person is None:
                result.skip(candidate_id, "unknown")
            elif candidate_id in enrolled:
                result.skip(candidate_id, "already_enrolled")
            elif normalise_email(person.email) in suppressed:
                result.skip(candidate_id, "suppressed")
            elif not ((consent := person.consents.get("marketing")) and consent.granted):
                result.skip(candidate_id, "no_consent")
            else:
                eligible.append(candidate_id)
        now = clock.now()
        first_due = iso(now + timedelta(days=sequence.steps[0].delay_days))
        # The writes decide last: someone enrolled or erased meanwhile is reported as such.
        return self.repository.enroll(sequence, eligible, first_due_at=first_due, now=iso(now), result=result)

    def unenroll(self, sequence_id: str, candidate_id: str, *, actor: str) -> Enrollment:
        """Take someone out of the sequence: their enrolment goes (nothing more is sent; a step
        already queued is not sent either), the counters follow and their timeline says so, in
        one transaction. ``NotFound`` when they are not in it (so a second call is a 404)."""
        sequence = self.repository.get(sequence_id)
        for _attempt in range(3):
            enrolment = self.repository.enrollment(candidate_id, sequence_id)
            if enrolment is None:
                raise NotFound(f"Candidate {candidate_id} is not enrolled in sequence {sequence_id}.")
            try:
                self.candidates.record_activity(
                    candidate_id,
                    "sequence_unenrolled",
                    actor=actor,
                    at=iso(clock.now()),
                    detail={
                        "sequence_id": sequence_id,
                        "sequence_name": sequence.name,
                        "state": enrolment.state,
                        "steps_sent": min(enrolment.next_step, len(sequence.steps)),
                    },
                    along_with=self.repository.unenroll_operations(enrolment),
                )
            except NotFound:
                continue  # the enrolment moved on (or went) meanwhile: read it again
            return enrolment
        raise Conflict("The enrolment keeps changing; try again.")

    def hold(self, candidate_id: str, sequence_id: str, *, step: int) -> bool:
        return self.repository.hold(candidate_id, sequence_id, step=step)

    def held_page(self, sequence_id: str) -> list[dict[str, Any]]:
        return self.repository.held_page(sequence_id)

    def release_done(self, sequence_id: str, marker: str) -> bool:
        return self.repository.release_done(sequence_id, marker)

    def complete(self, candidate_id: str, sequence_id: str, *, now: str) -> bool:
        return self.repository.complete(candidate_id, sequence_id, now=now)

    def advance(self, candidate_id: str, sequence_id: str, *, step: int, next_due_at: str | None) -> bool:
        return self.repository.advance(candidate_id, sequence_id, step=step, next_due_at=next_due_at)

    def create(self, data: SequenceCreate) -> Sequence:
        return self.repository.create(data)

    def enroll(
        self, sequence: Sequence, candidate_ids: list[str], *, first_due_at: str, now: str
    ) -> EnrollmentResult:
        """Enrol as given, without the consent and suppression screening (``enroll_candidates``
        screens and reports)."""
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
