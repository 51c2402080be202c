"""The OpenAPI document with the custom fields defined now (custom_fields slice): each field is a
property of a candidate's ``custom_fields`` object (in the record, its creation and its patch), and
each filterable one a ``cf.<key>`` query parameter of ``GET /v1/candidates``."""

from __future__ import annotations

import copy
import logging
from typing import Any

from crm.custom_fields.models import MAX_TEXT, CustomField
from crm.custom_fields.service import CustomFields

log = logging.getLogger("crm.api")

#: A number as a query string gives it.
NUMBER_TEXT = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


def value_schema(field: CustomField) -> dict[str, Any]:
    """The JSON Schema of one field's value."""
    schemas: dict[str, dict[str, Any]] = {
        "text": {"type": "string", "maxLength": MAX_TEXT},
        "number": {"type": "number", "exclusiveMinimum": -1e15, "exclusiveMaximum": 1e15},
        "date": {"type": "string", "format": "date"},
        "choice": {"type": "string", "enum": field.options},
        "choices": {"type": "array", "items": {"type": "string", "enum": field.options}},
        "url": {"type": "string", "format": "uri", "maxLength": 500},
    }
    schema = dict(schemas[field.type])
    schema["title"] = field.label
    schema["description"] = (
        f"{field.type}{' (private: recruiters, admins and API keys only)' if field.private else ''}"
    )
    return schema


def with_custom_fields(document: dict[str, Any], fields: list[CustomField] | None = None) -> dict[str, Any]:
    """A copy of ``document`` describing the candidates' custom fields (``fields``: those defined)."""
    if fields is None:
        try:
            fields = CustomFields().definitions("candidate")
        except Exception:  # the document itself never fails: it then describes the object only
            log.warning("custom fields could not be read for the OpenAPI document", exc_info=True)
            fields = []
    defined = fields
    if not defined:
        return document
    out = copy.deepcopy(document)
    schemas = out.get("components", {}).get("schemas", {})
    for name, nullable in (("Candidate", False), ("CandidateCreate", False), ("CandidatePatch", True)):
        prop = schemas.get(name, {}).get("properties", {}).get("custom_fields")
        if prop is None:
            continue
        target = next((b for b in prop.get("anyOf", []) if b.get("type") == "object"), prop)
        target["properties"] = {
            f.key: ({"anyOf": [value_schema(f), {"type": "null"}]} if nullable else value_schema(f))
            for f in defined
        }
        if name != "Candidate":
            target["additionalProperties"] = False
    listing = out.get("paths", {}).get("/v1/candidates", {}).get("get")
    if listing is not None:
        for f in defined:
            if f.filterable:
                schema = value_schema(f)
                if f.type == "choices":
                    schema = dict(schema["items"], title=f.label)
                listing.setdefault("parameters", []).append(
                    {
                        "name": f"cf.{f.key}",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": NUMBER_TEXT}
                        if f.type == "number"
                        else schema,
                        "description": f"Custom field {f.label}: records holding this value.",
                    }
                )
    return out
