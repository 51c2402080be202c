"""The recruiter UI's shared page machinery: every page's headers, the session from its cookie,
CSRF on every POST, form fields, paged lists, and ``ui_route``, which declares a page with all of
that (errors become HTML pages; a missing or expired session sends the browser to sign in)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web import session as web
from chalicelib.web.endpoint import Call, endpoint, request_form
from chalicelib.web.pages import PAGE_HEADERS, error_page, render_page
from crm.access.service import Principal, verify_token
from crm.platform.config import get_settings
from crm.platform.errors import DomainError, NotFound, Unauthenticated, validation_errors_from_pydantic
from crm.platform.forms import DecodedBody

UI_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        f"{PAGE_HEADERS['Content-Security-Policy']}; script-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
}


@dataclass
class Session:
    principal: Principal
    token: str
    csrf: str

    @property
    def who(self) -> str:
        return self.principal.email or self.principal.subject

    @property
    def team_only(self) -> bool:
        """A hiring manager: their jobs, their applicants and feedback, nothing else."""
        return self.principal.team_only

    @property
    def referrer_only(self) -> bool:
        """An employee: their referrals, nothing else."""
        return self.principal.referrer_only


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class _BadCsrf(Exception):
    pass


class _StaffOnly(Exception):
    """A hiring manager on a page for recruiters: a GET goes to their jobs, a POST is a 403 page."""


class _ReferrerOnly(Exception):
    """An employee on any page but the referral pages: a GET goes to their referrals, a POST is a 403 page."""


#: Where an employee (who may only refer) lands.
REFERRALS_HOME = "/ui/referrals/mine"


def page(name: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> Response:
    """A UI page (``templates/<name>``) with the UI's headers; ``dev_tools`` says whether the local
    stack's outbox and clock pages exist (never in AWS)."""
    values.setdefault("dev_tools", get_settings().local_stack)
    return Response(
        body=render_page(name, **values), status_code=status, headers={**UI_HEADERS, **(headers or {})}
    )


def see_other(location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body="", status_code=303, headers={**UI_HEADERS, "Location": location, **(headers or {})})


def _form(call: Call, max_bytes: int | None = None) -> DecodedBody:
    return request_form(
        call.request,
        default_type="application/x-www-form-urlencoded",
        allowed=("application/x-www-form-urlencoded", "multipart/form-data"),
        max_bytes=max_bytes,
    )


def text(value: Any) -> str:
    """One form field as text (a repeated field: its first value). Browsers send a textarea's line
    breaks as CRLF (the HTML form encoding); they are stored as plain newlines."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def query_value(call: Call, name: str) -> str:
    """One query-string parameter as stripped text ("" when absent)."""
    return ((call.request.query_params or {}).get(name) or "").strip()


def field_errors(exc: ValidationError) -> dict[str, str]:
    """A model's first message per form field (``tags.0`` is the ``tags`` field)."""
    errors: dict[str, str] = {}
    for e in validation_errors_from_pydantic(exc):
        errors.setdefault(e["field"].split(".")[0], e["message"])
    return errors


def paging(
    path: str,
    cursor: str | None,
    next_cursor: str | None,
    *,
    given: dict[str, str] | None = None,
    anchor: str = "",
) -> dict[str, Any]:
    """A paged list's links for ``ui_pager.html``: ``first_url``, ``next_url`` (with the query
    ``given`` kept) and ``paged`` (this is not the first page)."""
    query = given or {}
    return {
        "first_url": (f"{path}?{urlencode(query)}" if query else path) + anchor,
        "next_url": f"{path}?{urlencode({**query, 'cursor': next_cursor})}{anchor}" if next_cursor else None,
        "paged": bool(cursor),
    }


def _here(call: Call) -> str:
    # The route's own path (API Gateway's context "path" carries the stage name in front).
    template = str(call.request.context.get("resourcePath") or "/ui")
    path = template.format(**(call.request.uri_params or {}))
    path = "/ui/" if path == "/ui" else path
    query = urlencode(dict(call.request.query_params or {}))
    return f"{path}?{query}" if query else path


