"""Recruiter API: email templates (checked at save, rendered in a sandbox) and previews."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.candidates.service import CandidateService
from crm.mailing.templating import check_template, preview_context, render_checked
from crm.templates.models import (
    EmailTemplate,
    PreviewRequest,
    RenderedEmailOut,
    TemplateCreate,
    TemplateUpdate,
)
from crm.templates.service import TemplateService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/templates",
    "GET",
    summary="List email templates",
    tag="engagement",
    permission="read",
    query=PageQuery,
    response=EmailTemplate,
    paginated=True,
)
def list_templates(call: Call) -> dict[str, Any]:
    items, next_cursor = TemplateService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/templates",
    "POST",
    summary="Create an email template (422 naming the part and line if it does not parse)",
    tag="engagement",
    permission="write",
    body=TemplateCreate,
    response=EmailTemplate,
    status=201,
)
def create_template(call: Call) -> EmailTemplate:
    body: TemplateCreate = call.body
    check_template({"subject": body.subject, "html": body.html, "text": body.text})
    return TemplateService().create(body)


@endpoint(
    bp,
    "/v1/templates/{template_id}",
    "GET",
    summary="Get an email template",
    tag="engagement",
    permission="read",
    response=EmailTemplate,
    errors=(404,),
)
def get_template(call: Call, template_id: str) -> EmailTemplate:
    return TemplateService().get(template_id)


@endpoint(
    bp,
    "/v1/templates/{template_id}",
    "PATCH",
    summary="Update an email template; the body carries the version read (a stale one is a 409)",
    tag="engagement",
    permission="write",
    body=TemplateUpdate,
    response=EmailTemplate,
    errors=(404, 409),
)
def update_template(call: Call, template_id: str) -> EmailTemplate:
    body: TemplateUpdate = call.body
    repository = TemplateService()
    current = repository.get(template_id)
    merged = {
        part: getattr(current, part) if getattr(body, part) is None else getattr(body, part)
        for part in ("subject", "html", "text")
    }
    check_template(merged)
    return repository.update(template_id, body)


@endpoint(
    bp,
    "/v1/templates/{template_id}/preview",
    "POST",
    summary="Render the template for a real candidate",
    tag="engagement",
    permission="read",
    body=PreviewRequest,
    response=RenderedEmailOut,
    errors=(404,),
)
def preview_template(call: Call, template_id: str) -> RenderedEmailOut:
    template = TemplateService().get(template_id)
    candidate = CandidateService().get(call.body.candidate_id)
    rendered = render_checked(
        {"subject": template.subject, "html": template.html, "text": template.text},
        preview_context(candidate.model_dump()),
    )
    return RenderedEmailOut(subject=rendered.subject, html=rendered.html, text=rendered.text)
