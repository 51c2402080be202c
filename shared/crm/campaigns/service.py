"""Creating and launching campaigns.

A launch moves the draft to ``sending`` and queues its dispatch, or, with a ``send_at`` in
the future, to ``scheduled`` with an EventBridge Scheduler one-time schedule that puts the
same dispatch message on the dispatch queue at that time (in ``crm dev`` the local runtime
fires it by the local clock). The status change is conditional, so launching twice queues
nothing twice; should the queueing fail after it, the status stays and a repeated launch
re-queues (the dispatcher itself is idempotent).
"""

from __future__ import annotations

from datetime import datetime

from crm.campaigns.models import Campaign, CampaignCreate
from crm.campaigns.repository import CampaignRepository
from crm.dispatch.repository import DispatchProgress
from crm.mailing.messages import DispatchRequest
from crm.platform import clock, scheduler
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, ValidationFailed
from crm.platform.ids import iso
from crm.platform.queues import send_message
from crm.pools.repository import PoolRepository
from crm.templates.repository import TemplateRepository


def check_references(
    template_id: str | None = None, pool: str | None = None, field: str = "template_id"
) -> None:
    """422 naming the field when a template or pool does not exist."""
    errors = []
    if template_id is not None:
        try:
            TemplateRepository().get(template_id)
        except NotFound:
            errors.append({"field": field, "message": f"no template with id {template_id}"})
    if pool is not None:
        try:
            PoolRepository().get(pool)
        except NotFound:
            errors.append({"field": "audience.pool", "message": f"no pool with id {pool}"})
    if errors:
        raise ValidationFailed("The campaign refers to something that does not exist.", errors=errors)


def create_campaign(data: CampaignCreate) -> Campaign:
    check_references(data.template_id, data.audience.pool)
    return CampaignRepository().create(data)


def launch(campaign_id: str) -> Campaign:
    repository = CampaignRepository()
    campaign = repository.get(campaign_id)
    now = clock.now()
    send_at = datetime.fromisoformat(campaign.send_at.replace("Z", "+00:00")) if campaign.send_at else None
    later = send_at is not None and send_at > now
    campaign, launched = repository.launch(
        campaign_id, status="scheduled" if later else "sending", now=iso(now)
    )
    if not launched:
        return campaign
    request = DispatchRequest(kind="campaign", id=campaign_id).model_dump_json(exclude_none=True)
    if later:
        assert send_at is not None
        schedule_once(f"campaign-{campaign_id}", send_at, request)
    else:
        send_message(get_settings().dispatch_queue_url, request)
    return campaign


def launch_at(campaign_id: str, send_at: datetime | None) -> Campaign:
    """Launch a draft now (``None``: any send time it had is cleared) or schedule it for
    ``send_at``: the recruiter UI's launch form. 409 when the campaign was already launched,
    422 (naming ``send_at``) for a time that is not in the future."""
    repository = CampaignRepository()
    campaign = repository.get(campaign_id)
    if campaign.status != "draft":
        raise Conflict(f"The campaign was already launched (it is {campaign.status}).")
    now = clock.now()
    if send_at is not None and send_at <= now:
        raise ValidationFailed(
            "The send time has passed.",
            errors=[{"field": "send_at", "message": "choose a time in the future (UTC)"}],
        )
    at = iso(send_at) if send_at is not None else None
    if not repository.set_send_at(campaign_id, at, now=iso(now)):
        raise Conflict("The campaign was already launched.")
    return launch(campaign_id)


def schedule_once(name: str, at: datetime, dispatch_body: str) -> None:
    """A one-time schedule that puts ``dispatch_body`` on the dispatch queue at ``at``."""
    scheduler.schedule_once(name, at, queue_arn=get_settings().dispatch_queue_arn, body=dispatch_body)


class CampaignService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: CampaignRepository | None = None) -> None:
        self.repository = repository or CampaignRepository()

    def create(self, data: CampaignCreate) -> Campaign:
        return self.repository.create(data)

    def get(self, campaign_id: str) -> Campaign:
        return self.repository.get(campaign_id)

    def launch(self, campaign_id: str, *, status: str, now: str) -> tuple[Campaign, bool]:
        return self.repository.launch(campaign_id, status=status, now=now)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    def progress(self, campaign_id: str) -> DispatchProgress:
        return self.repository.progress(campaign_id)

    def record_event(self, campaign_id: str, recipient: str, event: str) -> bool:
        return self.repository.record_event(campaign_id, recipient, event)

    def set_send_at(self, campaign_id: str, send_at: str | None, *, now: str) -> bool:
        return self.repository.set_send_at(campaign_id, send_at, now=now)

    def start_sending(self, campaign_id: str, *, now: str) -> None:
        return self.repository.start_sending(campaign_id, now=now)

    def tally(self, campaign_id: str, recipients: list[str], states: dict[str, str]) -> None:
        return self.repository.tally(campaign_id, recipients, states)

    def template_id(self, campaign_id: str) -> str:
        return self.repository.template_id(campaign_id)
