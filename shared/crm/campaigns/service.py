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

**Cancel.** A draft or a scheduled campaign can be cancelled (:meth:`CampaignService.cancel`):
a conditional write moves it to ``cancelled`` and its schedule is deleted. Should the schedule
fire anyway (it was already firing, or the delete failed), the dispatcher drops the message: a
cancelled campaign is never dispatched, and moving scheduled to sending is conditional too, so a
cancel and the dispatch racing each other have one winner.

**Test send.** :meth:`CampaignService.send_test` renders the campaign's template for a sample
(or one real candidate) and sends it through SES to the signed-in user alone, with "[Test] " in
front of the subject. It is not a mailing: no delivery record, no tally, no configuration set (so
SES's events for it count nowhere), and nobody is marked as mailed.

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

from crm.campaigns.models import Audience, Campaign, CampaignCreate, CampaignTestSent
from crm.campaigns.repository import TALLIED, CampaignRepository, Totals
from crm.candidates.models import CandidateFilter
from crm.candidates.service import CandidateService
from crm.events.service import EventService, audience_errors
from crm.mailing.compose import compose
from crm.mailing.deliveries import Deliveries, Delivery
from crm.mailing.mailer import Mailer, SendRejected, SendThrottled, SesMailer
from crm.mailing.messages import DispatchRequest, message_digest
from crm.mailing.templating import SAMPLE_CONTEXT, preview_context, render_checked
from crm.platform import clock, scheduler
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from crm.platform.ids import iso
from crm.platform.queues import send_messages
from crm.pools.service import PoolService
from crm.templates.service import TemplateService

#: Candidates per audience page the dispatcher queues.
AUDIENCE_PAGE = 500
SCOPE_PREFIX = "campaign#"

#: Puts ``body`` on the dispatch queue at a time: ``schedule(name, at, queue_arn=..., body=...)``.
Schedule = Callable[..., None]
#: Deletes a schedule by name (False: there was none).
Unschedule = Callable[[str], bool]
#: Puts messages on a queue: ``send(queue_url, bodies)``.
QueueSender = Callable[[str, list[str]], None]


#: What marks a test send in the outbox (and in the recipient's mail client).
TEST_HEADERS = {"X-CRM-Mailing": "test"}
#: What can still be cancelled.
CANCELLABLE = ("draft", "scheduled")


def schedule_name(campaign_id: str) -> str:
    """The name of a scheduled campaign's one-time schedule."""
    return f"campaign-{campaign_id}"


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
        unschedule: Unschedule = scheduler.unschedule,
        send: QueueSender = send_messages,
        now: Callable[[], datetime] = clock.now,
        mailer: Mailer | None = None,
    ) -> None:
        self.repository = repository or CampaignRepository()
        self.templates = templates or TemplateService()
        self.pools = pools or PoolService()
        self.candidates = candidates or CandidateService()
        self.deliveries = deliveries or Deliveries()
        self.schedule = schedule
        self.unschedule = unschedule
        self.send = send
        self.now = now
        self._mailer = mailer

    # ------------------------------------------------------------------ create and read

    def check_references(
        self, template_id: str | None = None, pool: str | None = None, audience: Audience | None = None
    ) -> None:
        """422 naming the field when the template, the pool or the event does not exist (or the
        audience mixes an event with other conditions)."""
        errors = []
        if audience is not None:
            errors += audience_errors(
                audience.event, audience.attendance, others=(audience.pool, audience.tags, audience.source)
            )
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
        self.check_references(data.template_id, data.audience.pool, data.audience)
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
        if campaign.audience.event:
            return len(self._event_audience(campaign.audience))
        flt, more_tags = audience_filter(campaign.audience)
        return self.candidates.count_matching(flt, more_tags=more_tags)

    def _event_audience(self, audience: Audience) -> list[str]:
        assert audience.event is not None
        return EventService().audience_ids(audience.event, audience.attendance or "registered")

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
                schedule_name(campaign_id), send_at, queue_arn=settings.dispatch_queue_arn, body=request
            )
        else:
            self.send(settings.dispatch_queue_url, [request])
        return Launch(self.repository.get(campaign_id), launched=True)

    def cancel(self, campaign_id: str) -> Campaign:
        """Cancel a draft, or a scheduled campaign before its time (its schedule is deleted);
        ``Conflict`` for one that is sending, sent or cancelled already."""
        campaign = self.get(campaign_id)
        if campaign.status not in CANCELLABLE or not self.repository.cancel(campaign_id, now=iso(self.now())):
            status = self.repository.get(campaign_id).status
            raise Conflict(
                f"The campaign is {status}: only a draft or a scheduled campaign can be cancelled.",
                status_now=status,
            )
        if campaign.status == "scheduled":
            self.unschedule(schedule_name(campaign_id))
        return self.get(campaign_id)

    # ------------------------------------------------------------------ test send

    def send_test(self, campaign_id: str, *, to: str | None, candidate_id: str | None) -> CampaignTestSent:
        """Send the campaign's email to ``to`` (the signed-in user) alone, rendered for
        ``candidate_id`` or for sample values. ``Conflict`` without an address (an API key has
        none), 422 naming ``candidate_id`` for no such candidate."""
        campaign = self.get(campaign_id)
        if not to:
            raise Conflict(
                "A test email goes to the signed-in user's own address, and an API key has none: "
                "send it signed in as a person."
            )
        if candidate_id is None:
            context = dict(SAMPLE_CONTEXT)
        else:
            try:
                candidate = self.candidates.get(candidate_id)
            except NotFound:
                raise ValidationFailed(
                    "The test refers to a candidate that does not exist.",
                    errors=[{"field": "candidate_id", "message": f"no candidate with id {candidate_id}"}],
                ) from None
            context = preview_context(candidate.model_dump())
        try:
            template = self.templates.get(campaign.template_id)
        except NotFound:
            raise Conflict("The campaign's template no longer exists.") from None
        parts = {"subject": template.subject, "html": template.html, "text": template.text}
        rendered = render_checked(parts, context)
        subject = f"[Test] {rendered.subject}"
        try:
            message = compose(
                to, get_settings().mail_from, subject, rendered.html, rendered.text, headers=TEST_HEADERS
            )
        except ValueError as exc:  # an address or subject that cannot be a header
            raise Conflict(f"The test email cannot be built: {exc}") from exc
        mailer = self._mailer or SesMailer(configuration_set="")
        try:
            mailer.send(message)
        except SendThrottled as exc:
            raise ServiceUnavailable("The mail service is busy; try again in a moment.") from exc
        except SendRejected as exc:
            raise Conflict(f"The mail service refused the test email: {exc}") from exc
        return CampaignTestSent(to=to, subject=subject)

    # ------------------------------------------------------------------ dispatch and sending

    def begin_dispatch(self, campaign_id: str) -> Campaign | None:
        """The campaign whose audience is to be queued, or None: a dispatch message for a campaign
        that does not exist, or was never launched, is dropped. A scheduled campaign whose time
        has come starts sending."""
        try:
            campaign = self.repository.get(campaign_id)
        except NotFound:
            return None
        if campaign.status in ("draft", "cancelled"):
            return None
        if campaign.status == "scheduled" and not self.repository.start_sending(
            campaign_id, now=iso(self.now())
        ):
            campaign = self.repository.get(campaign_id)
            if campaign.status == "cancelled":
                return None
        return campaign

    def audience_page(self, campaign: Campaign, cursor: str | None) -> tuple[list[str], str | None]:
        """The ids of one page of the audience, and the cursor of the next (None: no more). An
        event's people are read whole (an event has thousands at most) and paged by position."""
        if campaign.audience.event:
            ids = self._event_audience(campaign.audience)
            start = int(cursor) if cursor and cursor.isdigit() else 0
            following = start + AUDIENCE_PAGE
            return ids[start:following], str(following) if following < len(ids) else None
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
