"""The API's own documentation: the OpenAPI document and a page that renders it for humans."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib.web import openapi
from chalicelib.web.endpoint import SECURITY_HEADERS, Call, endpoint

bp = Blueprint(__name__)

PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def render_page(name: str, **values: Any) -> str:
    """A server-rendered page (Jinja2, autoescaped)."""
    return str(_environment().get_template(name).render(**values))


class Health(BaseModel):
    status: Literal["ok"] = "ok"


# Declared with ``endpoint`` (public) so the document describes these routes too.
@endpoint(
    bp,
    "/openapi.json",
    "GET",
    summary="This OpenAPI 3.1 document",
    tag="meta",
    permission=None,
    success_media="application/json",
)
def openapi_document(call: Call) -> Response:
    return Response(
        body=json.dumps(openapi.document()),
        status_code=200,
        headers={**SECURITY_HEADERS, "Content-Type": "application/json", "Cache-Control": "max-age=300"},
    )


@endpoint(
    bp,
    "/docs",
    "GET",
    summary="The API reference, as an HTML page",
    tag="meta",
    permission=None,
    answers="page",
)
def api_reference(call: Call) -> Response:
    document = openapi.document()
    operations = [
        {"path": path, "method": method.upper(), **operation}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    html = (
        _environment()
        .get_template("api_reference.html")
        .render(document=document, operations=operations, dumps=lambda v: json.dumps(v, indent=2))
    )
    return Response(body=html, status_code=200, headers=PAGE_HEADERS)


@endpoint(
    bp,
    "/health",
    "GET",
    summary="Liveness: 200 when the API is up",
    tag="meta",
    permission=None,
    response=Health,
)
def health(call: Call) -> Health:
    return Health()


@endpoint(
    bp,
    "/",
    "GET",
    summary="The front door: sends a visitor to the recruiter UI's sign-in",
    tag="meta",
    permission=None,
    status=302,
)
def front_door(call: Call) -> Response:
    return Response(body="", status_code=302, headers={"Location": "/ui/login"})
