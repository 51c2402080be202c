"""The API's own documentation: the OpenAPI document and a page that renders it for humans."""

from __future__ import annotations

import json
from typing import Literal

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib.web import openapi
from chalicelib.web.custom_fields_doc import with_custom_fields
from chalicelib.web.endpoint import SECURITY_HEADERS, Call, endpoint
from chalicelib.web.pages import PAGE_HEADERS, environment

bp = Blueprint(__name__)


def served_routes() -> set[tuple[str, str]]:
    """The (path, method) pairs of the app this blueprint is registered with."""
    app = bp._current_app  # Chalice exposes the registered app only this way
    if app is None:
        return set()
    return {(path, method) for path, by_method in app.routes.items() for method in by_method}


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
        body=json.dumps(with_custom_fields(openapi.document(served_routes()))),
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
    document = with_custom_fields(openapi.document(served_routes()))
    operations = [
        {"path": path, "method": method.upper(), **operation}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    html = (
        environment()
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
