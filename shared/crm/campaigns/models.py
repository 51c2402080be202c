"""Campaigns: a template, an audience, a status, and its stats. Every input is validated by one of
these before it reaches a repository; every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from crm.events.models import Attendance
from crm.platform.fields import (
    AwareDatetime,
    Id,
    Label,
    Slug,
    Tags,
)
from crm.platform.models import Input, Model


class Audience(Model):
    """Who a campaign is for: every candidate in the pool, with all the tags, from the source
    (each optional; none at all means everyone), or the people of one ``event`` by their
    ``attendance`` (``registered``, ``attended``, ``no_show``; on its own). Consent and suppression
    are checked per send."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    pool: Id | None = None
    tags: Tags = Field(default_factory=list)
    source: Slug | None = None
    event: Id | None = Field(default=None, description="an event's people (alone, with attendance)")
    attendance: Attendance | None = Field(
        default=None, description="with event: registered (default), attended or no_show"
    )


class CampaignCreate(Input):
    name: Label
    template_id: Id
    audience: Audience = Field(default_factory=Audience)
    send_at: AwareDatetime | None = Field(default=None, description="Launch sends at this time (UTC).")


CampaignStatus = Literal["draft", "scheduled", "sending", "sent", "cancelled"]


class CampaignStats(Model):
    recipients: int = 0
    sent: int = 0
    suppressed: int = Field(default=0, description="not mailed: no consent, unsubscribed, bounced, erased")
    failed: int = 0
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    opened: int = 0
    clicked: int = 0


class Campaign(Model):
    id: str
    name: str
    template_id: str
    audience: Audience
    send_at: str | None = None
    status: CampaignStatus
    stats: CampaignStats = Field(default_factory=CampaignStats)
    launched_at: str | None = None
    dispatched_at: str | None = Field(default=None, description="when the whole audience was queued")
    cancelled_at: str | None = None
    created_at: str
    updated_at: str


class AudienceSize(Model):
    audience: Audience
    candidates: int = Field(description="candidates matching pool, tags and source")


class CampaignLaunch(Input):
    """How to launch. No body (or ``{}``): at the campaign's own ``send_at``, now when it has
    none. ``send_at``: at that time instead (it must be in the future). ``now: true``: now,
    whatever send time it had."""

    send_at: AwareDatetime | None = Field(default=None, description="Send at this time instead (future).")
    now: bool = Field(default=False, description="true: send now, clearing any send time")

    @model_validator(mode="after")
    def _not_both(self) -> CampaignLaunch:
        if self.now and self.send_at is not None:
            raise ValueError("launch now or at a send_at, not both")
        return self


class CampaignTest(Input):
    """A test send to yourself: the campaign's template for ``candidate_id`` (a real candidate's
    values), or for sample values without it."""

    candidate_id: Id | None = Field(default=None, description="personalise with this candidate")


class CampaignTestSent(Model):
    to: str = Field(description="where the test went: the signed-in user's own address")
    subject: str = Field(description='the subject as sent, with "[Test] " in front')
