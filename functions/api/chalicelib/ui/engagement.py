"""The recruiter UI: email templates (with live preview) and campaigns.

Templates are checked as ``POST /v1/templates`` checks them (``crm.mailing.templating.check_template``),
so a template that does not parse is a 422 naming the part and line, shown next to that field.
The preview renders the typed, unsaved parts for a sample candidate; the rendered HTML is shown
in a sandboxed ``<iframe srcdoc>`` (no scripts, an opaque origin) so an email can neither run
script nor style this page. Without JavaScript a second submit button re-renders the edit page
with the preview; with ``/ui/static/ui.js`` the preview follows typing (``X-Preview: fragment``
returns only the preview region). Campaigns are created with ``CampaignCreate`` and launched
now or at a time (UTC) through ``crm.campaigns.service``; the campaign page shows the audience
size before launch and the live stats (``X-Fragment: stats`` returns only the stats region).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.endpoint import SECURITY_HEADERS, Call, endpoint
from chalicelib.web.pages import render_page
from chalicelib.web.ui import UI_HEADERS, Session, page, paging, query_value, see_other, text, ui_route
from crm.campaigns.models import Campaign, CampaignCreate
from crm.campaigns.service import CampaignService
from crm.events.service import EventService
from crm.mailing.templating import SAMPLE_CONTEXT, check_template, render_checked
from crm.platform.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
    VersionConflict,
    validation_errors_from_pydantic,
)
from crm.pools.service import PoolService
from crm.templates.models import EmailTemplate, TemplateCreate, TemplateUpdate
from crm.templates.service import TemplateService

bp = Blueprint(__name__)

PAGE_SIZE = 25
CHOICES = 100  # templates and pools offered in the campaign form
STATIC = Path(__file__).parents[1] / "static"
STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(js|css|svg)$")
#: The media type of each kind of static file.
STATIC_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
}
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TEMPLATE_PARTS = ("name", "subject", "html", "text")
#: A template's form may be as large as its longest valid parts (two of 100,000 characters, each
#: up to 12 bytes once percent-encoded): about 2.4 MB.
TEMPLATE_FORM_BYTES = 3 * 1024 * 1024
CAMPAIGN_FIELDS = ("name", "template_id", "pool", "tags", "source", "event", "attendance")
STATS = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "suppressed", "failed")
NOTICES = {
    "created": "The template is saved.",
    "saved": "The changes are saved.",
    "campaign": "The campaign is saved as a draft. Check the audience, then launch it.",
    "launched": "The campaign is launched: it is being sent now.",
    "scheduled": "The campaign is scheduled.",
    "cancelled": "The campaign is cancelled: nothing will be sent.",
}


def _id(value: str, what: str) -> str:
    """A path id: one the API could have made, else a 404 (never a malformed key sent to the table)."""
    if not ID.match(value):
        raise NotFound(f"No {what} with id {value[:64]}.")
    return value


def _notice(call: Call, session: Session | None = None) -> str | None:
    done = (call.request.query_params or {}).get("done") or ""
    if done == "test" and session is not None:
        return f"Test sent to {session.who}."
    return NOTICES.get(done)


def _fragment(name: str, status: int = 200, **values: Any) -> Response:
    """Part of a page (no layout), for the page's own script to put in place."""
    return Response(body=render_page(name, **values), status_code=status, headers=UI_HEADERS)


