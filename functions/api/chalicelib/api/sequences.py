"""Recruiter API: nurture sequences and enrolments."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.sequences import service as sequences
from crm.sequences.models import (
    EnrollmentRequest,
    EnrollmentResult,
    Sequence,
    SequenceCreate,
    SequenceUpdate,
)
from crm.sequences.service import SequenceService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/sequences",
    "GET",
    summary="List nurture sequences, each with its enrolment counts (enrolled, active, completed, stopped)",
    tag="engagement",
    permission="read",
    query=PageQuery,
    response=Sequence,
    paginated=True,
)
def list_sequences(call: Call) -> dict[str, Any]:
    items, next_cursor = SequenceService().list_page(limit=call.query.limit, cursor=call.query.cursor)
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
    return sequences.create_sequence(call.body)


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
    return SequenceService().get(sequence_id, with_progress=True)


@endpoint(
    bp,
    "/v1/sequences/{sequence_id}",
    "PATCH",
    summary="Pause or resume a sequence (status), rename it, replace its steps or stop rules; the body "
    "carries the version read (a stale one is a 409). Steps held while paused go out at the next tick "
    "after resuming; enrolled people continue with new steps from the step they are at",
    tag="engagement",
    permission="write",
    body=SequenceUpdate,
    response=Sequence,
    errors=(404, 409),
)
def update_sequence(call: Call, sequence_id: str) -> Sequence:
    return sequences.update_sequence(sequence_id, call.body)


@endpoint(
    bp,
    "/v1/sequences/{sequence_id}/enrollments",
    "POST",
    summary="Enrol candidates (by id, or a whole pool), reporting per person: enrolled_ids, and skipped "
    "with a reason (no_consent, unknown, suppressed, already_enrolled); enrolling someone again changes "
    "nothing",
    tag="engagement",
    permission="write",
    body=EnrollmentRequest,
    response=EnrollmentResult,
    status=202,
    errors=(404,),
)
def enroll(call: Call, sequence_id: str) -> EnrollmentResult:
    return sequences.enroll(sequence_id, call.body)


@endpoint(
    bp,
    "/v1/sequences/{sequence_id}/enrollments/{candidate_id}",
    "DELETE",
    summary="Take a candidate out of a sequence: nothing more is sent, their timeline records it; "
    "404 when they are not enrolled (a second call too)",
    tag="engagement",
    permission="write",
    status=204,
    errors=(404, 409),
)
def unenroll(call: Call, sequence_id: str, candidate_id: str) -> None:
    SequenceService().unenroll(sequence_id, candidate_id, actor=call.actor)
