"""Server-rendered pages: the Jinja2 environment (autoescaped), the headers every page sends, and
how each domain error is shown as a page (the HTML registry, beside ``problems`` for JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.web.problems import SECURITY_HEADERS, problem_of
from crm.platform import clock, times
from crm.platform.errors import DomainError, InternalError, NotFound, ServiceUnavailable
from crm.platform.signing import InvalidLink

PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
TEMPLATES = Path(__file__).parents[1] / "templates"


@lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.filters.update(ago=_ago, full_time=times.full, day=times.day, initials=initials)
    env.globals["server_now"] = _server_now  # <body data-now>: the clock the relative words follow
    return env


def _ago(value: str | None) -> str:
    return times.relative(value, clock.now())


def _server_now() -> str:
    return clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")


def initials(person: Any) -> str:
    """Up to two letters for a person's avatar (first and last name; their email otherwise)."""
    first = str(getattr(person, "first_name", "") or "").strip()
    last = str(getattr(person, "last_name", "") or "").strip()
    letters = (first[:1] + last[:1]) or str(getattr(person, "email", "") or "?")[:1]
    return letters.upper()


def render_page(name: str, **values: Any) -> str:
    """A server-rendered page (Jinja2, autoescaped)."""
    return str(environment().get_template(name).render(**values))


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str


#: How a person is told: a page's status and heading for each kind of error. A class missing
#: here is shown with the problem registry's status and title.
ERROR_PAGES: dict[type[DomainError], ErrorPage] = {
    NotFound: ErrorPage(404, "Not found"),
    InvalidLink: ErrorPage(400, "Invalid or expired link"),
    InternalError: ErrorPage(500, "Something went wrong"),
    ServiceUnavailable: ErrorPage(503, "Please try again in a moment"),
}


def error_page(error: DomainError) -> ErrorPage:
    for cls in type(error).__mro__:
        found = ERROR_PAGES.get(cls)  # type: ignore[call-overload]
        if found is not None:
            return found
    known = problem_of(error)
    return ErrorPage(known.status, known.title)
