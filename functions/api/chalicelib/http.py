"""The one place where HTTP meets the domain: authentication, authorisation, body and query
validation, and the mapping of domain errors to problem+json (RFC 9457).

Every route is declared with ``endpoint``, which also records what the OpenAPI document says
about it, so the document is built from the same table the app routes by.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm.auth import Permission, Principal, authenticate, require
from crm.config import get_settings
from crm.errors import (
    DomainError,
    UnsupportedMediaType,
    ValidationFailed,
    validation_errors_from_pydantic,
)
from crm.forms import FORM_TYPES, DecodedBody, decode_form, decode_json_object, media_type

log = logging.getLogger("crm.api")

PROBLEM_JSON = "application/problem+json"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class RouteDoc:
    path: str
    method: str
    summary: str
    tag: str
    permission: Permission | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    paginated: bool = False
    form: bool = False
    errors: tuple[int, ...] = ()


ROUTE_DOCS: list[RouteDoc] = []


@dataclass
class Call:
    """What a view gets: the caller, the validated body and query, the raw request."""

    request: Any
    principal: Principal | None
    body: Any = None
    query: Any = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.principal.actor if self.principal else "anonymous"


def problem(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(error.to_problem()),
        status_code=error.status,
        headers={"Content-Type": PROBLEM_JSON, **SECURITY_HEADERS, **(headers or {})},
    )


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(to_jsonable(payload)),
        status_code=status,
        headers={"Content-Type": "application/json", **SECURITY_HEADERS, **(headers or {})},
    )


def to_jsonable(payload: Any) -> Any:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    if isinstance(payload, dict):
        return {k: to_jsonable(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [to_jsonable(v) for v in payload]
    return payload


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def validate(model: type[BaseModel], data: Any, *, what: str = "body") -> Any:
    try:
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
    request: Any, *, default_type: str | None = None, allowed: tuple[str, ...] = FORM_TYPES
) -> DecodedBody:
    """A form body (JSON, urlencoded or multipart, as ``allowed``), within the configured sizes."""
    settings = get_settings()
    return decode_form(
        request.headers.get("content-type") or default_type,
        request_body(request),
        max_form_bytes=settings.max_form_bytes,
        max_multipart_bytes=settings.max_multipart_bytes,
        allowed=allowed,
    )


def json_body(request: Any) -> dict[str, Any]:
    kind = media_type(request.headers.get("content-type"))
    if kind and kind != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    return decode_json_object(request_body(request), max_bytes=get_settings().max_form_bytes)


def cors_headers(request: Any) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin and origin in get_settings().allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }
    return {"Vary": "Origin"}


def endpoint(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    permission: Permission | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    paginated: bool = False,
    form: bool = False,
    cors: bool = False,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route. ``permission=None`` makes it public."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        ROUTE_DOCS.append(
            RouteDoc(
                path, method, summary, tag, permission, body, query, response, status, paginated, form, errors
            )
        )

        def handler(**params: str) -> Response:
            request = bp.current_request
            extra = cors_headers(request) if cors else {}
            try:
                principal = require(authenticate(request.headers), permission) if permission else None
                call = Call(request=request, principal=principal, params=params)
                if query is not None:
                    call.query = validate(query, dict(request.query_params or {}), what="query")
                if body is not None:
                    call.body = validate(body, json_body(request))
                result = view(call, **params)
            except DomainError as error:
                if error.status >= 500:
                    log.warning("request failed: %s", error.title)
                return problem(error, extra)
            except Exception:
                log.exception("unhandled error on %s %s", method, path)
                error = DomainError("Something went wrong on our side; it has been logged.")
                error.status, error.title, error.slug = 500, "Internal error", "internal"
                return problem(error, extra)
            if isinstance(result, Response):
                result.headers.update({**SECURITY_HEADERS, **extra, **result.headers})
                return result
            if result is None:
                return Response(body="", status_code=204, headers={**SECURITY_HEADERS, **extra})
            return json_response(result, status, extra)

        handler.__name__ = f"{view.__name__}_{method.lower()}"
        bp.route(path, methods=[method], content_types=["*/*"], name=handler.__name__)(handler)
        return view

    return decorator


def preflight(bp: Blueprint, path: str) -> None:
    """Answer CORS preflight for a public path."""

    def options(**_: str) -> Response:
        return Response(
            body="", status_code=204, headers={**cors_headers(bp.current_request), **SECURITY_HEADERS}
        )

    options.__name__ = f"preflight_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
    bp.route(path, methods=["OPTIONS"], content_types=["*/*"], name=options.__name__)(options)


class PageQuery(BaseModel):
    """``?limit=N&cursor=C`` on every list."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
