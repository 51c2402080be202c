"""Recruiter and integration API: interviews offered on an application, booked by the candidate
through their link (``/careers/interviews``), cancelled, and feedback given on them."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.endpoint import Call, endpoint
from crm.hiring.models import Feedback
from crm.hiring.team import TeamScope
from crm.interviews.models import Interview, InterviewFeedback, InterviewOffer, InterviewPage
from crm.interviews.service import InterviewService
from crm.platform.errors import Forbidden, NotFound

bp = Blueprint(__name__)


def _visible(call: Call, interview_id: str) -> Interview:
    """The interview, for a caller who may see its application (anyone else: 404)."""
    interview = InterviewService().get(interview_id)
    try:
        TeamScope(call.principal).require_application(interview.application_id)
    except NotFound:
        raise NotFound(f"No interview with id {interview_id}.") from None
    return interview


@endpoint(
    bp,
    "/v1/applications/{application_id}/interviews",
    "POST",
    summary="Offer interview slots on an application; the candidate gets a link to book one",
    tag="interviews",
    permission="write",
    body=InterviewOffer,
    response=Interview,
    status=201,
    errors=(404, 409, 422),
    description=(
        "Each slot's start carries its time zone; every slot lasts duration_minutes (10 to 480). "
        "The slots must be to come, at most a year ahead, not overlapping one another, and free in "
        "the interviewers' calendars (the interviewers, or the recruiter who offers when none are "
        "named). The same times may be offered to several candidates: the first to book takes them."
    ),
)
def offer_interview(call: Call, application_id: str) -> Interview:
    principal = call.principal
    email = principal.email if principal is not None and principal.kind == "user" else None
    return InterviewService().offer(application_id, call.body, actor=call.actor, email=email)


@endpoint(
    bp,
    "/v1/applications/{application_id}/interviews",
    "GET",
    summary="An application's interviews, newest first (offered, booked or cancelled)",
    tag="interviews",
    permission="team",
    response=InterviewPage,
    errors=(404,),
)
def list_interviews(call: Call, application_id: str) -> InterviewPage:
    TeamScope(call.principal).require_application(application_id)
    return InterviewPage(items=InterviewService().of_application(application_id))


@endpoint(
    bp,
    "/v1/interviews/{interview_id}",
    "GET",
    summary="One interview: its slots, state and, once booked, its time",
    tag="interviews",
    permission="team",
    response=Interview,
    errors=(404,),
)
def get_interview(call: Call, interview_id: str) -> Interview:
    return _visible(call, interview_id)


@endpoint(
    bp,
    "/v1/interviews/{interview_id}/cancel",
    "POST",
    summary="Cancel an interview (both sides get the calendar's cancellation once it was booked)",
    tag="interviews",
    permission="write",
    response=Interview,
    errors=(404, 409),
)
def cancel_interview(call: Call, interview_id: str) -> Interview:
    return InterviewService().cancel(interview_id, by="recruiter", actor=call.actor)


@endpoint(
    bp,
    "/v1/interviews/{interview_id}/feedback",
    "POST",
    summary="Give feedback on a booked interview (signed-in people only; once per interview)",
    tag="interviews",
    permission="team_write",
    body=InterviewFeedback,
    response=Feedback,
    status=201,
    errors=(403, 404, 409, 422),
)
def give_interview_feedback(call: Call, interview_id: str) -> Feedback:
    principal = call.principal
    if principal is None or principal.kind != "user":
        raise Forbidden("Feedback is given by a person who signs in, not by an API key.")
    _visible(call, interview_id)
    return InterviewService().give_feedback(
        interview_id, call.body, actor=call.actor, subject=principal.subject, email=principal.email
    )
