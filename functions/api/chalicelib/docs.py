"""The API's own documentation: the OpenAPI document and a page that renders it for humans."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from chalicelib import openapi
from chalicelib.http import SECURITY_HEADERS

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
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return Response(
        body=json.dumps(openapi.document()),
        status_code=200,
        headers={**SECURITY_HEADERS, "Content-Type": "application/json", "Cache-Control": "max-age=300"},
    )


@bp.route("/docs", methods=["GET"])
def api_reference() -> Response:
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


@bp.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}
