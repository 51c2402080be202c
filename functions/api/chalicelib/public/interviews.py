"""The candidate's interview page (``/careers/interviews?token=...``, the link in their email): the
free slots in a time zone they pick, and the forms to book one, move the booking or cancel.

The signed token is the credential (purpose ``interview``): it arrives in the link's query string
and travels on as a hidden field of each form, so no cookie is needed. The zone select starts at
the zone the link was offered in (or the one the candidate booked in); a few lines of script
(``/ui/static/interview-zone.js``) pick the browser's own zone instead, and without the script
the page works in the offer's zone. A browser gets pages (a booking is a 303 back to the page);
any other client gets JSON: the same view, a 409 problem naming the slots still free when the one
chosen was just taken, a 400 for a bad link, a 422 for a slot that was never offered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.public.careers import wants_html
from chalicelib.web.endpoint import Call, LinkToken, endpoint, json_response, problem, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.interviews.links import BOOKING_PATH
from crm.interviews.models import BookingForm, Interview, InterviewSlot, PublicInterview
from crm.interviews.service import InterviewChanged, InterviewClosed, InterviewService, SlotTaken
from crm.interviews.slots import moment, shown, zone_groups, zone_of
from crm.jobs.service import JobService
from crm.platform import clock
from crm.platform.errors import DomainError, NotFound, ValidationFailed, validation_errors_from_pydantic
from crm.platform.signing import InvalidLink

bp = Blueprint(__name__)

HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        f"{PAGE_HEADERS['Content-Security-Policy']}; script-src 'self'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Cache-Control": "no-store",
}
NOTICES = {
    "booked": "Your interview is booked. A confirmation with a calendar invitation is on its way to you.",
    "moved": "Your interview is moved. The updated calendar invitation is on its way to you.",
    "cancelled": "Your interview is cancelled. We have let the interviewers know.",
}


class BookingQuery(LinkToken):
    """``?token=...&tz=...``: the emailed link's token, and the zone to show the times in."""

    tz: str | None = None


def _page(name: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(name, **values), status_code=status, headers=HEADERS)


def _wants_page(call: Call) -> bool:
    if call.request.method == "POST":
        return wants_html(call.request)
    return "text/html" in (call.request.headers.get("accept") or "")


def _invalid(call: Call, error: InvalidLink) -> Response:
    if _wants_page(call):
        return _page(
            "careers_error.html",
            status=error_page(error).status,
            title="This link does not work",
            detail=error.detail + " Nothing was changed. Ask the recruiter who invited you for a new link.",
        )
    return problem(error)


def _job_title(interview: Interview) -> str:
    try:
        return JobService().get(interview.job_id).title
    except NotFound:
        return "the job"


def view_of(service: InterviewService, interview: Interview, zone: str) -> PublicInterview:
    """What the candidate sees: the booked time and the free slots, in ``zone``."""
    booked = None
    if interview.start and interview.end:
        booked = shown(InterviewSlot(start=interview.start, end=interview.end), zone)
    free = [s for s in service.free_slots(interview) if s.start != interview.start]
    return PublicInterview(
        id=interview.id,
        title=interview.title,
        job_title=_job_title(interview),
        duration_minutes=interview.duration_minutes,
        state=interview.state,
        timezone=zone,
        location=interview.location,
        message=interview.message,
        booked=booked,
        free_slots=[shown(s, zone) for s in free] if interview.state != "cancelled" else [],
    )


def _zone(interview: Interview, wanted: str | None) -> str:
    return zone_of(wanted, interview.candidate_timezone or interview.timezone)


def _show(
    call: Call,
    service: InterviewService,
    interview: Interview,
    token: str,
    zone: str,
    *,
    status: int = 200,
    notice: str | None = None,
    problem_text: str | None = None,
    chosen_zone: bool = False,
) -> Response:
    view = view_of(service, interview, zone)
    if not _wants_page(call):
        return json_response(view, status)
    over = bool(interview.state == "booked" and interview.start and moment(interview.start) <= clock.now())
    return _page(
        "careers_interview.html",
        status=status,
        view=view,
        token=token,
        zone=zone,
        zones=zone_groups(),
        chosen_zone=chosen_zone,
        seen=interview.start or "",
        over=over,
        notice=notice,
        problem=problem_text,
    )


@endpoint(
    bp,
    BOOKING_PATH,
    "GET",
    summary="A candidate's interview: the free slots in a zone they pick (?token=&tz=), and their booking",
    tag="careers",
    permission=None,
    errors=(400,),
    answers="negotiated",
    query_doc=BookingQuery,
    response=PublicInterview,
)
def interview_page(call: Call) -> Response:
    query = call.request.query_params or {}
    token = query.get("token")
    service = InterviewService()
    try:
        interview = service.open_link(token)
    except InvalidLink as error:
        return _invalid(call, error)
    wanted = query.get("tz")
    zone = _zone(interview, wanted)
    notice = NOTICES.get(query.get("done") or "")
    return _show(call, service, interview, token or "", zone, notice=notice, chosen_zone=wanted == zone)


@endpoint(
    bp,
    BOOKING_PATH,
    "POST",
    summary="Book a slot, move the booking or cancel, from the candidate's link (a form or JSON)",
    tag="careers",
    permission=None,
    errors=(400, 409, 413, 415, 422),
    answers="negotiated",
    form_body=BookingForm,
    response=PublicInterview,
    redirects=True,
)
def interview_action(call: Call) -> Response:
    fields = request_form(call.request).fields
    flat = {k: (v[0] if isinstance(v, list) and v else v) for k, v in fields.items()}
    service = InterviewService()
    try:
        interview = service.open_link(str(flat.get("token") or "") or None)
    except InvalidLink as error:
        return _invalid(call, error)
    token = str(flat["token"])
    try:
        form = BookingForm.model_validate({k: v for k, v in flat.items() if v != "" or k == "seen"})
    except ValidationError as exc:
        error = ValidationFailed("Some fields are not valid.", errors=validation_errors_from_pydantic(exc))
        return _refused(call, service, interview, token, None, error)
    zone = _zone(interview, form.tz)
    try:
        if form.action == "cancel":
            done = service.cancel(interview.id, by="candidate", actor="candidate")
            what = "cancelled"
        else:
            if not form.slot:
                raise ValidationFailed(
                    "Choose a time.", errors=[{"field": "slot", "message": "choose one of the times"}]
                )
            moved = interview.state == "booked"
            done = service.book(interview.id, form.slot, timezone=zone, seen_start=form.seen)
            what = "moved" if moved else "booked"
    except (SlotTaken, InterviewChanged, InterviewClosed, ValidationFailed) as error:
        return _refused(call, service, interview, token, zone, error)
    if not _wants_page(call):
        return json_response(view_of(service, done, zone))
    location = f"{BOOKING_PATH}?{urlencode({'token': token, 'tz': zone, 'done': what})}"
    return Response(body="", status_code=303, headers={**HEADERS, "Location": location})


def _refused(
    call: Call,
    service: InterviewService,
    interview: Interview,
    token: str,
    zone: str | None,
    error: DomainError,
) -> Response:
    """Nothing was changed: JSON clients get the problem; a person gets the page as it stands now,
    with what went wrong above it (the slot just taken: the others still free are listed)."""
    if not _wants_page(call):
        return problem(error)
    current = service.get(interview.id)
    status = error_page(error).status
    text = error.detail
    if isinstance(error, ValidationFailed) and error.errors:
        text = "; ".join(e["message"] for e in error.errors).capitalize() + "."
    return _show(
        call, service, current, token, zone or _zone(current, None), status=status, problem_text=text
    )
