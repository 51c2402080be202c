"""The admin's custom-fields page: define fields for candidates and applications, change a field's
label, options and flags, delete one (its values stay, hidden). Admins only.

The forms use what the JSON API uses: ``CustomFieldCreate``/``CustomFieldPatch`` and ``CustomFields``.
Also the profile's helpers: the form values of a candidate's custom fields, and what a form posts.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, query_value, see_other, text, ui_route
from crm.candidates.models import ApplicationFieldsPatch
from crm.candidates.service import CandidateService
from crm.custom_fields.models import (
    CustomField,
    CustomFieldCreate,
    CustomFieldPatch,
    csv_text,
)
from crm.custom_fields.service import CustomFields
from crm.platform.errors import Conflict, Forbidden, ValidationFailed

bp = Blueprint(__name__)

TYPE_LABELS = {
    "text": "Text",
    "number": "Number",
    "date": "Date",
    "choice": "One of a list",
    "choices": "Several of a list",
    "url": "Link (URL)",
}
ENTITY_LABELS = {"candidate": "Candidates", "application": "Applications"}
NOTICES = {
    "created": "The field is added.",
    "updated": "The field is changed.",
    "deleted": "The field is deleted: it is hidden everywhere; the values stored stay.",
}
BLANK_FORM = {
    "key": "",
    "label": "",
    "entity": "candidate",
    "type": "text",
    "options": "",
    "private": "",
    "required": "",
    "filterable": "",
}


def _admin_only(session: Session) -> None:
    if not session.principal.allows("admin"):
        raise Forbidden("Only admins can define custom fields. Ask an admin if you need one.")


def _options(value: str) -> list[str] | None:
    """The options of a form: one a line."""
    options = [line.strip() for line in value.splitlines() if line.strip()]
    return options or None


def _checked(fields: dict[str, Any], name: str) -> bool:
    return text(fields.get(name)) in ("on", "yes", "true", "1")


def _page(
    session: Session,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    notice: str | None = None,
    problem: str = "",
) -> Response:
    return page(
        "ui_admin_custom_fields.html",
        status=status,
        session=session,
        fields=CustomFields().all(),
        types=TYPE_LABELS,
        entities=ENTITY_LABELS,
        form=form or dict(BLANK_FORM),
        errors=errors or {},
        row_errors=row_errors or {},
        notice=notice,
        problem=problem,
    )


@ui_route(
    "/ui/admin/custom-fields",
    "GET",
    "Admin UI: the custom fields and the form for a new one",
    blueprint=bp,
    errors=(403,),
)
def ui_custom_fields(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    return _page(session, notice=NOTICES.get(query_value(call, "done")))


@ui_route(
    "/ui/admin/custom-fields",
    "POST",
    "Admin UI: define a custom field (form: csrf, key, label, entity, type, options one a line, "
    "private, required, filterable)",
    blueprint=bp,
    errors=(403, 409, 422),
)
def ui_create_custom_field(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    form = {name: text(fields.get(name)) for name in BLANK_FORM}
    data = {
        "key": form["key"],
        "label": form["label"],
        "entity": form["entity"],
        "type": form["type"],
        "options": _options(form["options"]),
        "private": _checked(fields, "private"),
        "required": _checked(fields, "required"),
        "filterable": _checked(fields, "filterable"),
    }
    refused = "The field was not added; see the marked fields."
    try:
        created = CustomFields().create(CustomFieldCreate.model_validate(data))
    except ValidationError as exc:
        return _page(session, status=422, form=form, errors=field_errors(exc), problem=refused)
    except Conflict as exc:
        return _page(session, status=409, form=form, errors={"key": exc.detail}, problem=refused)
    audit(
        call,
        "custom_field.created",
        subject=f"custom_field:{created.key}",
        details={"entity": created.entity, "type": created.type},
        actor=session.principal.actor,
    )
    return see_other(f"/ui/admin/custom-fields?done=created#field-{created.key}")


@ui_route(
    "/ui/admin/custom-fields/{key}",
    "POST",
    "Admin UI: change a custom field (form: csrf, version, label, type, options, private, required, "
    "filterable) or delete it (action=delete)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_change_custom_field(call: Call, session: Session, fields: dict[str, Any], key: str) -> Response:
    _admin_only(session)
    service = CustomFields()
    current = service.get(key)  # an unknown field is the 404 page
    if text(fields.get("action")) == "delete":
        service.delete(key)
        audit(call, "custom_field.deleted", subject=f"custom_field:{key}", actor=session.principal.actor)
        return see_other("/ui/admin/custom-fields?done=deleted")
    data = {
        "version": text(fields.get("version")) or "0",
        "label": text(fields.get("label")),
        "type": text(fields.get("type")) or current.type,
        "options": _options(text(fields.get("options"))) or [],
        "private": _checked(fields, "private"),
        "required": _checked(fields, "required"),
        "filterable": _checked(fields, "filterable"),
    }
    try:
        patch = CustomFieldPatch.model_validate(data)
        _, changed = service.update(key, patch)
    except ValidationError as exc:
        message = "; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())
        return _page(
            session, status=422, row_errors={key: message}, problem=f"Nothing was changed: {message}"
        )
    except ValidationFailed as exc:
        message = "; ".join(e["message"] for e in exc.errors) or exc.detail
        return _page(
            session, status=422, row_errors={key: message}, problem=f"Nothing was changed: {message}"
        )
    except Conflict as exc:
        return _page(
            session, status=409, row_errors={key: exc.detail}, problem=f"Nothing was changed: {exc.detail}"
        )
    if changed:
        audit(
            call,
            "custom_field.updated",
            subject=f"custom_field:{key}",
            details={"fields": ",".join(changed)},
            actor=session.principal.actor,
        )
    return see_other(f"/ui/admin/custom-fields?done=updated#field-{key}")


@ui_route(
    "/ui/candidates/{candidate_id}/applications/{job_id}/custom-fields",
    "POST",
    "Recruiter UI: set an application's custom fields (form: csrf, version, cf_shown, cf.<key>)",
    blueprint=bp,
    errors=(404, 409, 422),
)
def ui_application_fields(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, job_id: str
) -> Response:
    definitions = visible_fields("application", private=True)
    posted = posted_values(fields, definitions)
    labels = {f.key: f.label for f in definitions}
    try:
        checked = CustomFields().validate_values("application", posted, form=True)
        patch = ApplicationFieldsPatch.model_validate(
            {"version": text(fields.get("version")) or "0", "custom_fields": checked}
        )
        CandidateService().update_application_fields(
            candidate_id, job_id, patch, actor=session.principal.actor
        )
    except ValidationFailed as failed:
        said = "; ".join(
            f"{labels.get(str(e['field']).removeprefix('custom_fields.'), e['field'])}: {e['message']}"
            for e in failed.errors or []
        )
        raise ValidationFailed(f"Nothing was saved. {said or failed.detail}") from failed
    except ValidationError as exc:
        raise ValidationFailed("This page is out of date; reload it and try again.") from exc
    return see_other(f"/ui/candidates/{candidate_id}?done=saved#applications")


# ------------------------------------------------------------------ the profile's custom fields


def visible_fields(entity: str, *, private: bool) -> list[CustomField]:
    """The fields a profile shows (private ones to recruiters and admins only)."""
    return [f for f in CustomFields().definitions(entity) if private or not f.private]


def form_values(values: dict[str, Any]) -> dict[str, Any]:
    """A record's values as a form shows them: text, or a list of the chosen options."""
    return {k: (v if isinstance(v, list) else csv_text(v)) for k, v in (values or {}).items()}


def posted_values(fields: dict[str, Any], definitions: list[CustomField]) -> dict[str, Any]:
    """What a profile's form posts for each field (``cf.<key>``), as text (an empty one clears);
    the checkboxes of a several-choices field are a list (none ticked clears). Only the fields the
    form showed (``cf_shown``) are read, so a page older than a new field leaves it alone."""
    out: dict[str, Any] = {}
    shown = fields.get("cf_shown")
    shown_keys = set(shown if isinstance(shown, list) else [shown] if isinstance(shown, str) else [])
    for field in definitions:
        name = f"cf.{field.key}"
        if field.key not in shown_keys:
            continue
        raw = fields.get(name)
        if field.type == "choices":
            chosen = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
            out[field.key] = [str(c) for c in chosen]
        else:
            out[field.key] = text(raw)
    return out


def filter_fields() -> list[CustomField]:
    """The candidate fields a list can be filtered by."""
    return [f for f in CustomFields().definitions("candidate") if f.filterable]
