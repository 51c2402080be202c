"""The referred person's pages: the signed link in their one email opens a page saying who
referred them and what confirming means; its button confirms (and, when ticked, agrees to news)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.web.endpoint import Call, LinkToken, endpoint, problem, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.candidates.models import FORM_TRUE
from crm.platform.signing import InvalidLink
from crm.referrals.service import ReferralService

bp = Blueprint(__name__)


def _token(call: Call) -> str | None:
    return (call.request.query_params or {}).get("token")


def _page(name: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(name, **values), status_code=status, headers=PAGE_HEADERS)


def _invalid(call: Call, error: InvalidLink) -> Response:
    """A browser gets a page; any other client problem+json."""
    if "text/html" in (call.request.headers.get("accept") or ""):
        return _page("referral_invalid.html", status=error_page(error).status, detail=error.detail)
    return problem(error)


@endpoint(
    bp,
    "/public/referrals/confirm",
    "GET",
    summary="A referred person's page (the signed link of their email, ?token=...): confirm interest",
    tag="public",
    permission=None,
    errors=(400,),
    answers="negotiated",
    query_doc=LinkToken,
)
def referral_page(call: Call) -> Response:
    try:
        referral, job_title = ReferralService().invitation(_token(call))
    except InvalidLink as error:
        return _invalid(call, error)
    return _page(
        "referral_confirm.html",
        referral=referral,
        job_title=job_title,
        token=_token(call),
        confirmed=referral.confirmed_at is not None,
    )


@endpoint(
    bp,
    "/public/referrals/confirm",
    "POST",
    summary="Confirm interest after a referral (the page's button; form: marketing_consent)",
    tag="public",
    permission=None,
    errors=(400, 413, 415),
    answers="negotiated",
    query_doc=LinkToken,
)
def confirm_referral(call: Call) -> Response:
    fields = request_form(
        call.request,
        default_type="application/x-www-form-urlencoded",
        allowed=("application/x-www-form-urlencoded", "multipart/form-data"),
    ).fields
    ticked = fields.get("marketing_consent")
    ticked = ticked[0] if isinstance(ticked, list) and ticked else ticked
    marketing = isinstance(ticked, str) and ticked.strip().lower() in FORM_TRUE
    try:
        referral, job_title, applied = ReferralService().confirm(_token(call), marketing=marketing)
    except InvalidLink as error:
        return _invalid(call, error)
    return _page("referral_confirmed.html", referral=referral, job_title=job_title, applied=applied)
