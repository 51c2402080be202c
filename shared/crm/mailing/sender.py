"""The mail worker: one mail-queue message -> at most one email per recipient, ever.

For a message it takes the message's lock, reads the recipients' delivery records, resolves the
unfinished ones each to an address (or a reason not to mail: no consent, suppressed, erased,
stopped), sends through SES and records each send at once. What to send is a *plan* per message kind.

Faults: a throttled send fails the message, which SQS redelivers later (the handler backs it
off), and the redelivery skips every recipient already recorded; a crash leaves the message's
lock to expire, and the redelivered message finishes the job; a message whose lock a live worker
holds (a duplicate delivery) fails and is retried until it finds every recipient final. Campaign
stats are a tally per message, rewritten by every attempt (``CampaignRepository.tally``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.parse import urlencode

from crm.candidates.models import Topic
from crm.mailing.compose import Mailer, SendRejected, SendThrottled, compose, display
from crm.mailing.messages import MailJob
from crm.mailing.repository import DeliveryLedger, DuplicateSend, MessageLock
from crm.mailing.templating import RenderedEmail, render, render_builtin
from crm.platform import clock, table
from crm.platform.config import get_settings
from crm.platform.fields import normalise_email
from crm.platform.ids import iso
from crm.platform.signing import sign
from crm.portal.unsubscribe import unsubscribe_url
from crm.templates import builtin as builtin_templates

log = logging.getLogger(__name__)


class Throttled(Exception):
    """SES asked us to slow down; the message is retried later."""


class RecipientsBusy(Exception):
    """Another worker holds some recipients; the message is retried until they are final."""


@dataclass(frozen=True)
class Target:
    email: str
    name: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    already_done: int = 0

    def final_states(self) -> dict[str, str]:
        states = dict.fromkeys(self.sent, "sent")
        states.update(dict.fromkeys(self.skipped, "skipped"))
        states.update(dict.fromkeys(self.failed, "failed"))
        return states


# ------------------------------------------------------------------------------- recipients


def portal_url(candidate_id: str) -> str:
    """The portal's front door. Marketing mail lives long and gets forwarded, so it carries no
    credential: the portal emails a one-hour link to the address on file (``crm.portal.service``)."""
    return get_settings().public_base_url.rstrip("/") + "/portal"


def signed_portal_url(candidate_id: str) -> str:
    """The one-hour link to one's own data, sent only to the address on file (``PortalLinkPlan``)."""
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/portal?{urlencode({'token': sign('portal', {'c': candidate_id})})}"


def suppressed_addresses(emails: list[str]) -> set[str]:
    keys = [(f"SUPPRESS#{normalise_email(e)}", "SUPPRESS") for e in emails]
    found = table.batch_get(keys, consistent=False)
    return {pk.removeprefix("SUPPRESS#") for pk, _ in found}


def candidate_targets(
    candidate_ids: list[str], topic: Topic | None, extra: dict[str, Any] | None = None
) -> dict[str, Target | Skip]:
    """Each candidate as an address with its template context, or the reason not to mail them."""
    found = table.batch_get([(f"CAND#{c}", "PROFILE") for c in candidate_ids])
    profiles = {pk.removeprefix("CAND#"): table.from_item(item) for (pk, _), item in found.items()}
    suppressed = suppressed_addresses([p["email"] for p in profiles.values()])
    targets: dict[str, Target | Skip] = {}
    for candidate_id in candidate_ids:
        profile = profiles.get(candidate_id)
        if profile is None:
            targets[candidate_id] = Skip("erased")
            continue
        consent = (profile.get("consents") or {}).get(topic) if topic else None
        if topic and not (consent and consent.get("granted")):
            targets[candidate_id] = Skip("no_consent")
        elif normalise_email(profile["email"]) in suppressed:
            targets[candidate_id] = Skip("suppressed")
        else:
            context = dict(profile)
            if topic:
                context["unsubscribe_url"] = unsubscribe_url(candidate_id, topic)
            context["portal_url"] = portal_url(candidate_id)
            context.update(extra or {})
            name = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
            targets[candidate_id] = Target(email=profile["email"], name=name, context=context)
    return targets


