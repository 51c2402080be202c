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
from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.web.forms import (  # noqa: F401 - the views' form helpers, re-exported where they were
    body_limit,
    json_body,
    request_body,
    request_form,
    validate,
)
from chalicelib.web.problems import SECURITY_HEADERS, problem, status_of
from crm.access.service import Permission, Principal, authenticate, require
from crm.platform.config import get_settings
from crm.platform.errors import (
    DomainError,
    InternalError,
)

log = logging.getLogger("crm.api")


#: What a route answers with: JSON (the API), an HTML page (the UI, the career site, the portal), or
#: either by the request's ``Accept`` (the pages a link in an email opens).
Answers = Literal["json", "page", "negotiated"]


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
    answers: Answers = "json"
    #: Documented, not validated by ``endpoint`` (the view reads them itself: a link's token).
    query_doc: type[BaseModel] | None = None
    #: A form the view reads itself (JSON, urlencoded or multipart), documented with this model.
    form_body: type[BaseModel] | None = None
    redirects: bool = False
    description: str = ""
    #: The success answer's media type when it is neither the API's JSON nor a page's HTML.
    success_media: str | None = None
    #: The JSON body may be left out (read as ``{}``): the model's defaults then apply.
    body_optional: bool = False
    #: The body is multipart/form-data with one file in this part (the view reads it itself).
    file_part: str | None = None
    _max_body: int | None = field(default=None, repr=False)

    @property
    def max_body_bytes(self) -> int:
        """The largest body this route reads: the configured form size, or more when the largest
        valid body of its model is larger (a template of 100,000 characters a part)."""
        if self._max_body is None:
            limit = get_settings().max_form_bytes
            if self.body is not None:
                limit = max(limit, body_limit(self.body))
            self._max_body = limit
        return self._max_body


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
    answers: Answers = "json",
    query_doc: type[BaseModel] | None = None,
    form_body: type[BaseModel] | None = None,
    redirects: bool = False,
    description: str = "",
    success_media: str | None = None,
    body_optional: bool = False,
    file_part: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route. ``permission=None`` makes it public. The rest says what the OpenAPI
    document shows: ``answers`` (JSON, an HTML page, or either by ``Accept``), ``query_doc`` and
    ``form_body`` for what a view reads itself, ``redirects`` for a 303."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        doc = RouteDoc(
            path,
            method,
            summary,
            tag,
            permission,
            body,
            query,
            response,
            status,
            paginated,
            form,
            errors,
            answers=answers,
            query_doc=query_doc,
            form_body=form_body,
            redirects=redirects,
            description=description,
            success_media=success_media,
            body_optional=body_optional,
            file_part=file_part,
        )
        ROUTE_DOCS.append(doc)

        def handler(**params: str) -> Response:
            request = bp.current_request
            extra = cors_headers(request) if cors else {}
            try:
                principal = require(authenticate(request.headers), permission) if permission else None
                call = Call(request=request, principal=principal, params=params)
                if query is not None:
                    call.query = validate(query, dict(request.query_params or {}), what="query")
                if body is not None and body_optional and not request_body(request).strip():
                    call.body = validate(body, {})
                elif body is not None:
                    call.body = validate(body, json_body(request, max_bytes=doc.max_body_bytes))
                result = view(call, **params)
            except DomainError as error:
                if status_of(error) >= 500:
                    log.warning("request failed: %s", type(error).__name__)
                return problem(error, extra)
            except Exception:
                log.exception("unhandled error on %s %s", method, path)
                return problem(InternalError(), extra)
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


class LinkToken(BaseModel):
    """``?token=``: the signed, expiring token of a link sent by email (documentation only: the
    page itself explains a missing, tampered or expired one)."""

    token: str | None = Field(
        default=None, max_length=4096, description="The signed token from the emailed link."
    )


class PageQuery(BaseModel):
    """``?limit=N&cursor=C`` on every list."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
