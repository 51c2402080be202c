"""The career site's events: the list of what is coming, each event's page (with its schema.org
``Event`` data) and registration form, and a registrant's own page (their ticket, cancel).

The form posts to ``POST /public/events/{id}/registrations``, which goes through the same intake
as every public form (one person per email, the same 202 for a new and a known one, the
honeypot, the consent boxes). A browser's form post gets pages (a 303 to the thank-you page, the
form again with each field's error, a page saying registration is closed); any other client
gets the API's answers (202, problem+json: 409 for a closed event, 422 naming each field).
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.public.careers import form_state, typed_values, wants_html
from chalicelib.web.endpoint import Call, LinkToken, endpoint, preflight, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.candidates.models import Received
from crm.events.models import Event, EventRegistrationForm, PublicEvent
from crm.events.schema_org import event_json_ld
from crm.events.service import EventService, RegistrationClosed, closed_because, local_text, when_text
from crm.events.tickets import checkin_token, checkin_url, qr_svg, read_manage_token
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, DomainError, NotFound, ValidationFailed
from crm.platform.signing import InvalidLink

bp = Blueprint(__name__)

REGISTRATION = "/public/events/{event_id}/registrations"
preflight(bp, REGISTRATION)

#: The fields the registration form shows; an error on any other goes above the form.
FIELDS = ("first_name", "last_name", "email", "phone", "marketing_consent", "events_consent")


def _page(template: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(template, **values), status_code=status, headers=dict(PAGE_HEADERS))


def _error_page(error: DomainError) -> Response:
    shown = error_page(error)
    return _page(
        "careers_error.html", shown.status, title=shown.title, detail=error.detail, status_code=shown.status
    )


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def _organizer() -> str:
    name, _ = parseaddr(get_settings().mail_from)
    return name or "Careers"


def _event_page(
    event: Event,
    public: PublicEvent,
    *,
    state: dict[str, Any] | None = None,
    closed: str = "",
    status: int = 200,
) -> Response:
    service = EventService()
    page_url = f"{_base()}/careers/events/{quote(event.id)}"
    json_ld = event_json_ld(
        event, page_url=page_url, organizer_name=_organizer(), organizer_url=f"{_base()}/careers"
    )
    return _page(
        "careers_event.html",
        status,
        event=public,
        when=when_text(event),
        closes=local_text(event, event.closes_at),
        venue=event.venue.one_line() if event.venue and event.mode == "in_person" else "",
        json_ld=json_ld,
        state=state or form_state(shown=FIELDS),
        closed=closed or (closed_because(event, service.now()) or ""),
        kind=event.kind_label,
    )


@endpoint(
    bp,
    "/careers/events",
    "GET",
    summary="The sample career site: the events coming up",
    tag="careers",
    permission=None,
    answers="page",
)
def careers_events(call: Call) -> Response:
    service = EventService()
    upcoming = service.upcoming()
    full = {e.id: e for e in service.get_many([p.id for p in upcoming]).values()}
    rows = [{"event": p, "when": when_text(full[p.id]) if p.id in full else ""} for p in upcoming]
    return _page("careers_events.html", rows=rows)


@endpoint(
    bp,
    "/careers/events/{event_id}",
    "GET",
    summary="The sample career site: one event, its schema.org Event data and its registration form",
    tag="careers",
    permission=None,
    answers="page",
    errors=(404,),
)
def careers_event(call: Call, event_id: str) -> Response:
    try:
        event, public = EventService().public(event_id)
    except DomainError as error:
        return _error_page(error)
    return _event_page(event, public)


@endpoint(
    bp,
    "/careers/events/{event_id}/thanks",
    "GET",
    summary="The sample career site: the page after registering for an event",
    tag="careers",
    permission=None,
    answers="page",
    errors=(404,),
)
def careers_event_thanks(call: Call, event_id: str) -> Response:
    try:
        event, public = EventService().public(event_id)
    except DomainError as error:
        return _error_page(error)
    return _page("careers_event_thanks.html", event=public, when=when_text(event))


def _register(call: Call, event_id: str) -> None:
    decoded = request_form(call.request)
    EventService().register_from_form(
        event_id,
        decoded.fields,
        idempotency_key=call.request.headers.get("idempotency-key"),
        lambda_context=call.request.lambda_context,
    )


@endpoint(
    bp,
    REGISTRATION,
    "POST",
    summary="Register for a published event (a place, or the waitlist when it is full)",
    tag="public",
    permission=None,
    response=Received,
    status=202,
    form=True,
    cors=True,
    answers="negotiated",
    redirects=True,
    form_body=EventRegistrationForm,
    errors=(400, 404, 409, 413, 415, 422),
    description="The same 202 for a new and a known email, and for the honeypot; an email follows (the "
    "place with its calendar invitation and check-in code, or the place in line). A draft is a 404; "
    "a cancelled, finished or started event, or one past its deadline, a 409.",
)
def register_for_event(call: Call, event_id: str) -> Received | Response:
    if not wants_html(call.request):
        _register(call, event_id)
        return Received()
    try:
        _register(call, event_id)
    except RegistrationClosed as closed:
        try:
            event, public = EventService().public(event_id)
        except DomainError as error:
            return _error_page(error)
        return _event_page(event, public, closed=closed.detail, status=409)
    except ValidationFailed as error:
        try:
            event, public = EventService().public(event_id)
        except DomainError as missing:
            return _error_page(missing)
        state = form_state(typed_values(call.request), error.errors, shown=FIELDS)
        return _event_page(event, public, state=state, status=422)
    except DomainError as error:
        return _error_page(error)
    return Response(
        body="", status_code=303, headers={"Location": f"/careers/events/{quote(event_id)}/thanks"}
    )


# ---------------------------------------------------------------------------------- a registrant's page


def _registration_page(event_id: str, token: str | None, *, notice: str = "", status: int = 200) -> Response:
    service = EventService()
    try:
        event = service.get(event_id)
        candidate_id = read_manage_token(token, event_id=event_id, now=service.now())
        registration = service.registration(event_id, candidate_id)
        if registration is None:
            raise InvalidLink("This link no longer works: there is no registration for it.")
    except InvalidLink as error:
        return _page("careers_error.html", 400, title="This link does not work", detail=error.detail)
    except DomainError as error:
        return _error_page(error)
    qr = ""
    if registration.state == "registered" and event.status in ("published", "finished"):
        ticket = checkin_token(event.id, candidate_id, ends_at=event.ends_at)
        qr = qr_svg(checkin_url(event.id, ticket), title=f"Check-in code for {event.name}")
    now = service.now()
    can_cancel = (
        registration.state != "cancelled"
        and not registration.checked_in_at
        and event.status == "published"
        and event.local() > now
    )
    return _page(
        "careers_event_registration.html",
        status,
        event=event,
        when=when_text(event),
        venue=event.venue.one_line() if event.venue and event.mode == "in_person" else "",
        registration=registration,
        position=service.waitlist_position(registration),
        qr=qr,
        join_url=event.join_url if registration.state == "registered" and event.mode == "online" else None,
        token=token,
        can_cancel=can_cancel,
        notice=notice,
        checked_in=local_text(event, registration.checked_in_at) if registration.checked_in_at else "",
    )


@endpoint(
    bp,
    "/careers/events/{event_id}/registration",
    "GET",
    summary="A registrant's own page (the signed link in their emails): their place or place in line, "
    "their check-in code, the join link of an online event, and a button to cancel",
    tag="careers",
    permission=None,
    answers="page",
    query_doc=LinkToken,
    errors=(400, 404),
)
def registration_page(call: Call, event_id: str) -> Response:
    return _registration_page(event_id, (call.request.query_params or {}).get("token"))


@endpoint(
    bp,
    "/careers/events/{event_id}/registration",
    "POST",
    summary="Cancel one's own registration (form: token, action=cancel); the first in line gets the place",
    tag="careers",
    permission=None,
    answers="page",
    errors=(400, 404, 409),
)
def cancel_own_registration(call: Call, event_id: str) -> Response:
    try:
        fields = request_form(
            call.request,
            default_type="application/x-www-form-urlencoded",
            allowed=("application/x-www-form-urlencoded", "multipart/form-data"),
        ).fields
    except DomainError as error:
        return _error_page(error)
    token = fields.get("token")
    token = token[0] if isinstance(token, list) else token
    service = EventService()
    try:
        event = service.get(event_id)
        candidate_id = read_manage_token(token, event_id=event_id, now=service.now())
        if fields.get("action") != "cancel":
            return _registration_page(event_id, token)
        service.cancel_registration(event.id, candidate_id, actor="candidate")
    except InvalidLink as error:
        return _page("careers_error.html", 400, title="This link does not work", detail=error.detail)
    except NotFound as error:
        return _error_page(error)
    except Conflict as error:
        return _registration_page(event_id, token, notice=error.detail, status=409)
    return _registration_page(
        event_id, token, notice="Your registration is cancelled. Thank you for telling us."
    )
