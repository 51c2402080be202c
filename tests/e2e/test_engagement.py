"""Engagement through the local stack, as a recruiter uses it over HTTP: campaigns (now and at a
``send_at``), a three-step sequence that stops when a candidate applies, a reminder and double
opt-in job alerts. Time moves with ``POST /dev/clock``; the local runtime fires the due-work tick
and the campaign schedules by that clock, and the mail it sends shows in ``GET /dev/outbox``."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

T = TypeVar("T")
DEADLINE = 45.0
#: How long "nothing arrives" is watched for (the pipeline takes well under a second locally).
QUIET = 4.0
RECRUITER = "recruiter@example.com"


class Recruiter:
    """A signed-in recruiter's calls."""

    def __init__(self, stack: CrmDev) -> None:
        self.stack = stack
        self.headers = stack.auth(RECRUITER)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.stack.get(path, headers=self.headers, **kwargs)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def post(self, path: str, body: dict[str, Any], expect: tuple[int, ...] = (200, 201, 202)) -> Any:
        response = self.stack.post(path, json=body, headers=self.headers)
        assert response.status_code in expect, f"POST {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get("/dev/clock")["now"].replace("Z", "+00:00"))

    def advance(self, seconds: float) -> None:
        self.post("/dev/clock", {"advance_seconds": seconds})

    def outbox(self, address: str) -> list[dict[str, Any]]:
        """Mail to ``address``, oldest first."""
        items = self.get("/dev/outbox")["items"]
        return [i for i in reversed(items) if address.lower() in [a.lower() for a in i["to"]]]

    def candidate(self, uid: str, n: int, tags: list[str]) -> dict[str, Any]:
        body = {
            "email": f"e2e-{uid}-{n}@example.com",
            "first_name": f"Ada{n}",
            "last_name": "Engagement",
            "tags": tags,
            "marketing_consent": True,
        }
        return dict(self.post("/v1/candidates", body))

    def template(self, uid: str, subject: str) -> str:
        body = {
            "name": f"e2e {subject} {uid}",
            "subject": subject + " for {{ first_name }}",
            "html": "<p>Hello {{ first_name }}</p><p><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>",
            "text": "Hello {{ first_name }}\n\nUnsubscribe: {{ unsubscribe_url }}\n",
        }
        return str(self.post("/v1/templates", body)["id"])

    def tagged(self, tag: str, count: int) -> None:
        """Wait until the list projection shows ``count`` candidates with ``tag`` (eventually consistent)."""
        wait_for(
            lambda: len(self.get("/v1/candidates", params={"tag": tag, "limit": 100})["items"]) == count,
            f"{count} candidates tagged {tag}",
            self.stack,
        )


def wait_for(check: Callable[[], T], what: str, stack: CrmDev, deadline: float = DEADLINE) -> T:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out after {deadline} s waiting for {what}\n{stack.logs()}")


def uid() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def recruiter(seeded_stack: CrmDev) -> Recruiter:
    return Recruiter(seeded_stack)


def each_got(recruiter: Recruiter, addresses: list[str], subject: str, count: int = 1) -> None:
    """Wait until every address has ``count`` mails whose subject starts with ``subject``."""

    def done() -> bool:
        return all(
            len([m for m in recruiter.outbox(a) if m["subject"].startswith(subject)]) >= count
            for a in addresses
        )

    wait_for(done, f"{count} x {subject!r} to {len(addresses)} addresses", recruiter.stack)


def mails(recruiter: Recruiter, address: str, subject: str) -> list[dict[str, Any]]:
    return [m for m in recruiter.outbox(address) if m["subject"].startswith(subject)]


# ------------------------------------------------------------------ campaigns


def finished_campaign(recruiter: Recruiter, campaign_id: str, recipients: int) -> dict[str, Any]:
    """The campaign once every recipient was sent, suppressed or failed."""

    def done() -> dict[str, Any] | None:
        found: dict[str, Any] = recruiter.get(f"/v1/campaigns/{campaign_id}")
        stats = found["stats"]
        settled = stats["sent"] + stats["failed"] + stats["suppressed"]
        return found if found["status"] == "sent" and settled >= recipients else None

    return wait_for(done, "the campaign to finish", recruiter.stack)


