"""Campaigns' rules: creating one, the launch rule, its status and its stats.

**Launch.** One rule for the API and the UI (:meth:`CampaignService.launch`): only a draft can be
launched. It is sent now, or at a time: the campaign's own ``send_at`` (the API; a time that has
passed means now), or a time chosen at launch (the UI; it must be in the future). A launch now
moves the draft to ``sending`` and queues its dispatch; a launch for later moves it to
``scheduled`` with an EventBridge Scheduler one-time schedule that puts the same dispatch message
on the dispatch queue at that time (in ``crm dev`` the local runtime fires it by the local clock).
The status change is conditional, so launching twice queues nothing twice: a campaign that was
already launched is reported as such (``Launch.launched`` is False) and each caller answers it in
its own way (the API with the campaign as it is, the UI with a 409).

**Status and stats.** ``draft -> scheduled -> sending`` or ``draft -> sending``; a sending campaign
becomes ``sent`` once its whole audience is dispatched and every recipient is final (sent,
suppressed or failed). Sent, suppressed and failed are a tally per mail message (decision 17),
summed while the campaign is sending; when it becomes sent the sums are rolled up into the
campaign's item, so a list of campaigns is one Query. The mail worker checks after each message it
finishes, the dispatcher when it has queued the last page, and a read of a sending campaign too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from crm.campaigns.models import Audience, Campaign, CampaignCreate
from crm.campaigns.repository import TALLIED, CampaignRepository, Totals
from crm.candidates.models import CandidateFilter
from crm.candidates.service import CandidateService
from crm.mailing.deliveries import Deliveries, Delivery
from crm.mailing.messages import DispatchRequest, message_digest
from crm.platform import clock, scheduler
from crm.platform.config import get_settings
from crm.platform.errors import NotFound, ValidationFailed
from crm.platform.ids import iso
from crm.platform.queues import send_messages
from crm.pools.service import PoolService
from crm.templates.service import TemplateService

#: Candidates per audience page the dispatcher queues.
AUDIENCE_PAGE = 500
SCOPE_PREFIX = "campaign#"

#: Puts ``body`` on the dispatch queue at a time: ``schedule(name, at, queue_arn=..., body=...)``.
Schedule = Callable[..., None]
#: Puts messages on a queue: ``send(queue_url, bodies)``.
QueueSender = Callable[[str, list[str]], None]


def scope(campaign_id: str) -> str:
    """The campaign's mailing in the delivery ledger."""
    return f"{SCOPE_PREFIX}{campaign_id}"


def totals_of(states: dict[str, str]) -> Totals:
    """Final states as a tally: a recipient not mailed (no consent, suppressed, erased) counts as
    suppressed."""
    totals = dict.fromkeys(TALLIED, 0)
    for state in states.values():
        totals["suppressed" if state == "skipped" else state] += 1
    return totals


def with_totals(campaign: Campaign, totals: Totals) -> Campaign:
    """The campaign with its live sent, suppressed and failed, and ``sent`` once it is finished."""
    stats = campaign.stats.model_copy(update=totals)
    finished = stats.sent + stats.suppressed + stats.failed >= stats.recipients
    status = campaign.status
    if status == "sending" and campaign.dispatched_at and finished:
        status = "sent"
    return campaign.model_copy(update={"stats": stats, "status": status})


@dataclass(frozen=True)
class Launch:
    campaign: Campaign
    launched: bool  # False: it was launched before (nothing was queued or scheduled by this call)


def audience_filter(audience: Audience) -> tuple[CandidateFilter, list[str]]:
    """An audience as the candidates' list filter (its first tag) and the tags every member must
    also have."""
    first_tag = audience.tags[0] if audience.tags else None
    flt = CandidateFilter(pool=audience.pool, tag=first_tag, source=audience.source)
    return flt, list(audience.tags[1:])


