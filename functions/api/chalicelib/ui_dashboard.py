"""The recruiter UI's start page (the dashboard), the reminders page."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.http import Call
from chalicelib.ui import Session, page, ui_route
from crm import clock
from crm.data.reminders import ReminderRepository
from crm.models import iso

bp = Blueprint(__name__)


@ui_route("/ui", "GET", "Recruiter UI: the start page (reminders due for you)", blueprint=bp)
def ui_home(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    now = iso(clock.now())
    due, more = ReminderRepository().list_page(
        owner=session.who, due_only=True, now=now, limit=100, cursor=None
    )
    pending = [r for r in due if r.state == "pending" or r.due]
    return page("ui_home.html", session=session, due=pending, due_more=bool(more))