def _session(call: Call, *, team: bool, refer: bool = False) -> Session:
    token = web.cookies(call.request.headers.get("cookie")).get(web.SESSION_COOKIE)
    target = "/ui/" if call.request.method == "POST" else _here(call)
    login_url = f"/ui/login?{urlencode({'next': web.safe_next(target)})}"
    if not token or len(token) > 8192:
        raise _Redirect(login_url)
    try:
        principal = verify_token(token)
    except Unauthenticated as exc:
        raise _Redirect(login_url) from exc
    if not principal.allows("write"):
        if principal.team_only:
            if not (team or refer):
                raise _StaffOnly()
        elif principal.referrer_only:
            if not refer:
                raise _ReferrerOnly()
        else:
            raise _Redirect(login_url)
    return Session(principal=principal, token=token, csrf=web.csrf_token(token))


def ui_route(
    path: str,
    method: str,
    summary: str,
    *,
    blueprint: Blueprint,
    signed_in: bool = True,
    errors: tuple[int, ...] = (),
    max_form_bytes: int | None = None,
    uploads: bool = False,
    team: bool = False,
    refer: bool = False,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A UI page: the session (when ``signed_in``), CSRF on POST, and errors as HTML pages.

    Only recruiters and admins open a page, unless ``team``: then a hiring manager does too, and
    the view holds them to their jobs (``crm.hiring.team.TeamScope``; ``session.team_only``). With
    ``refer`` everyone who signs in opens it (hiring managers and employees too: the referral
    pages); an employee on any other page is sent to their referrals.

    ``blueprint`` is the page module's own; the view gets ``(call, session,
    fields, **uri_params)`` where ``fields`` is the parsed form of a POST (``max_form_bytes``: a
    form with long fields, such as a template's); with ``uploads`` it also gets ``uploads=``, the
    files of a multipart form by field name."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapped(call: Call, **params: str) -> Response:
            try:
                session = _session(call, team=team, refer=refer) if signed_in else None
                form = _form(call, max_form_bytes) if method == "POST" else DecodedBody()
                fields = form.fields
                csrf = text(fields.get("csrf")) or None
                if session is not None and method == "POST" and not web.csrf_ok(session.token, csrf):
                    raise _BadCsrf()
                if uploads:
                    return view(call, session, fields, uploads=form.files, **params)
                return view(call, session, fields, **params)
            except _Redirect as redirect:
                return see_other(redirect.location)
            except _BadCsrf:
                return forbidden()
            except _StaffOnly:
                if method == "GET":  # a recruiters' page (the start page after sign-in): their jobs
                    return see_other("/ui/jobs")
                return page(
                    "ui_error.html",
                    status=403,
                    title="This page is for recruiters",
                    detail="Hiring managers see the jobs they are on and give feedback there.",
                    session=None,
                    back=("/ui/jobs", "Your jobs"),
                )
            except _ReferrerOnly:
                if method == "GET":
                    return see_other(REFERRALS_HOME)
                return page(
                    "ui_error.html",
                    status=403,
                    title="This page is for recruiters",
                    detail="As an employee you refer people and follow your referrals.",
                    session=None,
                    back=(REFERRALS_HOME, "Your referrals"),
                )
            except DomainError as error:
                return page(
                    "ui_error.html",
                    status=error_page(error).status,
                    title=error_page(error).title,
                    detail=error.detail,
                    session=None,
                )

        endpoint(
            blueprint,
            path,
            method,
            summary=summary,
            tag="ui",
            permission=None,
            status=200,
            errors=(*errors, 400, 413, 415) if method == "POST" else errors,
            answers="page",
            redirects=signed_in or method == "POST",
        )(wrapped)
        return view

    return decorator


def forbidden() -> Response:
    return page(
        "ui_error.html",
        status=403,
        title="This form has expired",
        detail="The form was not sent from this site's page, or its page is too old. Nothing was changed: "
        "go back, reload the page and try again.",
        session=None,
    )


def display_names(get: Callable[[str], Any], ids: list[str]) -> dict[str, str]:
    """Display names (title or name) of a few jobs, pools or templates by id; one that no longer
    exists is left out (pages show its id)."""
    names: dict[str, str] = {}
    for item_id in dict.fromkeys(ids):
        try:
            item = get(item_id)
        except NotFound:
            continue
        names[item_id] = str(getattr(item, "title", None) or getattr(item, "name", item_id))
    return names
