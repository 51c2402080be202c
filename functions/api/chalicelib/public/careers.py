"""The sample career site: server-rendered pages whose plain HTML forms post to the public
endpoints, as a customer's own site would. No JavaScript; every field has a label.

``browser_form`` is the one place where the public POSTs answer a browser: a form post that
prefers ``text/html`` gets a 303 to the thank-you page, or the form again with each field's
error, or an HTML error page. Every other client keeps the API contract (202 JSON and
problem+json) byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chalice import Blueprint, Response

from chalicelib.public.structured_data import job_posting
from chalicelib.web.endpoint import Call, endpoint, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.candidates.models import Received
from crm.jobs.models import PublicJob
from crm.jobs.service import JobService
from crm.platform.errors import DomainError, ValidationFailed
from crm.platform.forms import media_type
from crm.referrals.service import clean_code

bp = Blueprint(__name__)

#: The three career-site forms, as named in ``/careers/thanks?form=...``.
FORMS = ("application", "talent-network", "job-alerts")
#: What an HTML form can send: the two form encodings, and ``text/plain`` (``enctype="text/plain"``),
#: which the endpoints refuse with 415; a browser gets that as a page too.
BROWSER_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
#: The fields each form shows; an error on any other field is shown above the form.
FORM_FIELDS = {
    "application": (
        "first_name",
        "last_name",
        "email",
        "phone",
        "linkedin_url",
        "resume",
        "marketing_consent",
    ),
    "talent-network": (
        "first_name",
        "last_name",
        "email",
        "phone",
        "location",
        "linkedin_url",
        "tags",
        "marketing_consent",
    ),
    "job-alerts": ("first_name", "last_name", "email", "tags", "location"),
}
NOT_ECHOED = ("website", "resume")


# ---------------------------------------------------------------------------------- negotiation


def _quality(accept: str, media: str) -> float:
    """The q-value ``accept`` gives ``media``: the most specific matching range wins."""
    main = media.split("/", 1)[0]
    best, specificity = 0.0, -1
    for part in accept.split(","):
        bits = [b.strip() for b in part.split(";")]
        kind = bits[0].lower()
        rank = {media: 2, f"{main}/*": 1, "*/*": 0}.get(kind)
        if rank is None or rank <= specificity:
            continue
        q = 1.0
        for param in bits[1:]:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        best, specificity = q, rank
    return best


def wants_html(request: Any) -> bool:
    """A browser's form post: a form body, and an Accept that prefers HTML to JSON."""
    if media_type(request.headers.get("content-type")) not in BROWSER_FORM_TYPES:
        return False
    accept = request.headers.get("accept") or ""
    html = _quality(accept, "text/html")
    return html > 0 and html > _quality(accept, "application/json")


def browser_form(
    call: Call, form: str, accept: Callable[[], Received], *, job_id: str | None = None
) -> Received | Response:
    """Run a public POST; answer a browser with pages, anyone else exactly as the API does."""
    if not wants_html(call.request):
        return accept()
    try:
        accept()
    except ValidationFailed as error:
        state = form_state(typed_values(call.request), error.errors, form)
        return _form_page(form, state, job_id, status=error_page(error).status)
    except DomainError as error:
        return _error_page(error_page(error).status, error_page(error).title, error.detail)
    return Response(body="", status_code=303, headers={"Location": f"/careers/thanks?form={form}"})


def typed_values(request: Any) -> dict[str, str]:
    """What the person typed, to put back in the form (never the resume, never the honeypot)."""
    try:
        decoded = request_form(request)
    except DomainError:
        return {}
    return {
        name: ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for name, value in decoded.fields.items()
        if name not in NOT_ECHOED
    }


def form_state(
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    form: str = "",
    *,
    shown: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A form's typed values and its errors by field; errors on no field it shows (``shown``, else
    the career-site form's ``FORM_FIELDS``) go above it."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    shown = FORM_FIELDS.get(form, ()) if shown is None else shown
    for error in errors or []:
        name = str(error.get("field", "")).split(".", 1)[0]
        message = str(error.get("message", "invalid"))
        if name in shown:
            by_field.setdefault(name, []).append(message)
        else:
            general.append(message)
    return {"values": values or {}, "errors": by_field, "general": general}


# ---------------------------------------------------------------------------------- pages


def _page(template: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(template, **values), status_code=status, headers=dict(PAGE_HEADERS))


def _error_page(status: int, title: str, detail: str) -> Response:
    return _page("careers_error.html", status, title=title, detail=detail, status_code=status)


def _form_page(form: str, state: dict[str, Any], job_id: str | None, *, status: int) -> Response:
    ref = clean_code(state["values"].get("referral_code"))
    if form == "application" and job_id is not None:
        try:
            job = JobService().get_open(job_id)
        except DomainError as error:
            return _error_page(error_page(error).status, error_page(error).title, error.detail)
        return _job_page(job, state, status, ref=ref)
    return _page("careers_form.html", status, form=form, state=state, ref=ref)


def _referred(call: Call) -> tuple[str | None, dict[str, Any]]:
    """A page opened through someone's referral link (``?ref=<code>``): the code, and a form state
    whose forms carry it (``referral_code``), so what is sent from them is that person's referral."""
    ref = clean_code((call.request.query_params or {}).get("ref"))
    return ref, form_state({"referral_code": ref} if ref else None)


def _job_page(job: Any, state: dict[str, Any], status: int = 200, *, ref: str | None = None) -> Response:
    """A job's page: its details, the apply form (with ``state``'s values and errors; ``ref``: opened
    through a referral link), and its JobPosting structured data."""
    public = _public(job)
    return _page(
        "careers_job.html", status, job=public, state=state, ref=ref, structured_data=job_posting(public)
    )


def _public(job: Any) -> PublicJob:
    return PublicJob.model_validate(job.model_dump())


@endpoint(
    bp,
    "/careers",
    "GET",
    summary="The sample career site: open jobs, and forms to apply, join and get alerts",
    tag="careers",
    permission=None,
    answers="page",
)
def careers_page(call: Call) -> Response:
    jobs, _ = JobService().list_page(status="open", limit=100, cursor=None)
    ref, state = _referred(call)
    return _page("careers.html", jobs=[_public(j) for j in jobs], state=state, ref=ref)


@endpoint(
    bp,
    "/careers/jobs/{job_id}",
    "GET",
    summary="The sample career site: one open job and its apply form",
    tag="careers",
    permission=None,
    answers="page",
    errors=(404,),
)
def careers_job_page(call: Call, job_id: str) -> Response:
    try:
        job = JobService().get_open(job_id)
    except DomainError as error:
        return _error_page(error_page(error).status, error_page(error).title, error.detail)
    ref, state = _referred(call)
    return _job_page(job, state, ref=ref)


@endpoint(
    bp,
    "/careers/thanks",
    "GET",
    summary="The sample career site: the thank-you page after a form",
    tag="careers",
    permission=None,
    answers="page",
)
def careers_thanks_page(call: Call) -> Response:
    form = (call.request.query_params or {}).get("form")
    return _page("careers_thanks.html", form=form if form in FORMS else None)
