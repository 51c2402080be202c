"""Recruiter API: nurture sequences and enrolments."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http import Call, PageQuery, endpoint, page
from crm import clock
from crm.data.candidates import CandidateRepository
from crm.data.sequences import SequenceRepository
from crm.engagement.campaigns import check_references
from crm.errors import ValidationFailed
from crm.models import CandidateFilter, EnrollmentRequest, EnrollmentResult, Sequence, SequenceCreate, iso

bp = Blueprint(__name__)

#: A pool enrolment is done in the request; larger pools are enrolled by candidate ids in pages.
MAX_POOL_ENROLMENT = 2000


@endpoint(
    bp,
    "/v1/sequences",
    "GET",
    summary="List nurture sequences",
    tag="engagement",
    permission="read",
    query=PageQuery,
    response=Sequence,
    paginated=True,
)
def list_sequences(call: Call) -> dict[str, Any]:
    items, next_cursor = SequenceRepository().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/sequences",
    "POST",
    summary="Create a nurture sequence (ordered steps with delays in days); 422 naming a missing template",
    tag="engagement",
    permission="write",
    body=SequenceCreate,
    response=Sequence,
    status=201,
)
def create_sequence(call: Call) -> Sequence:
    body: SequenceCreate = call.body
    for index, step in enumerate(body.steps):
        check_references(step.template_id, field=f"steps.{index}.template_id")
    return SequenceRepository().create(body)


@endpoint(
    bp,
    "/v1/sequences/{sequence_id}",
    "GET",
    summary="Get a sequence with its enrolments by state",
    tag="engagement",
    permission="read",
    response=Sequence,
    errors=(404,),
)
def get_sequence(call: Call, sequence_id: str) -> Sequence:
    return SequenceRepository().get(sequence_id, with_progress=True)


@endpoint(
    bp,
    "/v1/sequences/{sequence_id}/enrollments",
    "POST",
    summary="Enrol candidates (by id, or a whole pool); enrolling someone again changes nothing",
    tag="engagement",
    permission="write",
    body=EnrollmentRequest,
    response=EnrollmentResult,
    status=202,
    errors=(404,),
)
def enroll(call: Call, sequence_id: str) -> EnrollmentResult:
    body: EnrollmentRequest = call.body
    repository = SequenceRepository()
    sequence = repository.get(sequence_id)
    if body.pool is not None:
        check_references(pool=body.pool)
        candidate_ids: list[str] = []
        cursor = None
        while True:
            members, cursor = CandidateRepository().list_page(
                CandidateFilter(pool=body.pool), limit=100, cursor=cursor
            )
            candidate_ids += [m.id for m in members]
            if len(candidate_ids) > MAX_POOL_ENROLMENT:
                raise ValidationFailed(
                    f"The pool has more than {MAX_POOL_ENROLMENT} candidates; enrol them by id in batches.",
                    errors=[{"field": "pool", "message": f"more than {MAX_POOL_ENROLMENT} candidates"}],
                )
            if not cursor:
                break
    else:
        candidate_ids = list(body.candidate_ids or [])
    now = clock.now()
    from datetime import timedelta

    first_due = iso(now + timedelta(days=sequence.steps[0].delay_days))
    return repository.enroll(sequence, candidate_ids, first_due_at=first_due, now=iso(now))
