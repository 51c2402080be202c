"""Public endpoints for job alerts: the career site's subscription form (double opt-in) and
the confirmation link."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.public.careers import browser_form
from chalicelib.web.endpoint import Call, LinkToken, endpoint, preflight, problem, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.alerts.models import JobAlertSubmission
from crm.alerts.service import confirm, subscribe
from crm.candidates.models import Received
from crm.platform.signing import InvalidLink

bp = Blueprint(__name__)

preflight(bp, "/public/job-alerts")


@endpoint(
    bp,
    "/public/job-alerts",
    "POST",
    summary="Subscribe to job alerts (tags and/or location); a confirmation email follows",
    tag="public",
    permission=None,
    response=Received,
    status=202,
    form=True,
    cors=True,
    answers="negotiated",
    redirects=True,
    form_body=JobAlertSubmission,
    errors=(400, 413, 415, 422),
)
def subscribe_to_job_alerts(call: Call) -> Received | Response:
    return browser_form(call, "job-alerts", lambda: _subscribe(call))


def _subscribe(call: Call) -> Received:
    subscribe(request_form(call.request).fields)
    return Received()


@endpoint(
    bp,
    "/public/confirm",
    "GET",
    summary="Confirm a job-alert subscription (the signed link in the confirmation email)",
    tag="public",
    permission=None,
    errors=(400,),
    answers="negotiated",
    query_doc=LinkToken,
)
def confirm_job_alerts(call: Call) -> Response:
    token = (call.request.query_params or {}).get("token")
    wants_html = "text/html" in (call.request.headers.get("accept") or "")
    try:
        subscription = confirm(token)
    except InvalidLink as error:
        if wants_html:
            return Response(
                body=render_page("alert_invalid.html", detail=error.detail),
                status_code=error_page(error).status,
                headers=PAGE_HEADERS,
            )
        return problem(error)
    return Response(
        body=render_page("alert_confirmed.html", **subscription), status_code=200, headers=PAGE_HEADERS
    )
