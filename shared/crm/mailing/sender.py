"""The mail engine: one mail-queue message -> at most one email per recipient, ever.

For a message it asks the registry (``plan_for``, ``crm.workflows.mail_kinds``) for the message's
plan (``crm.mailing.plans``), takes the message's lock, reads the recipients' delivery records,
asks the plan who the unfinished ones are, and applies the rules every mail obeys: marketing mail
(a plan with a consent ``topic``) goes only to someone who granted that topic and carries their
unsubscribe link; nobody on the suppression list is mailed (transactional mail needs no consent,
but suppression still applies). Then the plan's own rules (``screened``), and each email is
rendered, sent through the mailer and recorded at once. Once the recipients are final the plan
records what it wants (``finished``).

Faults: a throttled send fails the message, which SQS redelivers later (the handler backs it
off), and the redelivery skips every recipient already recorded; a crash leaves the message's
lock to expire, and the redelivered message finishes the job; a message whose lock a live worker
holds (a duplicate delivery) fails and is retried until it finds every recipient final.

Every port is a constructor argument (mailer, ledger, locks, suppression list, pacer, clock,
unsubscribe links), with
the real one as the default, so the rules run in unit tests with in-memory fakes.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Protocol

from crm.mailing.compose import compose, display
from crm.mailing.links import unsubscribe_url
from crm.mailing.mailer import Mailer, SendRejected, SendThrottled, SesMailer
from crm.mailing.messages import MailJob
from crm.mailing.plans import Plan, Skip, Target, Verdicts
from crm.mailing.repository import Delivery, DeliveryLedger, DuplicateSend, MessageLocks
from crm.mailing.suppression import SuppressionList
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.fields import normalise_email
from crm.platform.ids import iso

log = logging.getLogger(__name__)

PlanFor = Callable[[MailJob], Plan]


class Throttled(Exception):
    """SES asked us to slow down; the message is retried later."""


class RecipientsBusy(Exception):
    """Another worker holds some recipients; the message is retried until they are final."""


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


# ------------------------------------------------------------------------------- ports


class Ledger(Protocol):
    def read(self, scope: str, recipients: Iterable[str]) -> dict[str, Delivery]: ...
    def record_sent(
        self, scope: str, recipient: str, *, message_id: str, sent_at: str, person: bool = False
    ) -> None: ...
    def record_final(self, scope: str, outcomes: dict[str, tuple[str, str]]) -> None: ...


class Locks(Protocol):
    def acquire(
        self, scope: str, recipients: list[str], *, owner: str, now: str, lease_until: str
    ) -> bool: ...
    def release(self, scope: str, recipients: list[str], *, owner: str) -> None: ...


class Suppressions(Protocol):
    def suppressed_among(self, emails: Iterable[str]) -> set[str]: ...


# ------------------------------------------------------------------------------- one email


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
            headers={"X-CRM-Mailing": plan.scope.split("#", 1)[0]}
            | ({"Reply-To": rendered.reply_to} if rendered.reply_to else {}),
            attachments=rendered.attachments,
        )
    except Exception as exc:
        log.warning("cannot build an email of %s: %s", plan.scope, type(exc).__name__)
        return None


# ------------------------------------------------------------------------------- the engine


class MailSender:
    """Carries out the plan of each mail-queue message, exactly once per recipient."""

    def __init__(
        self,
        plan_for: PlanFor,
        *,
        mailer: Mailer | None = None,
        ledger: Ledger | None = None,
        locks: Locks | None = None,
        suppressions: Suppressions | None = None,
        pacer: Pacer | None = None,
        now: Callable[[], datetime] = clock.now,
        sender: str | None = None,
        lease_seconds: int | None = None,
        unsubscribe_link: Callable[[str, str], str] = unsubscribe_url,
    ) -> None:
        self.plan_for = plan_for
        self.unsubscribe_link = unsubscribe_link
        self.ledger: Ledger = ledger or DeliveryLedger()
        self.locks: Locks = locks or MessageLocks()
        self.suppressions: Suppressions = suppressions or SuppressionList()
        self.now = now
        self._mailer = mailer
        self._pacer = pacer
        self._sender = sender
        self._lease_seconds = lease_seconds

    # The real mailer and pacer are made on first use (SES's configuration set and the send rate
    # come from the settings, which a test or the local stack may change before that).
    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            self._mailer = SesMailer()
        return self._mailer

    @property
    def pacer(self) -> Pacer:
        if self._pacer is None:
            self._pacer = Pacer(get_settings().mail_send_rate)
        return self._pacer

    @property
    def sender(self) -> str:
        """The From of every email."""
        return self._sender or get_settings().mail_from

    def process(self, job: MailJob) -> Outcome:
        """Send one mail-queue message. Raises ``Throttled`` or ``RecipientsBusy`` when it must be retried."""
        plan = self.plan_for(job)
        recipients = list(dict.fromkeys(job.recipients))
        attempt = _Attempt(self, plan)
        now = self.now()
        lease = self._lease_seconds or get_settings().mail_claim_lease_seconds
        lease_until = iso(now + timedelta(seconds=lease))
        if not self.locks.acquire(
            plan.scope, recipients, owner=attempt.owner, now=iso(now), lease_until=lease_until
        ):
            raise RecipientsBusy(f"another worker holds this message of {plan.scope}")
        try:
            completed = attempt.send_all(attempt.unfinished(recipients))
            attempt.record(recipients)
        finally:
            self.locks.release(plan.scope, recipients, owner=attempt.owner)
        if not completed:
            raise Throttled(f"SES throttled sends of {plan.scope}")
        return attempt.outcome

    def screen(self, plan: Plan, verdicts: Verdicts) -> Verdicts:
        """The rules every mail obeys, then the plan's own: consent for marketing mail, the
        suppression list for all; marketing mail carries the recipient's unsubscribe link."""
        topic = plan.topic
        consented = {
            r: t
            for r, t in verdicts.items()
            if isinstance(t, Target) and (topic is None or topic in t.consents)
        }
        suppressed = self.suppressions.suppressed_among([t.email for t in consented.values()])
        screened: Verdicts = {}
        for recipient, verdict in verdicts.items():
            if isinstance(verdict, Skip):
                screened[recipient] = verdict
            elif recipient not in consented:
                screened[recipient] = Skip("no_consent")
            elif normalise_email(verdict.email) in suppressed:
                screened[recipient] = Skip("suppressed")
            else:
                screened[recipient] = verdict
        screened = plan.screened(screened)
        if topic:
            for recipient, verdict in screened.items():
                if isinstance(verdict, Target):
                    verdict.context["unsubscribe_url"] = self.unsubscribe_link(recipient, topic)
        return screened


