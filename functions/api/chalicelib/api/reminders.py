"""Recruiter API: reminders on candidates (an email to the recruiter when due)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, endpoint, page
from crm.platform import clock
from crm.platform.errors import Forbidden
from crm.platform.ids import iso
from crm.reminders.models import Reminder, ReminderCreate, ReminderPatch, ReminderQuery
from crm.reminders.service import ReminderService

bp = Blueprint(__name__)


def _owner(call: Call) -> str:
    if call.principal is None or call.principal.kind != "user" or not call.principal.email:
        raise Forbidden("Reminders belong to a signed-in recruiter (an API key has no inbox).")
    return call.principal.email


@endpoint(
    bp,
    "/v1/reminders",
    "POST",
    summary="Set a reminder on a candidate; when due it shows as due and you get an email",
    tag="engagement",
    permission="write",
    body=ReminderCreate,
    response=Reminder,
    status=201,
    errors=(403, 404),
)
def create_reminder(call: Call) -> Reminder:
    return ReminderService().create(call.body, owner=_owner(call))


@endpoint(
    bp,
    "/v1/reminders",
    "GET",
    summary="Your reminders by due time (?due=true: only those that are due)",
    tag="engagement",
    permission="read",
    query=ReminderQuery,
    response=Reminder,
    paginated=True,
    errors=(403,),
)
def list_reminders(call: Call) -> dict[str, Any]:
    query: ReminderQuery = call.query
    items, next_cursor = ReminderService().list_page(
        owner=_owner(call),
        due_only=bool(query.due),
        now=iso(clock.now()),
        limit=query.limit,
        cursor=query.cursor,
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/reminders",
    "GET",
    summary="Reminders set on a candidate",
    tag="engagement",
    permission="read",
    response=list[Reminder],
)
def candidate_reminders(call: Call, candidate_id: str) -> dict[str, Any]:
    return {"items": ReminderService().of_candidate(candidate_id, now=iso(clock.now()))}


def _is_admin(call: Call) -> bool:
    return call.principal is not None and "admin" in call.principal.roles


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/reminders/{reminder_id}",
    "PATCH",
    summary="Snooze (due_at), reword (note) or complete (done: true) your reminder",
    tag="engagement",
    permission="write",
    body=ReminderPatch,
    response=Reminder,
    errors=(403, 404, 409),
)
def update_reminder(call: Call, candidate_id: str, reminder_id: str) -> Reminder:
    return ReminderService().update(
        candidate_id,
        reminder_id,
        call.body,
        actor=_owner(call),
        is_admin=_is_admin(call),
        now=iso(clock.now()),
    )


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/reminders/{reminder_id}",
    "DELETE",
    summary="Delete your reminder",
    tag="engagement",
    permission="write",
    status=204,
    errors=(403, 404),
)
def delete_reminder(call: Call, candidate_id: str, reminder_id: str) -> None:
    ReminderService().delete(
        candidate_id, reminder_id, actor=_owner(call), is_admin=_is_admin(call), now=iso(clock.now())
    )
