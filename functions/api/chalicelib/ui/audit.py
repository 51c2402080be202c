"""The admin's audit-log page: who read or changed what, when and from where; filter by person, user,
action and dates; download what the filter finds as CSV (itself audited). Admins only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, field_errors, page, paging, query_value, ui_route
from crm.audit.models import ACTIONS, AuditEntry, AuditSearch
from crm.audit.service import AuditLog
from crm.candidates.service import CandidateService
from crm.platform.errors import Forbidden, NotFound
from crm.users.service import UserService

bp = Blueprint(__name__)

PAGE_SIZE = 50
FILTERS = ("person", "actor", "action", "from", "to")
ACTION_LABELS = {
    "candidate.read": "Opened a profile",
    "candidate.erased": "Erased a person",
    "candidate.merged": "Merged two people",
    "candidate.unmerged": "Undid a merge",
    "export.created": "Started an export",
    "export.downloaded": "Downloaded an export",
    "import.created": "Created an import",
    "import.started": "Started an import",
    "user.invited": "Invited a user",
    "user.group_changed": "Changed a user's group",
    "user.disabled": "Disabled a user",
    "user.enabled": "Enabled a user",
    "api_key.created": "Created an API key",
    "api_key.revoked": "Revoked an API key",
    "webhook.created": "Added a webhook endpoint",
    "webhook.updated": "Changed a webhook endpoint",
    "webhook.deleted": "Deleted a webhook endpoint",
    "webhook.secret_rotated": "Rotated a webhook secret",
    "webhook.redelivered": "Redelivered webhooks",
    "custom_field.created": "Added a custom field",
    "custom_field.updated": "Changed a custom field",
    "custom_field.deleted": "Deleted a custom field",
    "audit.exported": "Downloaded the audit log",
}


def _admin_only(session: Session) -> None:
    if not session.principal.allows("admin"):
        raise Forbidden("Only admins can read the audit log.")


def _given(call: Call) -> dict[str, str]:
    return {name: query_value(call, name) for name in FILTERS if query_value(call, name)}


def _search(given: dict[str, str], cursor: str | None) -> AuditSearch:
    """The form's values as a search: dates are whole UTC days (from the start of ``from`` to the end
    of ``to``)."""
    values: dict[str, Any] = {k: v for k, v in given.items() if k in ("person", "actor", "action")}
    for name, moment in (("from", time.min), ("to", time.max)):
        if given.get(name):
            try:
                day = date.fromisoformat(given[name])
            except ValueError:
                values[name] = given[name]  # the model names the field
            else:
                values[name] = datetime.combine(day, moment, tzinfo=UTC).isoformat()
    return AuditSearch.model_validate({**values, "limit": PAGE_SIZE, "cursor": cursor})


def _people(entries: list[AuditEntry]) -> dict[str, str]:
    names: dict[str, str] = {}
    service = CandidateService()
    for pid in dict.fromkeys(e.person_id for e in entries if e.person_id):
        try:
            person = service.get(str(pid))
        except NotFound:
            continue
        names[str(pid)] = " ".join(filter(None, (person.first_name, person.last_name))) or person.email
    return names


def _actors(entries: list[AuditEntry]) -> dict[str, str]:
    subs = [e.actor.removeprefix("user:") for e in entries if e.actor.startswith("user:")]
    return {f"user:{sub}": email for sub, email in UserService().emails_of(subs).items()}


@ui_route(
    "/ui/admin/audit",
    "GET",
    "Admin UI: the audit log (?person, actor, action, from, to as dates, cursor)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_audit(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    given = _given(call)
    cursor = query_value(call, "cursor") or None
    try:
        search = _search(given, cursor)
    except ValidationError as exc:
        errors = field_errors(exc)
        return _page(session, given, [], None, None, errors=errors, status=422)
    entries, next_cursor = AuditLog().search(search)
    return _page(session, given, entries, cursor, next_cursor)


def _page(
    session: Session,
    given: dict[str, str],
    entries: list[AuditEntry],
    cursor: str | None,
    next_cursor: str | None,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        "ui_admin_audit.html",
        status=status,
        session=session,
        entries=entries,
        given=given,
        actions=ACTIONS,
        labels=ACTION_LABELS,
        people=_people(entries),
        actors=_actors(entries),
        errors=errors or {},
        problem="Nothing was searched; see the marked fields." if errors else "",
        export_url="/ui/admin/audit/export" + (f"?{urlencode(given)}" if given else ""),
        **paging("/ui/admin/audit", cursor, next_cursor, given=given),
    )


@ui_route(
    "/ui/admin/audit/export",
    "GET",
    "Admin UI: the audit log's entries matching the filter as CSV (same query as the page)",
    blueprint=bp,
    errors=(403, 422),
)
def ui_audit_export(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    _admin_only(session)
    given = _given(call)
    try:
        search = _search(given, None)
    except ValidationError as exc:
        return _page(session, given, [], None, None, errors=field_errors(exc), status=422)
    body = "".join(AuditLog().export_csv(search))
    audit(
        call,
        "audit.exported",
        subject="audit:export",
        details={"bytes": len(body)},
        actor=session.principal.actor,
    )
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="audit-log.csv"',
            "Cache-Control": "no-store",
        },
    )