class _Attempt:
    """One worker's pass over one message, under the message's lock."""

    def __init__(self, engine: MailSender, plan: Plan) -> None:
        self.engine = engine
        self.plan = plan
        self.owner = uuid.uuid4().hex
        self.outcome = Outcome()
        self.earlier: dict[str, str] = {}  # recipients final before this attempt

    def unfinished(self, recipients: list[str]) -> list[str]:
        records = self.engine.ledger.read(self.plan.scope, recipients)
        for recipient, record in records.items():
            self.earlier[recipient] = record.state
        self.outcome.already_done = len(records)
        return [r for r in recipients if r not in records]

    def send_all(self, recipients: list[str]) -> bool:
        """Send in order; False when SES throttled (the rest wait for the retried message)."""
        engine, plan = self.engine, self.plan
        targets = engine.screen(plan, plan.targets(recipients)) if recipients else {}
        sender = engine.sender
        for recipient in recipients:
            target = targets[recipient]
            if isinstance(target, Skip):
                self.outcome.skipped[recipient] = target.reason
                continue
            message = build_message(plan, target, sender)
            if message is None:
                self.outcome.failed[recipient] = "render"
                continue
            engine.pacer.wait()
            try:
                message_id = engine.mailer.send(message)
            except SendThrottled:
                return False
            except SendRejected as exc:
                self.outcome.failed[recipient] = exc.code or "rejected"
                continue
            try:
                engine.ledger.record_sent(
                    plan.scope,
                    recipient,
                    message_id=message_id,
                    sent_at=iso(engine.now()),
                    person=plan.to_people,
                )
            except DuplicateSend:
                log.warning("a recipient of %s was mailed by another worker too", plan.scope)
            self.outcome.sent.append(recipient)
        return True

    def record(self, recipients: list[str]) -> None:
        """Write the recipients not mailed, then let the plan see every final state."""
        outcome = self.outcome
        finals = {r: ("skipped", reason) for r, reason in outcome.skipped.items()}
        finals |= {r: ("failed", reason) for r, reason in outcome.failed.items()}
        if finals:
            self.engine.ledger.record_final(self.plan.scope, finals)
        states = {**self.earlier, **outcome.final_states()}
        if states:
            self.plan.finished(recipients, states)
