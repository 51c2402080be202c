"""Recruiter API: nurture sequences and enrolments."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.sequences import service as sequences
from crm.sequences.models import EnrollmentRequest, EnrollmentResult, Sequence, SequenceCreate
from crm.sequences.service import SequenceService

bp = Blueprint(__name__)


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
    return sequences.enroll(sequence_id, call.body)