def test_campaign_sends_each_candidate_one_email_and_counts_deliveries(recruiter: Recruiter) -> None:
    u = uid()
    tag = f"camp-{u}"
    people = [recruiter.candidate(u, n, [tag]) for n in range(3)]
    addresses = [p["email"] for p in people]
    recruiter.tagged(tag, 3)
    template_id = recruiter.template(u, f"News {u}")
    campaign = recruiter.post(
        "/v1/campaigns", {"name": f"e2e {u}", "template_id": template_id, "audience": {"tags": [tag]}}
    )
    launched = recruiter.post(f"/v1/campaigns/{campaign['id']}/launch", {})
    assert launched["status"] in ("sending", "sent"), launched
    done = finished_campaign(recruiter, campaign["id"], 3)
    assert done["stats"]["sent"] == 3, done["stats"]

    each_got(recruiter, addresses, f"News {u}")
    for person in people:
        [mail] = mails(recruiter, person["email"], f"News {u}")
        assert mail["subject"] == f"News {u} for {person['first_name']}"
        assert "List-Unsubscribe" in mail["headers"], mail["headers"]
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/public/unsubscribe?token=" in mail["text"]

    def finished() -> dict[str, Any] | None:
        found = recruiter.get(f"/v1/campaigns/{campaign['id']}")
        stats = found["stats"]
        return found if found["status"] == "sent" and stats["sent"] == 3 and stats["delivered"] == 3 else None

    done = wait_for(finished, "the campaign to be sent and delivered", recruiter.stack)
    assert done["stats"]["recipients"] == 3
    assert done["stats"]["failed"] == 0 and done["stats"]["suppressed"] == 0
    time.sleep(1.0)
    assert all(len(mails(recruiter, a, f"News {u}")) == 1 for a in addresses)  # exactly one each


