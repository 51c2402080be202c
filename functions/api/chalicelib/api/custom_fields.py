"""Recruiter and integration API: the custom fields admins define for candidates and applications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ConfigDict

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.candidates.models import Application, ApplicationFieldsPatch, split_application_id
from crm.candidates.service import CandidateService
from crm.custom_fields.models import CustomField, CustomFieldCreate, CustomFieldPatch, Entity
from crm.custom_fields.service import CustomFields
from crm.platform.errors import NotFound
from crm.platform.table import InvalidCursor

bp = Blueprint(__name__)


class CustomFieldQuery(PageQuery):
    """``?entity=candidate|application`` (both when left out), ``limit`` and ``cursor``."""

    model_config = ConfigDict(extra="ignore")

    entity: Entity | None = None


@endpoint(
    bp,
    "/v1/custom-fields",
    "GET",
    summary="The custom fields defined for candidates and applications (oldest first, one page)",
    description="Each field's `key` is its name in `custom_fields` of a candidate, in filters "
    "(`GET /v1/candidates?cf.<key>=<value>`, for `filterable` fields) and in CSV columns "
    "(`cf.<key>`). Types: text, number, date (YYYY-MM-DD), choice (one of `options`), choices "
    "(a list of them), url. `private` values are shown to recruiters, admins and API keys only.",
    tag="custom-fields",
    permission="read",
    query=CustomFieldQuery,
    response=CustomField,
    paginated=True,
)
def list_custom_fields(call: Call) -> dict[str, Any]:
    query: CustomFieldQuery = call.query
    service = CustomFields()
    fields = service.definitions(query.entity) if query.entity else service.all()
    start = 0
    if query.cursor:
        keys = [f.key for f in fields]
        if query.cursor not in keys:
            raise InvalidCursor("The cursor does not belong to this list.")
        start = keys.index(query.cursor) + 1
    chosen = fields[start : start + query.limit]
    more = start + query.limit < len(fields)
    return page(chosen, chosen[-1].key if more and chosen else None)


@endpoint(
    bp,
    "/v1/custom-fields",
    "POST",
    summary="Define a custom field (admins; the key cannot change later)",
    tag="custom-fields",
    permission="admin",
    body=CustomFieldCreate,
    response=CustomField,
    status=201,
    errors=(409,),
)
def create_custom_field(call: Call) -> CustomField:
    field = CustomFields().create(call.body)
    audit(
        call,
        "custom_field.created",
        subject=f"custom_field:{field.key}",
        details={"entity": field.entity, "type": field.type},
    )
    return field


@endpoint(
    bp,
    "/v1/custom-fields/{key}",
    "GET",
    summary="One custom field",
    tag="custom-fields",
    permission="read",
    response=CustomField,
    errors=(404,),
)
def get_custom_field(call: Call, key: str) -> CustomField:
    return CustomFields().get(key)


@endpoint(
    bp,
    "/v1/custom-fields/{key}",
    "PATCH",
    summary="Change a custom field (admins); the body carries the version read",
    description="A stale `version` is a 409, and so is a new `type` for a field whose values are "
    "stored (`in_use`). Removing an option leaves the values already stored as they are.",
    tag="custom-fields",
    permission="admin",
    body=CustomFieldPatch,
    response=CustomField,
    errors=(404, 409),
)
def update_custom_field(call: Call, key: str) -> CustomField:
    field, changed = CustomFields().update(key, call.body)
    if changed:
        audit(
            call, "custom_field.updated", subject=f"custom_field:{key}", details={"fields": ",".join(changed)}
        )
    return field


@endpoint(
    bp,
    "/v1/custom-fields/{key}",
    "DELETE",
    summary="Delete a custom field (admins): it is hidden, the values stored stay, the key is not reused",
    tag="custom-fields",
    permission="admin",
    status=204,
    errors=(404,),
)
def delete_custom_field(call: Call, key: str) -> None:
    CustomFields().delete(key)
    audit(call, "custom_field.deleted", subject=f"custom_field:{key}")


def shown_application(call: Call, application: Application) -> Application:
    """An application as the caller may see it: deleted fields hidden, private ones too from a
    hiring manager."""
    private = not (call.principal is not None and call.principal.team_only)
    values = CustomFields().visible("application", application.custom_fields, private=private)
    return application.model_copy(update={"custom_fields": values})


@endpoint(
    bp,
    "/v1/applications/{application_id}/custom-fields",
    "PATCH",
    summary="Set an application's custom fields (entity application); the body carries its version",
    description="A key left out keeps its value, null clears it; a wrong value is a 422 naming "
    "`custom_fields.<key>`, a stale `version` a 409.",
    tag="custom-fields",
    permission="write",
    body=ApplicationFieldsPatch,
    response=Application,
    errors=(404, 409, 422),
)
def set_application_fields(call: Call, application_id: str) -> Application:
    ids = split_application_id(application_id)
    if ids is None:
        raise NotFound("No such application.")
    candidate_id, job_id = ids
    updated = CandidateService().update_application_fields(candidate_id, job_id, call.body, actor=call.actor)
    return shown_application(call, updated)
