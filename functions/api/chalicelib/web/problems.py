"""How each domain error is answered as problem+json (RFC 9457): the one registry of statuses,
titles and problem types. Domain errors know nothing of HTTP; a class missing here is answered
as its nearest listed base class."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from chalice import Response

from crm.platform.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InternalError,
    MalformedBody,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    VersionConflict,
)
from crm.platform.signing import InvalidLink
from crm.platform.table import InvalidCursor

PROBLEM_JSON = "application/problem+json"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    slug: str


PROBLEMS: dict[type[DomainError], Problem] = {
    DomainError: Problem(400, "Bad request", "bad-request"),
    MalformedBody: Problem(400, "Malformed request body", "malformed-body"),
    InvalidCursor: Problem(400, "Invalid cursor", "invalid-cursor"),
    InvalidLink: Problem(400, "Invalid or expired link", "invalid-link"),
    Unauthenticated: Problem(401, "Authentication required", "unauthenticated"),
    Forbidden: Problem(403, "Forbidden", "forbidden"),
    NotFound: Problem(404, "Not found", "not-found"),
    MethodNotAllowed: Problem(405, "Method not allowed", "method-not-allowed"),
    Conflict: Problem(409, "Conflict", "conflict"),
    VersionConflict: Problem(409, "Version conflict", "version-conflict"),
    PayloadTooLarge: Problem(413, "Payload too large", "payload-too-large"),
    UnsupportedMediaType: Problem(415, "Unsupported media type", "unsupported-media-type"),
    ValidationFailed: Problem(422, "Invalid fields", "validation-failed"),
    RateLimited: Problem(429, "Too many requests", "rate-limited"),
    InternalError: Problem(500, "Internal error", "internal"),
    ServiceUnavailable: Problem(503, "Service unavailable", "unavailable"),
}


def problem_of(error: DomainError) -> Problem:
    """The registry's entry for ``error``'s class, or for its nearest listed base class."""
    for cls in type(error).__mro__:
        found = PROBLEMS.get(cls)  # type: ignore[call-overload]
        if found is not None:
            return found
    return PROBLEMS[DomainError]


def status_of(error: DomainError) -> int:
    return problem_of(error).status


def problem_body(error: DomainError) -> dict[str, Any]:
    known = problem_of(error)
    body: dict[str, Any] = {
        "type": f"https://crm.example.com/problems/{known.slug}",
        "title": known.title,
        "status": known.status,
        "detail": error.detail,
    }
    if error.errors:
        body["errors"] = error.errors
    body.update(error.extra)
    return body


def problem(
    error: DomainError, headers: dict[str, str] | None = None, *, status: int | None = None
) -> Response:
    """The problem+json answer to ``error``. ``status`` keeps a status the platform chose itself
    (an answer of Chalice's own) where the registry would say another; its title is then the
    status's own phrase."""
    body = problem_body(error)
    if status is not None and status != body["status"]:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        slug = phrase.lower().replace(" ", "-")
        body.update(status=status, title=phrase, type=f"https://crm.example.com/problems/{slug}")
    return Response(
        body=json.dumps(body),
        status_code=int(body["status"]),
        headers={"Content-Type": PROBLEM_JSON, **SECURITY_HEADERS, **(headers or {})},
    )
