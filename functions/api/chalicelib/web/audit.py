"""Recording an audited request: the caller, the record, and where the request came from.

``audit(call, "candidate.read", subject="candidate:<id>", person_id=<id>)`` in a view (JSON API or
UI page) appends one entry to the audit log (``crm.audit``). The source address is API Gateway's
(``requestContext.identity.sourceIp``), never a header a client could forge.
"""

from __future__ import annotations

from typing import Any

from crm.audit.service import AuditLog


def source_ip(request: Any) -> str | None:
    identity = (getattr(request, "context", None) or {}).get("identity") or {}
    value = identity.get("sourceIp")
    return str(value) if value else None


def audit(
    call: Any,
    action: str,
    *,
    subject: str,
    person_id: str | None = None,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """``actor``: the UI's signed-in user (a UI view's ``call`` carries no principal)."""
    request = call.request
    headers = getattr(request, "headers", None) or {}
    AuditLog().record(
        action,
        actor=actor or call.actor,
        subject=subject,
        person_id=person_id,
        source_ip=source_ip(request),
        user_agent=headers.get("user-agent"),
        details=details,
    )


def audit_user_change(call: Any, username: str, patch: Any, *, actor: str | None = None) -> None:
    """A user's group changed, or they were disabled or enabled (``UserPatch``)."""
    subject = f"user:{username}"
    if patch.group is not None:
        audit(call, "user.group_changed", subject=subject, details={"group": patch.group}, actor=actor)
    if patch.enabled is not None:
        action = "user.enabled" if patch.enabled else "user.disabled"
        audit(call, action, subject=subject, actor=actor)
