"""Domain errors. Repositories turn store errors into these; the web layer maps each class to
one answer (problem+json, RFC 9457, or an HTML page) in one place each."""

from __future__ import annotations

from typing import Any

from crm.platform.messages import plain_message


class DomainError(Exception):
    """What was asked cannot be done. Carries what went wrong (``detail``, the invalid ``errors``
    and any ``extra`` facts, such as the id of the record in the way), never how it is answered:
    the web layer maps each class to a status (``chalicelib.web.problems`` for problem+json,
    ``chalicelib.web.pages`` for HTML pages)."""

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class MalformedBody(DomainError):
    """The body (or a query value) cannot be read at all."""


class Unauthenticated(DomainError):
    """No credentials, or credentials that are not valid."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class NotFound(DomainError):
    """There is no such record."""


class MethodNotAllowed(DomainError):
    """The path exists but not with this method."""


class Conflict(DomainError):
    """The record is in the way: a duplicate, or a change made meanwhile. ``field`` names the
    input that caused it, when one did (an email another candidate has)."""

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, errors=errors, **extra)
        self.field = field


class VersionConflict(Conflict):
    """The record changed since the caller read it."""


class PayloadTooLarge(DomainError):
    """The body is larger than this route reads."""


class UnsupportedMediaType(DomainError):
    """The body is in an encoding this route does not read."""


class ValidationFailed(DomainError):
    """Fields are missing or invalid; ``errors`` names each."""


class RateLimited(DomainError):
    """Too many requests; try again later."""


class ServiceUnavailable(DomainError):
    """A store or service the request needs is busy or down; nothing the caller did."""


class InternalError(DomainError):
    """Something failed on our side (logged where it happened); nothing the caller did."""

    def __init__(self, detail: str = "Something went wrong on our side; it has been logged.") -> None:
        super().__init__(detail)


def validation_errors_from_pydantic(exc: Any) -> list[dict[str, str]]:
    """Turn a pydantic ``ValidationError`` into the contract's ``errors`` list, each message in
    plain language (:func:`crm.platform.messages.plain_message`)."""
    out: list[dict[str, str]] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        out.append({"field": ".".join(loc) or "body", "message": plain_message(err)})
    return out