def scheduled_campaign(recruiter: Recruiter, u: str, addresses: list[str]) -> str:
    """Launch a campaign for ``addresses`` at one hour from now; returns its id, still scheduled."""
    tag = f"later-{u}"
    recruiter.tagged(tag, len(addresses))
    template_id = recruiter.template(u, f"Later {u}")
    send_at = (recruiter.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign = recruiter.post(
        "/v1/campaigns",
        {"name": f"e2e {u}", "template_id": template_id, "audience": {"tags": [tag]}, "send_at": send_at},
    )
    launched = recruiter.post(f"/v1/campaigns/{campaign['id']}/launch", {})
    assert launched["status"] == "scheduled", launched
    time.sleep(QUIET)
    found = recruiter.get(f"/v1/campaigns/{campaign['id']}")
    assert found["status"] == "scheduled" and found["stats"]["recipients"] == 0, found
    assert all(not mails(recruiter, a, f"Later {u}") for a in addresses)
    return str(campaign["id"])


def test_scheduled_campaign_is_dispatched_when_the_clock_reaches_send_at(recruiter: Recruiter) -> None:
    """The local runtime fires the campaign's one-time Scheduler schedule by the local clock."""
    u = uid()
    addresses = [recruiter.candidate(u, n, [f"later-{u}"])["email"] for n in range(2)]
    campaign_id = scheduled_campaign(recruiter, u, addresses)
    recruiter.advance(3700)
    done = finished_campaign(recruiter, campaign_id, 2)
    assert done["stats"]["recipients"] == 2, done
    assert done["dispatched_at"], done


def test_campaign_with_send_at_waits_for_the_clock(recruiter: Recruiter) -> None:
    u = uid()
    addresses = [recruiter.candidate(u, n, [f"later-{u}"])["email"] for n in range(2)]
    campaign_id = scheduled_campaign(recruiter, u, addresses)
    recruiter.advance(3700)
    done = finished_campaign(recruiter, campaign_id, 2)
    assert done["stats"]["sent"] == 2, done["stats"]
    each_got(recruiter, addresses, f"Later {u}")
    assert all(len(mails(recruiter, a, f"Later {u}")) == 1 for a in addresses)


# ------------------------------------------------------------------ sequences


def test_sequence_steps_follow_the_clock_and_stop_when_a_candidate_applies(
    recruiter: Recruiter, seeded_stack: CrmDev
) -> None:
    u = uid()
    applicant, stayer = (recruiter.candidate(u, n, [f"seq-{u}"]) for n in range(2))
    steps = [recruiter.template(u, f"Step {n} {u}") for n in (1, 2, 3)]
    sequence = recruiter.post(
        "/v1/sequences",
        {
            "name": f"e2e {u}",
            "steps": [{"template_id": t, "delay_days": d} for t, d in zip(steps, (0, 2, 3), strict=True)],
        },
    )
    enrolled = recruiter.post(
        f"/v1/sequences/{sequence['id']}/enrollments", {"candidate_ids": [applicant["id"], stayer["id"]]}
    )
    assert enrolled["enrolled"] == 2, enrolled
    both = [applicant["email"], stayer["email"]]

    recruiter.advance(120)  # the next due-work tick
    each_got(recruiter, both, f"Step 1 {u}")
    assert all(not mails(recruiter, a, f"Step 2 {u}") for a in both)

    recruiter.advance(2 * 86400 + 120)
    each_got(recruiter, both, f"Step 2 {u}")

    job = recruiter.post("/v1/jobs", {"title": f"Seq job {u}", "tags": [f"seq-{u}"], "status": "open"})
    applied = seeded_stack.post(
        f"/public/jobs/{job['id']}/applications",
        json={"email": applicant["email"], "first_name": "Ada0", "last_name": "Engagement"},
    )
    assert applied.status_code == 202, applied.text
    wait_for(
        lambda: recruiter.get(f"/v1/sequences/{sequence['id']}")["enrollments"].get("stopped") == 1,
        "the applicant's enrolment to stop",
        seeded_stack,
    )

    recruiter.advance(3 * 86400 + 120)
    each_got(recruiter, [stayer["email"]], f"Step 3 {u}")
    wait_for(
        lambda: recruiter.get(f"/v1/sequences/{sequence['id']}")["enrollments"].get("completed") == 1,
        "the other enrolment to complete",
        seeded_stack,
    )
    time.sleep(1.0)
    assert not mails(recruiter, applicant["email"], f"Step 3 {u}")
    for address in both:
        for n in (1, 2):
            assert len(mails(recruiter, address, f"Step {n} {u}")) == 1
    assert len(mails(recruiter, stayer["email"], f"Step 3 {u}")) == 1
    enrollments = recruiter.get(f"/v1/sequences/{sequence['id']}")["enrollments"]
    assert {k: v for k, v in enrollments.items() if v} == {"completed": 1, "stopped": 1}


# ------------------------------------------------------------------ reminders


def test_reminder_emails_the_recruiter_when_due(recruiter: Recruiter) -> None:
    u = uid()
    person = recruiter.candidate(u, 0, [f"rem-{u}"])
    due_at = (recruiter.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = f"Call back about the offer {u}"
    reminder = recruiter.post("/v1/reminders", {"candidate_id": person["id"], "due_at": due_at, "note": note})
    assert reminder["state"] == "pending" and reminder["due"] is False, reminder

    def ours(query: dict[str, Any]) -> list[dict[str, Any]]:
        items = recruiter.get("/v1/reminders", params=query)["items"]
        return [r for r in items if r["id"] == reminder["id"]]

    assert ours({"due": "true"}) == []
    recruiter.advance(3 * 3600)

    def emailed() -> list[dict[str, Any]]:
        return [m for m in recruiter.outbox(RECRUITER) if note in (m["text"] or "")]

    [mail] = wait_for(emailed, "the reminder email", recruiter.stack)
    assert mail["subject"] == f"Reminder: {person['first_name']} {person['last_name']}"
    [found] = wait_for(lambda: ours({"due": "true"}), "the reminder to show as due", recruiter.stack)
    assert found["due"] is True
    wait_for(lambda: ours({"due": "true"})[0]["state"] == "notified", "notified", recruiter.stack)
    time.sleep(1.0)
    assert len(emailed()) == 1


# ------------------------------------------------------------------ job alerts

CONFIRM_LINK = re.compile(r"https?://\S+/public/confirm\?token=[^\s\"'<>]+")


def request_alerts(recruiter: Recruiter, seeded_stack: CrmDev, address: str) -> str:
    """Ask for rust job alerts for ``address``; returns the confirmation link it was emailed."""
    requested = seeded_stack.post(
        "/public/job-alerts",
        json={"email": address, "first_name": "Grace", "last_name": "Alerts", "tags": ["rust"]},
    )
    assert requested.status_code == 202, requested.text
    [confirmation] = wait_for(
        lambda: mails(recruiter, address, "Please confirm your job alerts"),
        "the confirmation email",
        seeded_stack,
    )
    match = CONFIRM_LINK.search(confirmation["text"] or "")
    assert match, confirmation["text"]
    assert "List-Unsubscribe" not in confirmation["headers"]  # not marketing: nothing to leave yet
    return match.group(0)


def test_job_alert_request_is_confirmed_by_the_emailed_link(
    recruiter: Recruiter, seeded_stack: CrmDev
) -> None:
    link = request_alerts(recruiter, seeded_stack, f"e2e-alert-{uid()}@example.com")
    confirmed = seeded_stack.http.get(link, timeout=30)
    assert confirmed.status_code == 200, confirmed.text


def test_job_alerts_are_double_opt_in_and_match_tags(recruiter: Recruiter, seeded_stack: CrmDev) -> None:
    u = uid()
    address = f"e2e-alert-{u}@example.com"
    tag = "rust"
    link = request_alerts(recruiter, seeded_stack, address)

    def open_job(title: str, tags: list[str]) -> str:
        return str(recruiter.post("/v1/jobs", {"title": title, "tags": tags, "status": "open"})["id"])

    open_job(f"Before confirming {u}", [tag])
    time.sleep(QUIET)
    assert not mails(recruiter, address, "New job:")

    confirmed = seeded_stack.http.get(link, timeout=30)
    assert confirmed.status_code == 200, confirmed.text

    open_job(f"Rust engineer {u}", [tag])
    [alert] = wait_for(lambda: mails(recruiter, address, "New job:"), "the job alert", seeded_stack)
    assert alert["subject"] == f"New job: Rust engineer {u}"
    assert "List-Unsubscribe" in alert["headers"]

    open_job(f"Cobol engineer {u}", ["cobol"])
    open_job(f"Second rust engineer {u}", [tag])
    wait_for(lambda: len(mails(recruiter, address, "New job:")) >= 2, "the second job alert", seeded_stack)
    time.sleep(1.0)
    subjects = sorted(m["subject"] for m in mails(recruiter, address, "New job:"))
    assert subjects == [f"New job: Rust engineer {u}", f"New job: Second rust engineer {u}"]
