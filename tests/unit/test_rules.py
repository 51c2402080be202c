"""The business rules, each run against in-memory fakes of its ports (no moto, no AWS): the merge
policy of a public form, a recruiter's consent decision, what the mail engine sends (consent
and suppression checked at send time, one email per recipient ever, throttling), when a
sequence stops, and how a campaign is launched and becomes sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest

from crm.campaigns.models import Campaign, CampaignCreate
from crm.campaigns.service import CampaignService
from crm.candidates.models import Candidate, Consent, PublicSubmission
from crm.candidates.service import merge_plan, recruiter_consent
from crm.mailing.mailer import InMemoryMailer, SendThrottled
from crm.mailing.messages import MailJob
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.repository import Delivery, DuplicateSend
from crm.mailing.sender import MailSender, Pacer, Throttled
from crm.mailing.templating import RenderedEmail
from crm.platform.errors import ValidationFailed
from crm.sequences.mail import SequencePlan
from crm.sequences.models import Enrollment, Sequence

NOW = "2026-12-02T09:00:00Z"

# ------------------------------------------------------------------------------ the merge policy


def _form(**fields: Any) -> PublicSubmission:
    return PublicSubmission.model_validate({"email": "ada@example.com", "last_name": "Lovelace", **fields})


def test_a_form_fills_empty_fields_adds_tags_and_source_and_only_grants_consent() -> None:
    plan = merge_plan(
        _form(first_name="Ada", phone="+44 20 7946 0000", tags=["python"], marketing_consent=True),
        source="talent-network",
        now=NOW,
    )
    assert plan.fill["phone"] == "+44 20 7946 0000"
    assert plan.tags == ["python"] and plan.sources == ["talent-network"]
    assert plan.consent is not None and plan.consent.granted and plan.consent.source == "talent-network"
    unticked = merge_plan(_form(first_name="Ada", marketing_consent=False), source="talent-network", now=NOW)
    assert unticked.consent is None  # an unticked box never withdraws a consent
    assert "email" not in plan.fill


def test_a_recruiter_records_a_consent_decision_only_when_it_changes() -> None:
    granted = Consent(topic="marketing", granted=True, at=NOW, source="portal")
    person = _person("c1", consents={"marketing": granted})
    assert recruiter_consent(person, True, actor="user:r", now=NOW) is None
    assert recruiter_consent(person, None, actor="user:r", now=NOW) is None
    withdrawn = recruiter_consent(person, False, actor="user:r", now=NOW)
    assert withdrawn is not None and not withdrawn.granted and withdrawn.source == "recruiter:user:r"


# ------------------------------------------------------------------------------ the mail engine


def _person(
    candidate_id: str, *, email: str | None = None, consents: dict[str, Consent] | None = None
) -> Candidate:
    return Candidate.model_validate(
        {
            "id": candidate_id,
            "email": email or f"{candidate_id}@example.com",
            "first_name": candidate_id.upper(),
            "last_name": "Lovelace",
            "consents": consents or {},
            "source": "api",
            "version": 1,
            "created_at": NOW,
            "updated_at": NOW,
        }
    )


def _consented(candidate_id: str, **kwargs: Any) -> Candidate:
    grant = Consent(topic="marketing", granted=True, at=NOW, source="form")
    return _person(candidate_id, consents={"marketing": grant}, **kwargs)


class FakeLedger:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Delivery] = {}

    def read(self, scope: str, recipients: Iterable[str]) -> dict[str, Delivery]:
        return {r: self.records[(scope, r)] for r in recipients if (scope, r) in self.records}

    def record_sent(
        self, scope: str, recipient: str, *, message_id: str, sent_at: str, person: bool = False
    ) -> None:
        if (scope, recipient) in self.records:
            raise DuplicateSend(recipient)
        self.records[(scope, recipient)] = Delivery(recipient, "sent", scope=scope)

    def record_final(self, scope: str, outcomes: dict[str, tuple[str, str]]) -> None:
        for recipient, (state, reason) in outcomes.items():
            self.records.setdefault((scope, recipient), Delivery(recipient, state, reason, scope))


class FakeLocks:
    def __init__(self) -> None:
        self.held: set[str] = set()

    def acquire(self, scope: str, recipients: list[str], *, owner: str, now: str, lease_until: str) -> bool:
        if scope in self.held:
            return False
        self.held.add(scope)
        return True

    def release(self, scope: str, recipients: list[str], *, owner: str) -> None:
        self.held.discard(scope)


class FakeSuppressions:
    def __init__(self, *emails: str) -> None:
        self.emails = set(emails)

    def suppressed_among(self, emails: Iterable[str]) -> set[str]:
        return {e for e in emails if e in self.emails}


class NewsPlan(Plan):
    """A marketing mailing to people held in memory; ``finished`` keeps what it was told."""

    scope = "news#1"

    def __init__(self, people: dict[str, Candidate], topic: str | None = "marketing") -> None:
        self.people = people
        self.topic = topic
        self.finals: dict[str, str] = {}

    def targets(self, recipients: list[str]) -> Verdicts:
        return person_targets(recipients, {r: self.people[r] for r in recipients if r in self.people})

    def render(self, target: Target) -> RenderedEmail:
        return RenderedEmail(subject="News", html=f"<p>Hi {target.context['first_name']}</p>", text="Hi")

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:
        self.finals.update(states)


class Engine:
    def __init__(self, plan: NewsPlan, *, suppressed: tuple[str, ...] = ()) -> None:
        self.plan = plan
        self.mailer = InMemoryMailer()
        self.ledger = FakeLedger()
        self.locks = FakeLocks()
        self.sender = MailSender(
            lambda job: plan,
            mailer=self.mailer,
            ledger=self.ledger,
            locks=self.locks,
            suppressions=FakeSuppressions(*suppressed),
            pacer=Pacer(0),
            sender="crm@example.com",
            lease_seconds=60,
            now=lambda: datetime(2026, 12, 2, 9, tzinfo=UTC),
            unsubscribe_link=lambda candidate_id, topic: f"https://crm.example/u/{candidate_id}/{topic}",
        )

    def send(self, *recipients: str) -> Any:
        return self.sender.process(MailJob(kind="campaign", ref="1", recipients=list(recipients)))

    def to(self) -> list[str]:
        return [str(m["To"]) for m in self.mailer.messages]


def test_marketing_mail_goes_only_to_people_who_consented_and_are_not_suppressed() -> None:
    people = {
        "a": _consented("a"),
        "b": _person("b"),  # never consented
        "c": _consented("c", email="c@example.com"),
    }
    engine = Engine(NewsPlan(people), suppressed=("c@example.com",))
    outcome = engine.send("a", "b", "c", "gone")
    assert outcome.sent == ["a"]
    assert outcome.skipped == {"b": "no_consent", "c": "suppressed", "gone": "erased"}
    [message] = engine.mailer.messages
    assert "a@example.com" in str(message["To"])
    assert message["List-Unsubscribe"] == "<https://crm.example/u/a/marketing>"
    assert engine.plan.finals == {"a": "sent", "b": "skipped", "c": "skipped", "gone": "skipped"}


def test_transactional_mail_needs_no_consent_but_respects_suppression() -> None:
    people = {"a": _person("a"), "b": _person("b")}
    engine = Engine(NewsPlan(people, topic=None), suppressed=("b@example.com",))
    outcome = engine.send("a", "b")
    assert outcome.sent == ["a"] and outcome.skipped == {"b": "suppressed"}
    [message] = engine.mailer.messages
    assert message["List-Unsubscribe"] is None


def test_a_message_delivered_twice_mails_each_recipient_once() -> None:
    engine = Engine(NewsPlan({"a": _consented("a"), "b": _consented("b")}))
    engine.send("a", "b")
    again = engine.send("b", "a")
    assert again.sent == [] and again.already_done == 2
    assert len(engine.mailer.messages) == 2


def test_a_throttled_send_is_retried_and_the_retry_mails_only_the_rest() -> None:
    engine = Engine(NewsPlan({name: _consented(name) for name in "abc"}))

    class ThrottleSecond(InMemoryMailer):
        def send(self, message: Message) -> str:
            if len(self.sent) == 1 and not getattr(self, "throttled", False):
                self.throttled = True
                raise SendThrottled("slow down")
            return super().send(message)

    engine.mailer = ThrottleSecond()
    engine.sender._mailer = engine.mailer
    with pytest.raises(Throttled):
        engine.send("a", "b", "c")
    assert not engine.locks.held  # the lock is given back for the retry
    retry = engine.send("a", "b", "c")
    assert retry.sent == ["b", "c"] and retry.already_done == 1
    assert len(engine.to()) == 3 and len(set(engine.to())) == 3


def test_a_message_another_worker_holds_is_retried_later() -> None:
    from crm.mailing.sender import RecipientsBusy

    engine = Engine(NewsPlan({"a": _consented("a")}))
    engine.locks.held.add("news#1")
    with pytest.raises(RecipientsBusy):
        engine.send("a")
    assert engine.mailer.messages == []


# ------------------------------------------------------------------------------ sequences


class FakeSequences:
    def __init__(self, sequence: Sequence, enrolments: dict[str, Enrollment]) -> None:
        self.sequence = sequence
        self.enrolments = enrolments
        self.stopped: list[tuple[str, str]] = []

    def get(self, sequence_id: str, *, with_progress: bool = False) -> Sequence:
        return self.sequence

    def enrollments(self, sequence_id: str, candidate_ids: list[str]) -> dict[str, Enrollment]:
        return {c: self.enrolments[c] for c in candidate_ids if c in self.enrolments}

    def stop(self, candidate_id: str, sequence_id: str, *, reason: str, now: str) -> bool:
        self.stopped.append((candidate_id, reason))
        return True


class FakeTemplates:
    def get(self, template_id: str) -> Any:
        return type("T", (), {"subject": "Step", "html": "<p>Hi</p>", "text": "Hi"})()


def _enrolment(candidate_id: str, state: str) -> Enrollment:
    return Enrollment.model_validate(
        {
            "sequence_id": "s1",
            "candidate_id": candidate_id,
            "state": state,
            "next_step": 0,
            "enrolled_at": NOW,
        }
    )


def test_a_sequence_skips_stopped_enrolments_and_stops_those_who_can_no_longer_be_mailed() -> None:
    sequence = Sequence.model_validate(
        {
            "id": "s1",
            "name": "Nurture",
            "steps": [{"template_id": "t1", "delay_days": 0}],
            "stop_on": ["applied", "unsubscribed"],
            "created_at": NOW,
        }
    )
    sequences = FakeSequences(
        sequence,
        {
            "active": _enrolment("active", "active"),
            "stopped": _enrolment("stopped", "stopped"),
            "withdrew": _enrolment("withdrew", "active"),
        },
    )
    plan = SequencePlan(
        "s1",
        0,
        sequences=sequences,  # type: ignore[arg-type]
        templates=FakeTemplates(),  # type: ignore[arg-type]
        candidates=object(),  # type: ignore[arg-type]
    )
    verdicts = plan.screened(
        {
            "active": Target("a@example.com", "A", {}),
            "stopped": Target("s@example.com", "S", {}),
            "withdrew": Skip("no_consent"),
        }
    )
    assert verdicts["stopped"] == Skip("stopped")
    assert isinstance(verdicts["active"], Target)
    # The reason is the screen's own: no marketing consent (was always "unsubscribed").
    assert sequences.stopped == [("withdrew", "no_consent")]


# ------------------------------------------------------------------------------ campaigns


class FakeCampaigns:
    """The campaign repository in memory."""

    def __init__(self) -> None:
        self.items: dict[str, Campaign] = {}
        self.tally: dict[str, dict[str, int]] = {}

    def create(self, data: CampaignCreate) -> Campaign:
        campaign = Campaign.model_validate(
            {
                "id": f"c{len(self.items) + 1}",
                "status": "draft",
                "created_at": NOW,
                "updated_at": NOW,
                **data.model_dump(),
            }
        )
        self.items[campaign.id] = campaign
        return campaign

    def get(self, campaign_id: str) -> Campaign:
        return self.items[campaign_id]

    def tallies(self, campaign_id: str) -> dict[str, int]:
        totals = {"sent": 0, "suppressed": 0, "failed": 0}
        for tally in self.tally.values():
            for name, value in tally.items():
                totals[name] += value
        return totals

    def with_tallies(self, campaign_id: str) -> tuple[Campaign, dict[str, int]]:
        return self.items[campaign_id], self.tallies(campaign_id)

    def write_tally(self, campaign_id: str, digest: str, totals: dict[str, int]) -> None:
        self.tally[digest] = totals

    def _update(self, campaign_id: str, **changes: Any) -> None:
        self.items[campaign_id] = self.items[campaign_id].model_copy(update=changes)

    def set_send_at(self, campaign_id: str, send_at: str | None, *, now: str) -> bool:
        if self.items[campaign_id].status != "draft":
            return False
        self._update(campaign_id, send_at=send_at)
        return True

    def launch(self, campaign_id: str, *, status: str, now: str) -> bool:
        if self.items[campaign_id].status != "draft":
            return False
        self._update(campaign_id, status=status)
        return True

    def mark_sent(self, campaign_id: str, totals: dict[str, int]) -> bool:
        self._update(campaign_id, status="sent")
        return True


class FakePools:
    def get(self, pool_id: str) -> Any:
        return object()


def _campaigns() -> tuple[CampaignService, FakeCampaigns, list[Any], list[Any]]:
    repository = FakeCampaigns()
    scheduled: list[Any] = []
    sent: list[Any] = []
    service = CampaignService(
        repository,  # type: ignore[arg-type]
        templates=FakeTemplates(),  # type: ignore[arg-type]
        pools=FakePools(),  # type: ignore[arg-type]
        candidates=object(),  # type: ignore[arg-type]
        deliveries=object(),  # type: ignore[arg-type]
        schedule=lambda name, at, **kwargs: scheduled.append((name, at)),
        send=lambda url, bodies: sent.append(bodies),
        now=lambda: datetime(2026, 12, 2, 9, tzinfo=UTC),
    )
    return service, repository, scheduled, sent


def _draft(service: CampaignService, **fields: Any) -> Campaign:
    return service.create(
        CampaignCreate.model_validate(
            {"name": "Winter", "template_id": "t1", "audience": {"tags": ["python"]}, **fields}
        )
    )


def test_a_campaign_launched_now_is_queued_once_and_a_second_launch_changes_nothing() -> None:
    service, _, scheduled, sent = _campaigns()
    campaign = _draft(service)
    first = service.launch(campaign.id)
    assert first.launched and first.campaign.status == "sending"
    assert len(sent) == 1 and scheduled == []
    again = service.launch(campaign.id, now=True)
    assert not again.launched and len(sent) == 1


def test_a_campaign_with_a_future_time_is_scheduled_and_a_past_time_is_refused() -> None:
    service, _, scheduled, sent = _campaigns()
    later = datetime(2026, 12, 3, 9, tzinfo=UTC)
    campaign = _draft(service)
    with pytest.raises(ValidationFailed) as refused:
        service.launch(campaign.id, at=later - timedelta(days=2))
    assert refused.value.errors[0]["field"] == "send_at"
    launched = service.launch(campaign.id, at=later)
    assert launched.campaign.status == "scheduled"
    assert scheduled == [(f"campaign-{campaign.id}", later)] and sent == []


def test_a_campaign_becomes_sent_when_its_last_message_is_tallied() -> None:
    service, repository, _, _ = _campaigns()
    campaign = _draft(service)
    repository._update(
        campaign.id,
        status="sending",
        dispatched_at=NOW,
        stats=campaign.stats.model_copy(update={"recipients": 3}),
    )
    service.record_message(campaign.id, ["a", "b"], {"a": "sent", "b": "skipped"})
    assert repository.get(campaign.id).status == "sending"
    service.record_message(campaign.id, ["c"], {"c": "failed"})
    assert repository.get(campaign.id).status == "sent"
    assert service.get(campaign.id).status == "sent"
