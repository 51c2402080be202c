"""The OpenAPI 3.1 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.web.endpoint import ROUTE_DOCS, RouteDoc
from crm.candidates.models import PublicSubmission

REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

ERROR_TEXT = {
    303: "See other: a page to go to (sign-in, or the page after a form)",
    400: "Malformed body or query",
    401: "No or invalid credentials",
    403: "Authenticated but not allowed",
    404: "Not found",
    409: "Conflict (duplicate or stale version)",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Rate limited",
}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is list:
        (inner,) = get_args(annotation)
        return _model_of(inner)
    return None


def _models(docs: list[RouteDoc]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"PublicSubmission": PublicSubmission}
    for doc in docs:
        for candidate in (doc.body, doc.form_body, _model_of(doc.response)):
            if candidate is not None:
                found[candidate.__name__] = candidate
    return list(found.values())


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _response_schema(doc: RouteDoc) -> dict[str, Any] | None:
    model = _model_of(doc.response)
    if model is None:
        return None
    if doc.paginated:
        return {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": _ref(model)},
                "next_cursor": {"type": ["string", "null"]},
            },
        }
    if get_origin(doc.response) is list:
        return {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref(model)}},
        }
    return _ref(model)


def _parameters(doc: RouteDoc) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", doc.path)
    ]
    for query in (doc.query, doc.query_doc):
        if query is None:
            continue
        schema = query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "schema": prop,
                    "description": prop.get("description", ""),
                }
            )
    if doc.form:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "Makes a retried POST a no-op.",
            }
        )
    return params


def _request_body(doc: RouteDoc) -> dict[str, Any] | None:
    if doc.body is not None:
        return {
            "required": not doc.body_optional,
            "content": {"application/json": {"schema": _ref(doc.body)}},
        }
    if doc.file_part is not None:
        part = {"type": "string", "contentMediaType": "application/octet-stream"}
        return {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [doc.file_part],
                        "properties": {
                            doc.file_part: {**part, "description": "PDF, DOC or DOCX, at most 5 MB"}
                        },
                    }
                }
            },
        }
    if doc.form_body is None and not doc.form:
        return None
    model = doc.form_body or PublicSubmission
    schema = _ref(model)
    form = {"$ref": REF.format(model=form_name(model))}  # a form field cannot be null
    multipart: dict[str, Any] = form
    if doc.form and doc.form_body is None:
        multipart = {
            "allOf": [
                form,
                {
                    "type": "object",
                    "properties": {
                        "resume": {
                            "type": "string",
                            "contentMediaType": "application/pdf",
                            "description": "PDF, DOC or DOCX, at most 5 MB",
                        }
                    },
                },
            ]
        }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": form},
            "multipart/form-data": {"schema": multipart},
        },
    }


def form_name(model: type[BaseModel]) -> str:
    return f"{model.__name__}Form"


#: How a form leaves an optional field out: an empty (or blank) value.
BLANK = {"type": "string", "pattern": r"^\s*$"}


def without_nulls(schema: Any) -> Any:
    """A JSON Schema as a form encoding reads it: no field can be ``null``; an empty (or blank)
    field is how a form leaves an optional value out."""
    if isinstance(schema, list):
        return [without_nulls(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: without_nulls(v) for k, v in schema.items() if not (k == "default" and v is None)}
    branches = out.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        out["anyOf"] = [b for b in branches if b not in ({"type": "null"}, BLANK)] + [BLANK]
    return out


def _path_slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "root"


PROBLEM = {"schema": {"$ref": REF.format(model="Problem")}}
HTML: dict[str, Any] = {"schema": {"type": "string"}}


def _success(doc: RouteDoc) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success"}
    if doc.status in (204, 302, 303):
        if doc.status != 204:
            success["headers"] = {"Location": {"schema": {"type": "string"}}}
        return success
    schema = _response_schema(doc)
    content: dict[str, Any] = {}
    if doc.success_media:
        if schema is None and doc.success_media == "application/json":
            schema = {"type": "object"}
        content[doc.success_media] = {"schema": schema} if schema else {}
    elif doc.answers == "page":
        content["text/html"] = HTML
    elif doc.answers == "negotiated":
        if schema:
            content["application/json"] = {"schema": schema}
        content["text/html"] = HTML
    else:
        content["application/json"] = {"schema": schema} if schema else {}
    success["content"] = content
    return success


def _error(doc: RouteDoc, code: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": ERROR_TEXT.get(code, "Error")}
    if code == 303:
        response["headers"] = {"Location": {"schema": {"type": "string"}}}
        return response
    if doc.answers == "page":
        response["content"] = {"text/html": HTML}
    elif doc.answers == "negotiated":
        response["content"] = {"application/problem+json": PROBLEM, "text/html": HTML}
    else:
        response["content"] = {"application/problem+json": PROBLEM}
    return response


def _operation(doc: RouteDoc) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "tags": [doc.tag],
        "operationId": f"{doc.method.lower()}_{_path_slug(doc.path)}",
        "parameters": _parameters(doc),
    }
    if doc.description:
        operation["description"] = doc.description
    body = _request_body(doc)
    if body:
        operation["requestBody"] = body
    responses: dict[str, Any] = {str(doc.status): _success(doc)}
    codes = set(doc.errors)
    if doc.permission is not None:
        codes |= {401, 403}
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
        operation["x-permission"] = doc.permission
    else:
        operation["security"] = []
    if doc.body is not None or doc.form or doc.form_body is not None or doc.file_part is not None:
        codes |= {400, 413, 415, 422}
    if doc.query is not None:
        codes |= {400, 422}
    if doc.redirects:
        codes.add(303)
    for code in sorted(codes - {doc.status}):
        responses[str(code)] = _error(doc, code)
    operation["responses"] = responses
    return operation


def document(served: Iterable[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The OpenAPI document of the routes ``served`` (path, method), by default of every declared
    route. The app passes its own routes, so a blueprint that was imported but not registered (the
    local stack's /dev tools, outside ``crm dev``) is never documented."""
    return _document(None if served is None else frozenset((p, m.upper()) for p, m in served))


@lru_cache(maxsize=4)
def _document(served: frozenset[tuple[str, str]] | None) -> dict[str, Any]:
    docs = [d for d in ROUTE_DOCS if served is None or (d.path, d.method.upper()) in served]
    paths: dict[str, dict[str, Any]] = {}
    for doc in docs:
        paths.setdefault(doc.path, {})[doc.method.lower()] = _operation(doc)
    _, schemas = models_json_schema([(m, "validation") for m in _models(docs)], ref_template=REF)
    components = dict(schemas.get("$defs", {}))
    for doc in docs:
        if doc.form or doc.form_body is not None:
            model = doc.form_body or PublicSubmission
            components[form_name(model)] = without_nulls(components[model.__name__])
    components["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CRM API",
            "version": "1.0.0",
            "description": "Candidate Relationship Management: career-site intake, the recruiter and "
            "integration API (/v1). Errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID or access token from POST /auth/login.",
                },
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Api-Key",
                    "description": "An integration key created by an admin.",
                },
            },
        },
    }
