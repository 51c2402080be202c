"""The UI's referral pages: the referral form and "Your referrals" for everyone who signs in
(employees see nothing else), and the recruiters' referral report.

The form uses what ``POST /v1/referrals`` uses (``ReferralCreate``, ``ReferralService.refer``), so
the referred person's email and the timeline follow as they do from the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, paging, query_value, see_other, text, ui_route
from crm.jobs.service import JobService
from crm.platform.errors import RateLimited, ValidationFailed
from crm.platform.forms import Upload
from crm.referrals.models import STATUS_WORDS, ReferralCreate, ReferralFilter
from crm.referrals.service import ReferralService, Referrer

bp = Blueprint(__name__)

FIELDS = ("first_name", "last_name", "email", "job_id", "why")
PAGE_SIZE = 25
#: The open jobs the form offers (the newest).
JOB_CHOICES = 100
NOTICES = {
    "referred": "Thank you: your referral is received. We have emailed them to confirm their interest."
}


def _referrer(session: Session) -> Referrer:
    principal = session.principal
    return Referrer(subject=principal.subject, email=principal.email or "")


def _form_page(
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    jobs, _ = JobService().list_page(status="open", limit=JOB_CHOICES, cursor=None)
    return page(
        "ui_referral_new.html",
        status=status,
        session=session,
        jobs=sorted(jobs, key=lambda j: j.title.casefold()),
        values=values or dict.fromkeys(FIELDS, ""),
        errors=errors or {},
    )


@ui_route(
    "/ui/referrals/new",
    "GET",
    "UI: refer someone (everyone who signs in; ?job=<id> chooses the job)",
    blueprint=bp,
    refer=True,
)
def ui_new_referral(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    values = dict.fromkeys(FIELDS, "")
    values["job_id"] = query_value(call, "job")
    return _form_page(session, values=values)


@ui_route(
    "/ui/referrals",
    "POST",
    "UI: send a referral (multipart form: csrf, first_name, last_name, email, job_id, why, resume)",
    blueprint=bp,
    refer=True,
    uploads=True,
    errors=(403, 422, 429),
)
def ui_create_referral(
    call: Call, session: Session, fields: dict[str, Any], uploads: dict[str, Upload]
) -> Response:
    values = {name: text(fields.get(name)) for name in FIELDS}
    data: dict[str, Any] = {k: v for k, v in values.items() if v}
    try:
        referral = ReferralCreate.model_validate(data)
    except ValidationError as exc:
        return _form_page(session, status=422, values=values, errors=field_errors(exc))
    if not session.principal.email:
        errors = {"email": "Your sign-in has no address to name you by: sign in again."}
        return _form_page(session, status=422, values=values, errors=errors)
    try:
        ReferralService().refer(referral, referrer=_referrer(session), resume=uploads.get("resume"))
    except ValidationFailed as failed:
        errors = {
            str(e.get("field", "")).split(".")[0]: str(e.get("message", "")) for e in failed.errors or []
        }
        return _form_page(session, status=422, values=values, errors=errors or {"why": failed.detail})
    except RateLimited as limited:
        return _form_page(session, status=429, values=values, errors={"email": limited.detail})
    return see_other("/ui/referrals/mine?done=referred")


@ui_route(
    "/ui/referrals/mine",
    "GET",
    "UI: your personal referral link and your referrals with their status (?cursor)",
    blueprint=bp,
    refer=True,
)
def ui_my_referrals(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    cursor = query_value(call, "cursor") or None
    mine = ReferralService().mine(_referrer(session), limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_referrals_mine.html",
        session=session,
        mine=mine,
        **paging("/ui/referrals/mine", cursor, mine.next_cursor),
        notice=NOTICES.get(query_value(call, "done")),
    )


@ui_route(
    "/ui/referrals",
    "GET",
    "Recruiter UI: the referral report (by referrer, by job, hires, time to hire) and every referral "
    "(?status, ?cursor)",
    blueprint=bp,
)
def ui_referral_report(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    service = ReferralService()
    cursor = query_value(call, "cursor") or None
    status = query_value(call, "status")
    given = {"status": status} if status in STATUS_WORDS else {}
    items, next_cursor = service.list_page(
        ReferralFilter.model_validate({**given, "limit": PAGE_SIZE, "cursor": cursor})
    )
    return page(
        "ui_referrals.html",
        session=session,
        report=service.report(),
        items=items,
        titles=service.titles(items),
        chosen=given.get("status", ""),
        statuses=STATUS_WORDS,
        **paging("/ui/referrals", cursor, next_cursor, given=given, anchor="#all"),
        quote=quote,
    )