class CampaignService:
    """Campaigns as the API, the UI, the dispatcher and the mail worker use them."""

    def __init__(
        self,
        repository: CampaignRepository | None = None,
        *,
        templates: TemplateService | None = None,
        pools: PoolService | None = None,
        candidates: CandidateService | None = None,
        deliveries: Deliveries | None = None,
        schedule: Schedule = scheduler.schedule_once,
        send: QueueSender = send_messages,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.repository = repository or CampaignRepository()
        self.templates = templates or TemplateService()
        self.pools = pools or PoolService()
        self.candidates = candidates or CandidateService()
        self.deliveries = deliveries or Deliveries()
        self.schedule = schedule
        self.send = send
        self.now = now

    # ------------------------------------------------------------------ create and read

    def check_references(self, template_id: str | None = None, pool: str | None = None) -> None:
        """422 naming the field when the template or the pool does not exist."""
        errors = []
        if template_id is not None:
            try:
                self.templates.get(template_id)
            except NotFound:
                errors.append({"field": "template_id", "message": f"no template with id {template_id}"})
        if pool is not None:
            try:
                self.pools.get(pool)
            except NotFound:
                errors.append({"field": "audience.pool", "message": f"no pool with id {pool}"})
        if errors:
            raise ValidationFailed("The campaign refers to something that does not exist.", errors=errors)

    def create(self, data: CampaignCreate) -> Campaign:
        self.check_references(data.template_id, data.audience.pool)
        return self.repository.create(data)

    def get(self, campaign_id: str) -> Campaign:
        """One campaign; while it is sending its stats are summed from its tallies (and it becomes
        ``sent`` here if it is finished and nothing else noticed)."""
        campaign = self.repository.get(campaign_id)
        if campaign.status != "sending":
            return campaign
        return self._settle(campaign, self.repository.tallies(campaign_id))

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        """Newest first, as their items hold them (one Query): a sent campaign's stats are rolled
        up in it; a campaign still sending shows its recipients and SES counters so far."""
        return self.repository.list_page(limit=limit, cursor=cursor)

    def audience_size(self, campaign: Campaign) -> int:
        """How many candidates match the audience (before consent and suppression)."""
        flt, more_tags = audience_filter(campaign.audience)
        return self.candidates.count_matching(flt, more_tags=more_tags)

    def template_id(self, campaign_id: str) -> str:
        return self.repository.template_id(campaign_id)

    # ------------------------------------------------------------------ launch

    def launch(self, campaign_id: str, *, at: datetime | None = None, now: bool = False) -> Launch:
        """Launch a draft: at its own ``send_at`` (by default), ``now`` (any send time it had is
        cleared) or ``at`` a time, which must be in the future (else 422 naming ``send_at``)."""
        if at is not None and now:
            raise ValueError("launch now or at a time, not both")
        campaign = self.get(campaign_id)
        if campaign.status != "draft":
            return Launch(campaign, launched=False)
        current = self.now()
        if at is not None and at <= current:
            raise ValidationFailed(
                "The send time has passed.",
                errors=[{"field": "send_at", "message": "choose a time in the future (UTC)"}],
            )
        if at is not None or now:
            if not self.repository.set_send_at(campaign_id, iso(at) if at else None, now=iso(current)):
                return Launch(self.repository.get(campaign_id), launched=False)
            send_at = at
        else:
            send_at = _parse(campaign.send_at)
        later = send_at is not None and send_at > current
        status = "scheduled" if later else "sending"
        if not self.repository.launch(campaign_id, status=status, now=iso(current)):
            return Launch(self.get(campaign_id), launched=False)
        request = DispatchRequest(kind="campaign", id=campaign_id).model_dump_json(exclude_none=True)
        settings = get_settings()
        if send_at is not None and later:
            self.schedule(
                f"campaign-{campaign_id}", send_at, queue_arn=settings.dispatch_queue_arn, body=request
            )
        else:
            self.send(settings.dispatch_queue_url, [request])
        return Launch(self.repository.get(campaign_id), launched=True)

    # ------------------------------------------------------------------ dispatch and sending

    def begin_dispatch(self, campaign_id: str) -> Campaign | None:
        """The campaign whose audience is to be queued, or None: a dispatch message for a campaign
        that does not exist, or was never launched, is dropped. A scheduled campaign whose time
        has come starts sending."""
        try:
            campaign = self.repository.get(campaign_id)
        except NotFound:
            return None
        if campaign.status == "draft":
            return None
        if campaign.status == "scheduled":
            self.repository.start_sending(campaign_id, now=iso(self.now()))
        return campaign

    def audience_page(self, campaign: Campaign, cursor: str | None) -> tuple[list[str], str | None]:
        """The ids of one page of the audience, and the cursor of the next (None: no more)."""
        flt, more_tags = audience_filter(campaign.audience)
        return self.candidates.matching_ids_page(flt, more_tags=more_tags, cursor=cursor, limit=AUDIENCE_PAGE)

    def progress_item(self, campaign_id: str) -> tuple[str, str]:
        """Where the dispatcher keeps the campaign's progress (and its recipients counter)."""
        return self.repository.progress_item(campaign_id)

    def record_message(self, campaign_id: str, recipients: list[str], states: dict[str, str]) -> None:
        """One mail message's final states (its tally); when the message is done, the campaign
        becomes sent if it was the last."""
        self.repository.write_tally(campaign_id, message_digest(recipients), totals_of(states))
        if len(states) >= len(recipients):
            self.settle(campaign_id)

    def settle(self, campaign_id: str) -> Campaign:
        """A sending campaign that is finished becomes ``sent``, its totals rolled up (one Query)."""
        campaign, totals = self.repository.with_tallies(campaign_id)
        if campaign.status != "sending":
            return campaign
        return self._settle(campaign, totals)

    def _settle(self, campaign: Campaign, totals: Totals) -> Campaign:
        live = with_totals(campaign, totals)
        if live.status == "sent":
            self.repository.mark_sent(campaign.id, totals)
        return live

    # ------------------------------------------------------------------ SES engagement

    def campaign_of(self, delivery: Delivery) -> str | None:
        """The campaign a delivery belongs to (None for every other mailing)."""
        if not delivery.scope.startswith(SCOPE_PREFIX):
            return None
        return delivery.scope.removeprefix(SCOPE_PREFIX)

    def count_engagement(self, delivery: Delivery, event: str) -> bool:
        """Count a delivery, bounce, complaint, open or click of a campaign's email once per
        recipient (False: not a campaign's, or counted before)."""
        campaign_id = self.campaign_of(delivery)
        if campaign_id is None:
            return False
        counter = self.repository.engagement_counter(campaign_id, event)
        return self.deliveries.mark_event(delivery, event, along_with=[counter])


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# Shortcuts for scripts (tests/bench); the product calls CampaignService.
def create_campaign(data: CampaignCreate) -> Campaign:
    return CampaignService().create(data)


def launch(campaign_id: str) -> Campaign:
    return CampaignService().launch(campaign_id).campaign
