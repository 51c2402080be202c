"""Referrals: anyone who signs in refers someone and follows their own referrals (permission
``refer``: every group, employees included; never an API key); recruiters and integrations list
every referral and read the report."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page, request_form
from crm.access.service import Principal
from crm.candidates.models import Received
from crm.platform.errors import Forbidden
from crm.platform.forms import parse_fields
from crm.referrals.models import MyReferrals, Referral, ReferralCreate, ReferralFilter, ReferralReport
from crm.referrals.service import ReferralService, Referrer

bp = Blueprint(__name__)


def referrer_of(principal: Principal | None) -> Referrer:
    """The signed-in person referring (their address names them to the person they refer)."""
    if principal is None or principal.kind != "user" or not principal.email:
        raise Forbidden("A referral is a person's: sign in with your ID token (it carries your address).")
    return Referrer(subject=principal.subject, email=principal.email)


@endpoint(
    bp,
    "/v1/referrals",
    "POST",
    summary="Refer someone (name, email, job_id?, why; a resume in multipart part resume)",
    description="JSON, urlencoded or multipart/form-data (a `resume` part: PDF, DOC or DOCX, at most "
    "5 MB). The answer is the same whether the email is known or not; the referred person gets one "
    "email naming you, with a link to confirm their interest.",
    tag="referrals",
    permission="refer",
    response=Received,
    status=202,
    form=True,
    form_body=ReferralCreate,
    errors=(400, 403, 409, 413, 415, 422, 429),
)
def create_referral(call: Call) -> Received:
    referrer = referrer_of(call.principal)
    decoded = request_form(call.request)
    data = parse_fields(ReferralCreate, decoded.fields)
    ReferralService().refer(
        data,
        referrer=referrer,
        resume=decoded.files.get("resume"),
        idempotency_key=call.request.headers.get("idempotency-key"),
        lambda_context=call.request.lambda_context,
    )
    return Received()


@endpoint(
    bp,
    "/v1/referrals/mine",
    "GET",
    summary="Your personal referral link and your referrals, newest first, each with its status",
    tag="referrals",
    permission="refer",
    query=PageQuery,
    response=MyReferrals,
    errors=(403,),
)
def my_referrals(call: Call) -> MyReferrals:
    query: PageQuery = call.query
    return ReferralService().mine(referrer_of(call.principal), limit=query.limit, cursor=query.cursor)


@endpoint(
    bp,
    "/v1/referrals",
    "GET",
    summary="Every referral, newest first (filters: referrer, job_id, status, channel)",
    tag="referrals",
    permission="read",
    query=ReferralFilter,
    response=Referral,
    paginated=True,
)
def list_referrals(call: Call) -> dict[str, Any]:
    items, next_cursor = ReferralService().list_page(call.query)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/referrals/report",
    "GET",
    summary="Referrals by referrer and by job, hires, and the median days from referral to hire",
    tag="referrals",
    permission="read",
    response=ReferralReport,
)
def referral_report(call: Call) -> ReferralReport:
    return ReferralService().report()
