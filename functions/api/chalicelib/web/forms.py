"""Request bodies as the web layer reads them: a route's JSON body within its size limit and
validated strictly as its schema says, a form (JSON, urlencoded or multipart) within the configured
sizes, and the largest valid body of a model (from its JSON Schema)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from crm.platform.config import get_settings
from crm.platform.errors import UnsupportedMediaType, ValidationFailed, validation_errors_from_pydantic
from crm.platform.forms import FORM_TYPES, DecodedBody, decode_form, decode_json_object, media_type

#: Lambda's synchronous payload limit: no body can be larger in AWS.
PLATFORM_MAX_BODY = 6 * 1024 * 1024


@cache
def body_limit(model: type[BaseModel]) -> int:
    """The largest body of ``model`` as compact JSON (every character escaped, the worst case),
    plus room for whitespace; at most what the platform accepts. Unbounded models get the
    platform's limit."""
    schema = model.model_json_schema()
    bound = json_size_bound(schema, schema.get("$defs", {}))
    if bound is None:
        return PLATFORM_MAX_BODY
    return min(PLATFORM_MAX_BODY, bound + bound // 10 + 1024)


#: The longest text of an ISO 8601 time pydantic reads (with a fraction and an offset).
_DATE_TIME_BYTES = 64


def json_size_bound(schema: dict[str, Any], defs: dict[str, Any]) -> int | None:  # noqa: C901
    """An upper bound of the JSON text of any value ``schema`` accepts (None: no bound)."""
    if "$ref" in schema:
        return json_size_bound(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches and "properties" not in schema:
        sizes = [json_size_bound(b, defs) for b in branches]
        return None if any(s is None for s in sizes) else max(s for s in sizes if s is not None)
    if "enum" in schema:
        return max(len(json.dumps(v)) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        if "maxLength" in schema:
            return 2 + 12 * int(schema["maxLength"])  # an astral character escaped: 12 bytes
        return _DATE_TIME_BYTES if schema.get("format") == "date-time" else None
    if kind in ("integer", "number"):
        return 25
    if kind in ("boolean", "null"):
        return 5
    if kind == "array":
        items = json_size_bound(schema.get("items", {}), defs)
        if items is None or "maxItems" not in schema:
            return None
        return 2 + int(schema["maxItems"]) * (items + 1)
    if kind == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return None
        total = 2
        for name, prop in schema.get("properties", {}).items():
            size = json_size_bound(prop, defs)
            if size is None:
                return None
            total += len(json.dumps(name)) + 1 + size + 1
        return total
    return None


def validate(model: type[BaseModel], data: Any, *, what: str = "body") -> Any:
    """``data`` as ``model``. A JSON body is checked strictly, as its JSON Schema says: ``"1"`` is
    not a number there. A query string is text, so its values are converted."""
    try:
        if what == "body":
            return model.model_validate_json(json.dumps(data), strict=True)
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors_from_pydantic(exc)
        if what != "body":
            for e in errors:
                e["field"] = e["field"] if e["field"] != "body" else what
        raise ValidationFailed("Some fields are missing or invalid.", errors=errors) from exc


def request_body(request: Any) -> bytes:
    raw = request.raw_body
    return raw if isinstance(raw, bytes) else (raw or "").encode()


def request_form(
    request: Any,
    *,
    default_type: str | None = None,
    allowed: tuple[str, ...] = FORM_TYPES,
    max_bytes: int | None = None,
) -> DecodedBody:
    """A form body (JSON, urlencoded or multipart, as ``allowed``), within the configured sizes
    (``max_bytes`` raises the JSON and urlencoded limit for a form with long fields)."""
    settings = get_settings()
    return decode_form(
        request.headers.get("content-type") or default_type,
        request_body(request),
        max_form_bytes=max(settings.max_form_bytes, max_bytes or 0),
        max_multipart_bytes=max(settings.max_multipart_bytes, max_bytes or 0),
        allowed=allowed,
    )


def json_body(request: Any, *, max_bytes: int | None = None) -> dict[str, Any]:
    kind = media_type(request.headers.get("content-type"))
    if kind and kind != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    return decode_json_object(request_body(request), max_bytes=max_bytes or get_settings().max_form_bytes)