# ------------------------------------------------------------------------------- plans


class Plan(ABC):
    """What one kind of mailing sends, to whom, and what happens once recipients are final."""

    scope: str
    topic: Topic | None

    @abstractmethod
    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]: ...

    @abstractmethod
    def render(self, target: Target) -> RenderedEmail: ...

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:  # noqa: B027 - optional
        """The message's recipients and the final state of each that has one."""


class CampaignPlan(Plan):
    topic: Topic | None = "marketing"

    def __init__(self, campaign_id: str) -> None:
        from crm.campaigns.repository import CampaignRepository, scope
        from crm.templates.repository import TemplateRepository

        self.campaign_id = campaign_id
        self.scope = scope(campaign_id)
        self.repository = CampaignRepository()
        template = TemplateRepository().get(self.repository.template_id(campaign_id))
        self.parts = {"subject": template.subject, "html": template.html, "text": template.text}

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        return candidate_targets(recipients, self.topic)

    def render(self, target: Target) -> RenderedEmail:
        return render(self.parts, target.context)

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:
        self.repository.tally(self.campaign_id, recipients, states)


class SequencePlan(Plan):
    topic: Topic | None = "marketing"

    def __init__(self, sequence_id: str, step: int) -> None:
        from crm.sequences.repository import SequenceRepository
        from crm.templates.repository import TemplateRepository

        self.sequences = SequenceRepository()
        self.sequence = self.sequences.get(sequence_id)
        if not 0 <= step < len(self.sequence.steps):
            raise ValueError(f"sequence {sequence_id} has no step {step}")
        self.scope = f"seq#{sequence_id}#{step}"
        template = TemplateRepository().get(self.sequence.steps[step].template_id)
        self.parts = {"subject": template.subject, "html": template.html, "text": template.text}

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        from crm.sequences.repository import enrollment_key

        targets = candidate_targets(recipients, self.topic)
        enrolments = table.batch_get([enrollment_key(c, self.sequence.id) for c in recipients])
        for candidate_id in recipients:
            item = enrolments.get(enrollment_key(candidate_id, self.sequence.id))
            state = table.from_item(item).get("state") if item else None
            if state == "stopped":
                targets[candidate_id] = Skip("stopped")
            elif isinstance(targets[candidate_id], Skip) and state == "active":
                reason = "erased" if targets[candidate_id] == Skip("erased") else "unsubscribed"
                self.sequences.stop(candidate_id, self.sequence.id, reason=reason, now=iso(clock.now()))
        return targets

    def render(self, target: Target) -> RenderedEmail:
        return render(self.parts, target.context)


class JobAlertPlan(Plan):
    topic: Topic | None = "job_alerts"

    def __init__(self, job_id: str) -> None:
        from crm.jobs.repository import JobRepository

        self.job = JobRepository().get(job_id)
        self.scope = f"alert#{job_id}"
        base = get_settings().public_base_url.rstrip("/")
        self.job_context = {
            "id": self.job.id,
            "title": self.job.title,
            "location": self.job.location,
            "department": self.job.department,
            "url": f"{base}/careers?{urlencode({'job': self.job.id})}",
        }

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        if self.job.status != "open":
            return dict.fromkeys(recipients, Skip("job_closed"))
        return candidate_targets(recipients, self.topic, {"job": self.job_context})

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.JOB_ALERT, target.context)


class AlertConfirmationPlan(Plan):
    topic: Topic | None = None

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.scope = f"confirm#{request_id}"

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        from crm.alerts.repository import AlertSubscriptionRepository
        from crm.alerts.service import confirm_url

        targets = candidate_targets(recipients, None)
        for candidate_id, target in list(targets.items()):
            if isinstance(target, Skip):
                continue
            subscription = AlertSubscriptionRepository().get(candidate_id) or {}
            pending = subscription.get("pending") or {}
            if pending.get("request_id") != self.request_id:
                targets[candidate_id] = Skip("superseded")
                continue
            target.context.update(
                confirm_url=confirm_url(candidate_id, self.request_id),
                tags=pending.get("tags") or [],
                location=pending.get("location"),
            )
        return targets

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.ALERT_CONFIRMATION, target.context)


