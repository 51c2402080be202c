"""Domain errors. The data layer turns SDK errors into these; the API maps each to
one problem+json response (RFC 9457) in a single place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://crm.example.com/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class MalformedBody(DomainError):
    status, title, slug = 400, "Malformed request body", "malformed-body"


class Unauthenticated(DomainError):
    status, title, slug = 401, "Authentication required", "unauthenticated"


class Forbidden(DomainError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(DomainError):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(DomainError):
    status, title, slug = 409, "Conflict", "conflict"


class VersionConflict(Conflict):
    title, slug = "Version conflict", "version-conflict"


class PayloadTooLarge(DomainError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(DomainError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class ValidationFailed(DomainError):
    status, title, slug = 422, "Invalid fields", "validation-failed"


class RateLimited(DomainError):
    status, title, slug = 429, "Too many requests", "rate-limited"


def validation_errors_from_pydantic(exc: Any) -> list[dict[str, str]]:
    """Turn a pydantic ``ValidationError`` into the contract's ``errors`` list."""
    out: list[dict[str, str]] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    return out
