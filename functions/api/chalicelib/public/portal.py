"""Candidate self-service: ask for a portal link, and the portal's server-rendered pages.

The signed token (purpose ``portal``, an hour) is the credential: it arrives in the link's query
string and travels on as a hidden field of every form, so no cookie is needed. Pages carry
``PAGE_HEADERS`` (CSP with no script, no framing, ``Referrer-Policy: no-referrer`` - the token is
in the URL - and ``Cache-Control: no-store``).
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, LinkToken, endpoint, preflight, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.candidates.models import TOPICS, Candidate, Received
from crm.platform.errors import ValidationFailed, VersionConflict
from crm.platform.signing import InvalidLink
from crm.portal import service as portal
from crm.portal.service import PortalLinkRequest

bp = Blueprint(__name__)

PORTAL_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        f"{PAGE_HEADERS['Content-Security-Policy']}; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
FIELDS = (
    {"name": "first_name", "label": "First name", "type": "text", "autocomplete": "given-name"},
    {"name": "last_name", "label": "Last name", "type": "text", "autocomplete": "family-name"},
    {"name": "phone", "label": "Phone (optional)", "type": "tel", "autocomplete": "tel"},
    {"name": "location", "label": "Location (optional)", "type": "text", "autocomplete": "address-level2"},
    {
        "name": "linkedin_url",
        "label": "LinkedIn profile URL (optional)",
        "type": "url",
        "autocomplete": "url",
    },
)
ERRORS = (400, 413, 415, 422)
#: What to tell a person about a field the model refused (the model's own words are for developers).
FIELD_HELP = {
    "first_name": "Enter your first name (at most 100 characters).",
    "last_name": "Enter your last name (at most 100 characters).",
    "phone": "Use digits, spaces and + ( ) . / - only (at most 40 characters).",
    "location": "Use at most 200 characters.",
    "linkedin_url": "Enter the full address, starting with https:// (at most 500 characters).",
}

preflight(bp, "/public/portal/link")


class _PortalForm(BaseModel):
    """What every portal form carries (documentation of the forms; the pages check them)."""

    model_config = ConfigDict(extra="ignore")

    token: str = Field(max_length=4096, description="The signed token from the emailed link.")


class PortalDetailsForm(_PortalForm):
    """``POST /portal/details``: the corrected details, against the version the page showed."""

    version: str = Field(max_length=20, description="The record's version when the page was read.")
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str = Field(default="", max_length=40)
    location: str = Field(default="", max_length=200)
    linkedin_url: str = Field(default="", max_length=500)


class PortalPreferencesForm(_PortalForm):
    """``POST /portal/preferences``: a ticked box (any value but no/off/false/0) grants a topic."""

    marketing: str | None = None
    job_alerts: str | None = None
    events: str | None = None


class PortalEraseForm(_PortalForm):
    """``POST /portal/erase``: ``confirm`` must be ticked."""

    confirm: str | None = None


def _fields(call: Call) -> dict[str, Any]:
    return request_form(call.request).fields


def _query_token(call: Call) -> str | None:
    return (call.request.query_params or {}).get("token")


def _page(name: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(name, **values), status_code=status, headers=PORTAL_HEADERS)


def _open_form(call: Call) -> tuple[dict[str, Any], str, Candidate] | Response:
    """A portal form post: its fields, its token and the candidate it names, or the page that
    explains a bad link."""
    fields = _fields(call)
    token = portal.field_text(fields.get("token")) or _query_token(call) or ""
    try:
        return fields, token, portal.open_portal(token)
    except InvalidLink as error:
        return _invalid(error)


def _invalid(error: InvalidLink) -> Response:
    return _page("portal_invalid.html", status=error_page(error).status, detail=error.detail)


def _home(
    candidate: Candidate,
    token: str,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    problem: str | None = None,
    erase_error: str | None = None,
    version: str | None = None,
) -> Response:
    """The portal page: what we hold, the details form (what was typed, when it had errors),
    email preferences, the download link and the erase form."""
    current = {name: getattr(candidate, name) or "" for name in portal.DETAIL_FIELDS}
    topics = [
        {"topic": t, "label": portal.TOPIC_LABELS[t], "consent": candidate.consents.get(t)} for t in TOPICS
    ]
    return _page(
        "portal_home.html",
        status=status,
        candidate=candidate,
        token=token,
        fields=FIELDS,
        form=form if form is not None else current,
        errors=errors or {},
        topics=topics,
        applications=portal.applications(candidate.id),
        notice=notice,
        problem=problem,
        erase_error=erase_error,
        version=version or str(candidate.version),
    )


# ------------------------------------------------------------------------------- the link


@endpoint(
    bp,
    "/public/portal/link",
    "POST",
    summary="Ask for a link to the candidate portal by email ({email}); the same 202 for any address",
    tag="public",
    permission=None,
    response=Received,
    status=202,
    cors=True,
    errors=ERRORS,
    answers="negotiated",
    form_body=PortalLinkRequest,
)
def request_portal_link(call: Call) -> Any:
    portal.request_link(_fields(call))
    if "text/html" in (call.request.headers.get("accept") or ""):
        return _page("portal_link_sent.html", status=202)
    return Received()


# ------------------------------------------------------------------------------- the portal


@endpoint(
    bp,
    "/portal",
    "GET",
    summary="The candidate portal (HTML; ?token= from the emailed link)",
    tag="portal",
    permission=None,
    errors=(400,),
    answers="page",
    query_doc=LinkToken,
)
def portal_home(call: Call) -> Response:
    token = _query_token(call)
    if token is None:
        # The way in from an email or a career site: ask for a link to one's own data.
        return _page("portal_invalid.html", fresh=True)
    try:
        candidate = portal.open_portal(token)
    except InvalidLink as error:
        return _invalid(error)
    return _home(candidate, token or "")


@endpoint(
    bp,
    "/portal/details",
    "POST",
    summary="Correct one's details (form: token, version, first/last name, phone, location, linkedin_url)",
    tag="portal",
    permission=None,
    errors=(*ERRORS, 409),
    answers="negotiated",  # a body that cannot be read at all is problem+json
    query_doc=LinkToken,
    form_body=PortalDetailsForm,
)
def portal_details(call: Call) -> Response:
    opened = _open_form(call)
    if isinstance(opened, Response):
        return opened
    fields, token, candidate = opened
    typed = {name: portal.field_text(fields.get(name)) for name in portal.DETAIL_FIELDS}
    try:
        updated = portal.update_details(candidate, fields)
    except ValidationFailed as error:
        errors = {e["field"]: FIELD_HELP.get(e["field"], e["message"]) for e in error.errors}
        unplaced = [m for f, m in errors.items() if f not in typed]
        problem = "Some details are missing or invalid; see the marked fields."
        if unplaced:
            problem = "This page is out of date; reload it from your link and try again."
        version = portal.field_text(fields.get("version"))
        return _home(
            candidate, token, status=422, form=typed, errors=errors, problem=problem, version=version
        )
    except VersionConflict:
        latest = portal.open_portal(token)
        return _home(
            latest,
            token,
            status=409,
            problem=(
                "Your details were changed somewhere else after you opened this page, so nothing was "
                "saved. The form now shows the current details: make your corrections again and save."
            ),
        )
    return _home(updated, token, notice="Your details are saved.")


@endpoint(
    bp,
    "/portal/preferences",
    "POST",
    summary="Choose email topics (form: token, and marketing / job_alerts / events checkboxes)",
    tag="portal",
    permission=None,
    errors=ERRORS,
    answers="negotiated",  # a body that cannot be read at all is problem+json
    query_doc=LinkToken,
    form_body=PortalPreferencesForm,
)
def portal_preferences(call: Call) -> Response:
    opened = _open_form(call)
    if isinstance(opened, Response):
        return opened
    fields, token, candidate = opened
    updated = portal.set_preferences(candidate, fields)
    return _home(updated, token, notice="Your email preferences are saved.")


@endpoint(
    bp,
    "/portal/export",
    "GET",
    summary="Download one's data as JSON (?token=)",
    tag="portal",
    permission=None,
    errors=(400,),
    answers="page",
    query_doc=LinkToken,
    success_media="application/json",
)
def portal_export(call: Call) -> Response:
    try:
        candidate = portal.open_portal(_query_token(call))
    except InvalidLink as error:
        return _invalid(error)
    return Response(
        body=json.dumps(portal.export(candidate), indent=2, ensure_ascii=False),
        status_code=200,
        headers={
            **PORTAL_HEADERS,
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="my-data.json"',
        },
    )


@endpoint(
    bp,
    "/portal/erase",
    "POST",
    summary="Erase one's record for good (form: token, confirm)",
    tag="portal",
    permission=None,
    errors=ERRORS,
    answers="negotiated",  # a body that cannot be read at all is problem+json
    query_doc=LinkToken,
    form_body=PortalEraseForm,
)
def portal_erase(call: Call) -> Response:
    opened = _open_form(call)
    if isinstance(opened, Response):
        return opened
    fields, token, candidate = opened
    if not portal.checked(fields.get("confirm")):
        return _home(
            candidate,
            token,
            status=422,
            problem="Nothing was erased: tick the box to confirm.",
            erase_error="Tick this box to confirm that your record should be erased.",
        )
    portal.erase(candidate)
    subject = f"candidate:{candidate.id}"
    audit(call, "candidate.erased", subject=subject, person_id=candidate.id, actor=subject)
    return _page("portal_erased.html")