class PortalLinkPlan(Plan):
    """A person asked for a link to the portal: transactional (no consent needed; suppression
    still applies). The message of an address nobody has names ``crm.portal.service.NOBODY``: no email."""

    topic: Topic | None = None

    def __init__(self, request_id: str) -> None:
        self.scope = f"portal#{request_id}"

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        from crm.portal.service import NOBODY

        known = [r for r in recipients if r != NOBODY]
        targets = candidate_targets(known, None) if known else {}
        for candidate_id, target in targets.items():
            if isinstance(target, Target):
                target.context["portal_url"] = signed_portal_url(candidate_id)
        return {r: targets.get(r, Skip("unknown")) for r in recipients}

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.PORTAL_LINK, target.context)


class ReminderPlan(Plan):
    """Recipients are ``<candidate id>/<reminder id>``; the email goes to the recruiter who set it."""

    topic: Topic | None = None
    scope = "reminder"

    def __init__(self) -> None:
        from crm.reminders.repository import ReminderRepository

        self.reminders = ReminderRepository()

    def targets(self, recipients: list[str]) -> dict[str, Target | Skip]:
        from crm.reminders.repository import reminder_key

        base = get_settings().public_base_url.rstrip("/")
        pairs = {r: tuple(r.split("/", 1)) for r in recipients}
        keys = [reminder_key(*p) for p in pairs.values() if len(p) == 2]
        keys += [(f"CAND#{p[0]}", "PROFILE") for p in pairs.values() if len(p) == 2]
        found = table.batch_get(keys)
        owners = [table.from_item(i)["owner"] for (pk, sk), i in found.items() if sk.startswith("REMINDER#")]
        suppressed = suppressed_addresses(owners)
        targets: dict[str, Target | Skip] = {}
        for recipient, pair in pairs.items():
            if len(pair) != 2:
                targets[recipient] = Skip("malformed")
                continue
            reminder_item = found.get(reminder_key(*pair))
            profile_item = found.get((f"CAND#{pair[0]}", "PROFILE"))
            if reminder_item is None or profile_item is None:
                targets[recipient] = Skip("removed")
                continue
            reminder, profile = table.from_item(reminder_item), table.from_item(profile_item)
            if normalise_email(reminder["owner"]) in suppressed:
                targets[recipient] = Skip("suppressed")
                continue
            candidate_name = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
            targets[recipient] = Target(
                email=reminder["owner"],
                name="",
                context={
                    "candidate_name": candidate_name,
                    "candidate_url": f"{base}/ui/candidates/{pair[0]}",
                    "note": reminder["note"],
                    "due_at": reminder["due_at"],
                },
            )
        return targets

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.REMINDER, target.context)

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:
        now = iso(clock.now())
        for recipient, state in states.items():
            if state == "sent":
                candidate_id, _, reminder_id = recipient.partition("/")
                self.reminders.mark_notified(candidate_id, reminder_id, now=now)


def plan_for(job: MailJob) -> Plan:
    if job.kind == "campaign":
        return CampaignPlan(job.ref)
    if job.kind == "sequence":
        return SequencePlan(job.ref, job.step or 0)
    if job.kind == "job_alert":
        return JobAlertPlan(job.ref)
    if job.kind == "alert_confirm":
        return AlertConfirmationPlan(job.ref)
    if job.kind == "portal_link":
        return PortalLinkPlan(job.ref)
    return ReminderPlan()


# ------------------------------------------------------------------------------- sending