def _field_errors(errors: list[dict[str, str]], known: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in errors:
        name = e["field"].removeprefix("audience.").split(".")[0]
        out.setdefault(name if name in known else "form", e["message"])
    return out


# ------------------------------------------------------------------------------- static files


@endpoint(
    bp,
    "/ui/static/{name}",
    "GET",
    summary="Recruiter UI: its style sheet, icon and small scripts (the pages work without the scripts)",
    tag="ui",
    permission=None,
    errors=(404,),
    success_media="text/javascript",
)
def ui_static(call: Call, name: str) -> Response:
    path = STATIC / name
    if not STATIC_NAME.match(name) or not path.is_file():
        raise NotFound("There is no such file.")
    return _static_file(path, max_age=300)


def _static_file(path: Path, *, max_age: int) -> Response:
    """One of the UI's own files, typed by its extension, cached ``max_age`` seconds."""
    return Response(
        body=path.read_text(encoding="utf-8"),
        status_code=200,
        headers={
            **SECURITY_HEADERS,
            "Content-Type": STATIC_TYPES[path.suffix.lstrip(".")],
            "Cache-Control": f"public, max-age={max_age}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@endpoint(
    bp,
    "/favicon.ico",
    "GET",
    summary="The product's icon, where a browser looks for it by default (an SVG, as /ui/static/favicon.svg)",
    tag="ui",
    permission=None,
    success_media="image/svg+xml",
)
def favicon(call: Call) -> Response:
    return _static_file(STATIC / "favicon.svg", max_age=86400)


# ------------------------------------------------------------------------------- templates


@ui_route("/ui/templates", "GET", "Recruiter UI: email templates (?cursor)", blueprint=bp)
def ui_templates(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    cursor = query_value(call, "cursor") or None
    items, next_cursor = TemplateService().list_page(limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_templates.html", session=session, items=items, **paging("/ui/templates", cursor, next_cursor)
    )


def _typed(fields: dict[str, Any]) -> dict[str, str]:
    return {part: text(fields.get(part)) for part in TEMPLATE_PARTS}


def _preview(form: dict[str, str]) -> dict[str, Any]:
    """The typed parts rendered for the sample candidate, or the reasons they cannot be."""
    parts = {part: form.get(part, "") for part in ("subject", "html", "text")}
    try:
        TemplateCreate.model_validate({**parts, "name": "preview"})
        check_template(parts)
        rendered = render_checked(parts, SAMPLE_CONTEXT)
    except ValidationError as exc:
        return {"errors": _field_errors(validation_errors_from_pydantic(exc), TEMPLATE_PARTS)}
    except ValidationFailed as error:
        return {"errors": _field_errors(error.errors, TEMPLATE_PARTS) or {"form": error.detail}}
    return {"errors": {}, "subject": rendered.subject, "html": rendered.html, "text": rendered.text}


def _editor(
    session: Session,
    *,
    template: EmailTemplate | None,
    form: dict[str, str],
    status: int = 200,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    version: str = "",
    preview: dict[str, Any] | None = None,
) -> Response:
    return page(
        "ui_template.html",
        status=status,
        session=session,
        template=template,
        form=form,
        errors=errors or {},
        problem=problem,
        notice=notice,
        version=version,
        preview=preview,
        sample=SAMPLE_CONTEXT,
    )


def _form_of(template: EmailTemplate) -> dict[str, str]:
    return {part: str(getattr(template, part)) for part in TEMPLATE_PARTS}


@ui_route("/ui/templates/new", "GET", "Recruiter UI: write a new email template", blueprint=bp)
def ui_new_template(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = {"name": "", "subject": "", "html": "", "text": ""}
    return _editor(session, template=None, form=form)


def _invalid(exc: ValidationError | ValidationFailed) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return _field_errors(validation_errors_from_pydantic(exc), (*TEMPLATE_PARTS, "version"))
    return _field_errors(exc.errors, TEMPLATE_PARTS) or {"form": exc.detail}


PROBLEM = "The template cannot be saved as it is; see the marked fields."


@ui_route(
    "/ui/templates",
    "POST",
    "Recruiter UI: create an email template (form: csrf, name, subject, html, text)",
    blueprint=bp,
    errors=(403, 422),
    max_form_bytes=TEMPLATE_FORM_BYTES,
)
def ui_create_template(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = _typed(fields)
    try:
        data = TemplateCreate.model_validate(form)
        check_template({"subject": data.subject, "html": data.html, "text": data.text})
    except (ValidationError, ValidationFailed) as exc:
        errors = _invalid(exc)
        return _editor(session, template=None, form=form, status=422, errors=errors, problem=PROBLEM)
    created = TemplateService().create(data)
    return see_other(f"/ui/templates/{created.id}?done=created")


@ui_route(
    "/ui/templates/preview",
    "POST",
    "Recruiter UI: preview typed template parts for a sample candidate (form: csrf, template_id, "
    "version, name, subject, html, text); with X-Preview: fragment only the preview region",
    blueprint=bp,
    errors=(403, 404, 422),
    max_form_bytes=TEMPLATE_FORM_BYTES,
)
def ui_preview_template(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = _typed(fields)
    preview = _preview(form)
    if (call.request.headers.get("x-preview") or "").strip().lower() == "fragment":
        return _fragment("ui_template_preview.html", preview=preview, sample=SAMPLE_CONTEXT)
    template_id = text(fields.get("template_id"))
    template = TemplateService().get(_id(template_id, "template")) if template_id else None
    return _editor(
        session,
        template=template,
        form=form,
        status=422 if preview["errors"] else 200,
        errors=preview["errors"],
        version=text(fields.get("version")),
        preview=preview,
    )


@ui_route(
    "/ui/templates/{template_id}", "GET", "Recruiter UI: edit an email template", blueprint=bp, errors=(404,)
)
def ui_template(call: Call, session: Session, fields: dict[str, Any], template_id: str) -> Response:
    template = TemplateService().get(_id(template_id, "template"))
    form = _form_of(template)
    return _editor(
        session,
        template=template,
        form=form,
        notice=_notice(call),
        version=str(template.version),
        preview=_preview(form),
    )


@ui_route(
    "/ui/templates/{template_id}",
    "POST",
    "Recruiter UI: save an email template (form: csrf, version, name, subject, html, text)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
    max_form_bytes=TEMPLATE_FORM_BYTES,
)
def ui_save_template(call: Call, session: Session, fields: dict[str, Any], template_id: str) -> Response:
    repository = TemplateService()
    template = repository.get(_id(template_id, "template"))
    form = _typed(fields)
    version = text(fields.get("version"))
    try:
        data = TemplateUpdate.model_validate({**form, "version": version or None})
        check_template({"subject": form["subject"], "html": form["html"], "text": form["text"]})
    except (ValidationError, ValidationFailed) as exc:
        errors = _invalid(exc)
        problem = PROBLEM
        if "version" in errors:
            problem = "This page is out of date; reload it and try again."
        return _editor(
            session, template=template, form=form, status=422, errors=errors, problem=problem, version=version
        )
    try:
        repository.update(template_id, data)
    except VersionConflict:
        current = repository.get(template_id)
        return _editor(
            session,
            template=current,
            form=_form_of(current),
            status=409,
            problem=(
                "Someone else changed this template after you opened it, so nothing was saved. The form "
                "now shows the current version: make your changes again and save."
            ),
            version=str(current.version),
            preview=_preview(_form_of(current)),
        )
    return see_other(f"/ui/templates/{template_id}?done=saved")


# ------------------------------------------------------------------------------- campaigns


@ui_route("/ui/campaigns", "GET", "Recruiter UI: campaigns, newest first (?cursor)", blueprint=bp)
def ui_campaigns(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    cursor = query_value(call, "cursor") or None
    items, next_cursor = CampaignService().list_page(limit=PAGE_SIZE, cursor=cursor)
    return page(
        "ui_campaigns.html",
        session=session,
        items=items,
        stats=STATS,
        **paging("/ui/campaigns", cursor, next_cursor),
    )


def _campaign_form(
    session: Session,
    *,
    form: dict[str, str],
    status: int = 200,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    repository = TemplateService()
    templates, _ = repository.list_page(limit=CHOICES, cursor=None)
    chosen = form.get("template_id") or ""
    if ID.match(chosen) and chosen not in {t.id for t in templates}:
        with contextlib.suppress(NotFound):  # beyond the first page of choices: still offered, chosen
            templates.insert(0, repository.get(chosen))
    pools, _ = PoolService().list_page(limit=CHOICES, cursor=None)
    return page(
        "ui_campaign_new.html",
        status=status,
        session=session,
        form=form,
        errors=errors or {},
        problem=problem,
        templates=templates,
        pools=pools,
        events=EventService().list_page(status=None, limit=CHOICES, cursor=None)[0],
    )


@ui_route("/ui/campaigns/new", "GET", "Recruiter UI: a new campaign (?template_id)", blueprint=bp)
def ui_new_campaign(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = dict.fromkeys(CAMPAIGN_FIELDS, "")
    form["template_id"] = ((call.request.query_params or {}).get("template_id") or "").strip()
    return _campaign_form(session, form=form)


@ui_route(
    "/ui/campaigns",
    "POST",
    "Recruiter UI: create a draft campaign (form: csrf, name, template_id, pool, tags, source)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_create_campaign(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = {name: text(fields.get(name)) for name in CAMPAIGN_FIELDS}
    audience = {"pool": form["pool"] or None, "tags": form["tags"], "source": form["source"] or None}
    if form["event"]:
        audience.update(event=form["event"], attendance=form["attendance"] or None)
    try:
        data = CampaignCreate.model_validate(
            {"name": form["name"], "template_id": form["template_id"], "audience": audience}
        )
        created = CampaignService().create(data)
    except ValidationError as exc:
        errors = _field_errors(validation_errors_from_pydantic(exc), CAMPAIGN_FIELDS)
    except ValidationFailed as error:
        errors = _field_errors(error.errors, CAMPAIGN_FIELDS) or {"form": error.detail}
    else:
        return see_other(f"/ui/campaigns/{created.id}?done=campaign")
    problem = "The campaign cannot be saved as it is; see the marked fields."
    return _campaign_form(session, form=form, status=422, errors=errors, problem=problem)


def _template_of(campaign: Campaign) -> EmailTemplate | None:
    try:
        return TemplateService().get(campaign.template_id)
    except NotFound:
        return None


def _campaign_page(
    call: Call,
    session: Session,
    campaign_id: str,
    *,
    status: int = 200,
    problem: str | None = None,
    launch_error: str | None = None,
    launch_values: dict[str, str] | None = None,
) -> Response:
    campaign = CampaignService().get(_id(campaign_id, "campaign"))
    if (call.request.headers.get("x-fragment") or "").strip().lower() == "stats":
        return _fragment("ui_campaign_stats.html", campaign=campaign, stats=STATS)
    event = None
    if campaign.audience.event:
        with contextlib.suppress(NotFound):
            event = EventService().get(campaign.audience.event)
    pool = None
    if campaign.audience.pool:
        try:
            pool = PoolService().get(campaign.audience.pool)
        except NotFound:
            pool = None
    return page(
        "ui_campaign.html",
        status=status,
        session=session,
        campaign=campaign,
        template=_template_of(campaign),
        pool=pool,
        event=event,
        audience=CampaignService().audience_size(campaign) if campaign.status == "draft" else None,
        stats=STATS,
        notice=_notice(call, session) if status == 200 else None,
        problem=problem,
        launch_error=launch_error,
        launch_values=launch_values or {"when": "now", "send_at": ""},
    )


@ui_route(
    "/ui/campaigns/{campaign_id}",
    "GET",
    "Recruiter UI: a campaign, its audience size and live stats; with X-Fragment: stats only the stats",
    blueprint=bp,
    errors=(404,),
)
def ui_campaign(call: Call, session: Session, fields: dict[str, Any], campaign_id: str) -> Response:
    return _campaign_page(call, session, campaign_id)


@ui_route(
    "/ui/campaigns/{campaign_id}/launch",
    "POST",
    "Recruiter UI: launch a campaign now or at a time (form: csrf, when=now|later, send_at in UTC)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_launch_campaign(call: Call, session: Session, fields: dict[str, Any], campaign_id: str) -> Response:
    _id(campaign_id, "campaign")
    values = {"when": text(fields.get("when")) or "now", "send_at": text(fields.get("send_at"))}
    send_at: datetime | None = None
    if values["when"] == "later":
        try:
            send_at = datetime.fromisoformat(values["send_at"])
            send_at = send_at.replace(tzinfo=UTC) if send_at.tzinfo is None else send_at.astimezone(UTC)
        except (ValueError, OverflowError):
            return _campaign_page(
                call,
                session,
                campaign_id,
                status=422,
                launch_error="Choose the date and time to send at (UTC).",
                launch_values=values,
            )
    elif values["when"] == "now" and values["send_at"] and text(fields.get("confirm")) != "yes":
        # A time was typed but "Now" is chosen: ask before sending now to everyone.
        campaign = CampaignService().get(campaign_id)
        if campaign.status == "draft":
            return page(
                "ui_campaign_confirm.html",
                session=session,
                campaign=campaign,
                audience=CampaignService().audience_size(campaign),
                send_at=values["send_at"],
            )
    elif values["when"] != "now":
        return _campaign_page(
            call,
            session,
            campaign_id,
            status=422,
            launch_error="Choose whether to send now or later.",
            launch_values=values,
        )
    try:
        launched = CampaignService().launch(campaign_id, at=send_at, now=send_at is None)
    except ValidationFailed:
        return _campaign_page(
            call,
            session,
            campaign_id,
            status=422,
            launch_error="That time has passed: choose a time in the future (UTC).",
            launch_values=values,
        )
    campaign = launched.campaign
    if not launched.launched:
        problem = f"The campaign was already launched (it is {campaign.status})."
        return _campaign_page(call, session, campaign_id, status=409, problem=problem)
    done = "scheduled" if campaign.status == "scheduled" else "launched"
    return see_other(f"/ui/campaigns/{campaign_id}?done={done}")


@ui_route(
    "/ui/campaigns/{campaign_id}/cancel",
    "POST",
    "Recruiter UI: cancel a scheduled (or draft) campaign (form: csrf); its scheduled send never happens",
    blueprint=bp,
    errors=(403, 404, 409),
)
def ui_cancel_campaign(call: Call, session: Session, fields: dict[str, Any], campaign_id: str) -> Response:
    _id(campaign_id, "campaign")
    try:
        CampaignService().cancel(campaign_id)
    except Conflict as error:
        return _campaign_page(call, session, campaign_id, status=409, problem=error.detail)
    return see_other(f"/ui/campaigns/{campaign_id}?done=cancelled")


@ui_route(
    "/ui/campaigns/{campaign_id}/test",
    "POST",
    "Recruiter UI: send the campaign's email to yourself, with sample values (form: csrf)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_test_campaign(call: Call, session: Session, fields: dict[str, Any], campaign_id: str) -> Response:
    _id(campaign_id, "campaign")
    try:
        CampaignService().send_test(campaign_id, to=session.principal.email, candidate_id=None)
    except Conflict as error:
        return _campaign_page(call, session, campaign_id, status=409, problem=error.detail)
    except ValidationFailed as error:
        detail = "; ".join(e["message"] for e in error.errors) or error.detail
        problem = f"The test email was not sent: {detail}"
        return _campaign_page(call, session, campaign_id, status=422, problem=problem)
    return see_other(f"/ui/campaigns/{campaign_id}?done=test")
