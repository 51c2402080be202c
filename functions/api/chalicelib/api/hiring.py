"""Recruiter and integration API: applications in their job's pipeline, and rejection reasons."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.custom_fields import shown_application
from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.candidates.models import Application
from crm.hiring.models import (
    ApplicationAdd,
    ApplicationMove,
    Feedback,
    FeedbackCreate,
    FeedbackPage,
    RejectionReasons,
    RejectionReasonsUpdate,
)
from crm.hiring.service import HiringService
from crm.hiring.team import TeamScope
from crm.jobs.models import StageKey
from crm.platform.errors import Forbidden

bp = Blueprint(__name__)


class ApplicationListQuery(PageQuery):
    stage: StageKey | None = None


@endpoint(
    bp,
    "/v1/jobs/{job_id}/applications",
    "GET",
    summary="A job's applications: all, newest first, or at one stage (?stage=), longest there first",
    tag="hiring",
    permission="team",
    query=ApplicationListQuery,
    response=Application,
    paginated=True,
    errors=(403, 404, 422),
)
def list_applications(call: Call, job_id: str) -> dict[str, Any]:
    q: ApplicationListQuery = call.query
    TeamScope(call.principal).require_job(job_id)
    items, next_cursor = HiringService().job_applications(
        job_id, stage=q.stage, limit=q.limit, cursor=q.cursor
    )
    return page([shown_application(call, a) for a in items], next_cursor)


@endpoint(
    bp,
    "/v1/jobs/{job_id}/applications",
    "POST",
    summary="Add a known candidate to a job's pipeline (source: sourced), at its first stage",
    tag="hiring",
    permission="write",
    body=ApplicationAdd,
    response=Application,
    status=201,
    errors=(404, 409),
)
def add_application(call: Call, job_id: str) -> Application:
    return HiringService().add_candidate(job_id, call.body.candidate_id, actor=call.actor)


@endpoint(
    bp,
    "/v1/applications/{application_id}",
    "GET",
    summary="One application, with its stage, version and the history of its stages",
    tag="hiring",
    permission="team",
    response=Application,
    errors=(404,),
)
def get_application(call: Call, application_id: str) -> Application:
    application, _ = TeamScope(call.principal).application(application_id)
    return shown_application(call, application)


@endpoint(
    bp,
    "/v1/applications/{application_id}",
    "PATCH",
    summary="Move an application to another stage (rejected needs a reason; a stale version is a 409)",
    tag="hiring",
    permission="write",
    body=ApplicationMove,
    response=Application,
    errors=(404, 409, 422),
)
def move_application(call: Call, application_id: str) -> Application:
    return shown_application(call, HiringService().move(application_id, call.body, actor=call.actor))


@endpoint(
    bp,
    "/v1/rejection-reasons",
    "GET",
    summary="The reasons a rejection may give",
    tag="hiring",
    permission="read",
    response=RejectionReasons,
)
def get_rejection_reasons(call: Call) -> RejectionReasons:
    hiring = HiringService()
    return RejectionReasons(
        reasons=hiring.rejection_reasons(), email_delay_hours=hiring.rejection_email_delay_hours()
    )


@endpoint(
    bp,
    "/v1/rejection-reasons",
    "PUT",
    summary="Replace the list of rejection reasons (admins)",
    tag="hiring",
    permission="admin",
    body=RejectionReasonsUpdate,
    response=RejectionReasons,
)
def put_rejection_reasons(call: Call) -> RejectionReasons:
    hiring = HiringService()
    reasons = hiring.set_rejection_reasons(
        call.body.reasons, actor=call.actor, email_delay_hours=call.body.email_delay_hours
    )
    return RejectionReasons(reasons=reasons, email_delay_hours=hiring.rejection_email_delay_hours())


@endpoint(
    bp,
    "/v1/applications/{application_id}/feedback",
    "GET",
    summary="Interview feedback on an application (a hiring team member sees others' after giving their own)",
    tag="hiring",
    permission="team",
    response=FeedbackPage,
    errors=(404,),
)
def list_feedback(call: Call, application_id: str) -> FeedbackPage:
    principal = call.principal
    TeamScope(principal).require_application(application_id)
    email = principal.email if principal is not None else None
    return HiringService().feedback_for(application_id, actor=call.actor, email=email)


@endpoint(
    bp,
    "/v1/applications/{application_id}/feedback",
    "POST",
    summary="Give feedback on one interview of an application (signed-in people only; once per interview)",
    tag="hiring",
    permission="team_write",
    body=FeedbackCreate,
    response=Feedback,
    status=201,
    errors=(403, 404, 422),
)
def give_feedback(call: Call, application_id: str) -> Feedback:
    principal = call.principal
    if principal is None or principal.kind != "user":
        raise Forbidden("Feedback is given by a person who signs in, not by an API key.")
    TeamScope(principal).require_application(application_id)
    return HiringService().give_feedback(
        application_id, call.body, actor=call.actor, subject=principal.subject, email=principal.email
    )