class Pacer:
    """Keeps one worker under ``rate`` sends per second (0: unpaced)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            time.sleep(delay)


_mailer: Mailer | None = None
_pacer: Pacer | None = None


def mailer() -> Mailer:
    global _mailer
    if _mailer is None:
        from crm.mailing.compose import SesMailer

        _mailer = SesMailer()
    return _mailer


def set_mailer(replacement: Mailer | None) -> None:
    global _mailer
    _mailer = replacement


def pacer() -> Pacer:
    global _pacer
    if _pacer is None:
        _pacer = Pacer(get_settings().mail_send_rate)
    return _pacer


def lease_seconds() -> int:
    return get_settings().mail_claim_lease_seconds


def build_message(plan: Plan, target: Target, sender: str) -> Message | None:
    """The email for one recipient; None when it cannot be built (a template that fails for this
    person, an address that cannot be a header): sending it again would fail again."""
    try:
        rendered = plan.render(target)
        return compose(
            display(target.name, target.email) if target.name else target.email,
            sender,
            rendered.subject,
            rendered.html,
            rendered.text,
            list_unsubscribe_url=target.context.get("unsubscribe_url") if plan.topic else None,
            headers={"X-CRM-Mailing": plan.scope.split("#", 1)[0]},
        )
    except Exception as exc:
        log.warning("cannot build an email of %s: %s", plan.scope, type(exc).__name__)
        return None


@dataclass
class Attempt:
    """One worker's pass over one message, under the message's lock."""

    plan: Plan
    ledger: DeliveryLedger
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcome: Outcome = field(default_factory=Outcome)
    earlier: dict[str, str] = field(default_factory=dict)  # recipients final before this attempt

    def unfinished(self, recipients: list[str]) -> list[str]:
        records = self.ledger.read(recipients)
        for recipient, record in records.items():
            self.earlier[recipient] = record.state
        self.outcome.already_done = len(records)
        return [r for r in recipients if r not in records]

    def send_all(self, recipients: list[str]) -> bool:
        """Send in order; False when SES throttled (the rest wait for the retried message)."""
        targets = self.plan.targets(recipients) if recipients else {}
        sender = get_settings().mail_from
        for recipient in recipients:
            target = targets[recipient]
            if isinstance(target, Skip):
                self.outcome.skipped[recipient] = target.reason
                continue
            message = build_message(self.plan, target, sender)
            if message is None:
                self.outcome.failed[recipient] = "render"
                continue
            pacer().wait()
            try:
                message_id = mailer().send(message)
            except SendThrottled:
                return False
            except SendRejected as exc:
                self.outcome.failed[recipient] = exc.code or "rejected"
                continue
            try:
                self.ledger.record_sent(recipient, message_id=message_id, sent_at=iso(clock.now()))
            except DuplicateSend:
                log.warning("a recipient of %s was mailed by another worker too", self.plan.scope)
            self.outcome.sent.append(recipient)
        return True

    def record(self, recipients: list[str]) -> None:
        """Write the recipients not mailed, then let the plan see every final state."""
        outcome = self.outcome
        finals = {r: ("skipped", reason) for r, reason in outcome.skipped.items()}
        finals |= {r: ("failed", reason) for r, reason in outcome.failed.items()}
        if finals:
            self.ledger.record_final(finals)
        states = {**self.earlier, **outcome.final_states()}
        if states:
            self.plan.finished(recipients, states)


def process(job: MailJob) -> Outcome:
    """Send one mail-queue message. Raises ``Throttled`` or ``RecipientsBusy`` when it must be retried."""
    plan = plan_for(job)
    recipients = list(dict.fromkeys(job.recipients))
    attempt = Attempt(plan=plan, ledger=DeliveryLedger(plan.scope))
    lock = MessageLock(plan.scope, recipients)
    now = clock.now()
    lease_until = iso(now + timedelta(seconds=lease_seconds()))
    if not lock.acquire(owner=attempt.owner, now=iso(now), lease_until=lease_until):
        raise RecipientsBusy(f"another worker holds this message of {plan.scope}")
    try:
        completed = attempt.send_all(attempt.unfinished(recipients))
        attempt.record(recipients)
    finally:
        lock.release(owner=attempt.owner)
    if not completed:
        raise Throttled(f"SES throttled sends of {plan.scope}")
    return attempt.outcome
