"""Unsubscribe pages: a GET page with a button, and the RFC 8058 one-click POST."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.web.endpoint import Call, LinkToken, endpoint, problem
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.platform.signing import InvalidLink
from crm.portal.unsubscribe import read_link, unsubscribe

bp = Blueprint(__name__)


def _wants_html(call: Call) -> bool:
    return "text/html" in (call.request.headers.get("accept") or "")


def _token(call: Call) -> str | None:
    return (call.request.query_params or {}).get("token")


def _page(name: str, status: int = 200, **values: Any) -> Response:
    return Response(body=render_page(name, **values), status_code=status, headers=PAGE_HEADERS)


def _invalid(call: Call, error: InvalidLink) -> Response:
    if _wants_html(call):
        return _page("unsubscribe_invalid.html", status=error_page(error).status, detail=error.detail)
    return problem(error)


@endpoint(
    bp,
    "/public/unsubscribe",
    "GET",
    summary="The unsubscribe page of a signed link (?token=...)",
    tag="public",
    permission=None,
    errors=(400,),
    answers="negotiated",
    query_doc=LinkToken,
)
def unsubscribe_page(call: Call) -> Response:
    try:
        link = read_link(_token(call))
    except InvalidLink as error:
        return _invalid(call, error)
    return _page("unsubscribe.html", topic_name=link["topic_name"], token=_token(call))


@endpoint(
    bp,
    "/public/unsubscribe",
    "POST",
    summary="Unsubscribe (the page's button, or a mail client's RFC 8058 one-click POST)",
    tag="public",
    permission=None,
    errors=(400,),
    answers="negotiated",
    query_doc=LinkToken,
)
def unsubscribe_now(call: Call) -> Response:
    try:
        link = unsubscribe(_token(call), source="unsubscribe-link")
    except InvalidLink as error:
        return _invalid(call, error)
    return _page("unsubscribed.html", topic_name=link["topic_name"])
