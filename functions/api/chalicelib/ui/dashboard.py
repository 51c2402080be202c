"""The recruiter UI's start page: the dashboard (four charts).

The charts are inline SVG drawn on the server from ``crm.analytics.service`` (geometry and bounded reads);
each is followed by its numbers as a table, for screen readers and for anyone who wants them.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.ui import charts
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import Session, page, see_other, ui_route
from crm.analytics import service as dashboard
from crm.platform import clock
from crm.platform.ids import iso
from crm.reminders.service import ReminderService

bp = Blueprint(__name__)


@ui_route(
    "/ui",
    "GET",
    "Recruiter UI: the dashboard (pipeline, sources, campaigns, your reminders)",
    blueprint=bp,
    team=True,
)
def ui_home(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    if session.team_only:  # a hiring manager starts at the jobs they are on
        return see_other("/ui/jobs")
    now = clock.now()
    reminders = ReminderService()
    due, more = reminders.list_page(owner=session.who, due_only=True, now=iso(now), limit=100, cursor=None)
    pending = [r for r in due if r.state == "pending" or r.due]
    upcoming, more_upcoming = reminders.list_page(
        owner=session.who, due_only=False, now=iso(now), limit=dashboard.REMINDER_CAP, cursor=None
    )
    buckets = dashboard.reminder_buckets([r.due_at for r in upcoming], now)
    pipeline = dashboard.read_pipeline()
    sources = dashboard.read_sources()
    campaigns = dashboard.read_campaigns()
    return page(
        "ui_home.html",
        session=session,
        due=pending,
        due_more=bool(more),
        pipeline=pipeline,
        pipeline_chart=charts.pipeline_chart(pipeline),
        sources=sources,
        sources_chart=charts.sources_chart(sources),
        known_sources=dashboard.KNOWN_SOURCES,
        campaigns=campaigns,
        campaigns_chart=charts.engagement_chart(campaigns),
        engagement=dashboard.ENGAGEMENT,
        buckets=buckets,
        reminders_chart=charts.reminders_chart(buckets, at_least=bool(more_upcoming)),
        caps={
            "pools": dashboard.POOL_CAP,
            "members": dashboard.MEMBER_CAP,
            "reminders": dashboard.REMINDER_CAP,
        },
    )


# The full reminders page (/ui/reminders) lives in ui_sequences.py.
