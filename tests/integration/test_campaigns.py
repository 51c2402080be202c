"""Campaigns end to end in-process: create, launch, dispatch, send exactly once under faults."""

from __future__ import annotations

from collections import Counter
from typing import Any

from crm.candidates.models import CandidateCreate
from crm.candidates.service import CandidateService
from crm.mailing.suppression import SuppressionRepository
from tests.integration.conftest import Env, json_post
from tests.support.engagement import Faults, QueueDriver, seed_candidates, sent_messages

TEMPLATE = {
    "name": "Autumn news",
    "subject": "News for {{ first_name }}",
    "html": '<p>Hello {{ first_name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    "text": "Hello {{ first_name }}\nUnsubscribe: {{ unsubscribe_url }}",
}


def make_candidates(env: Env, count: int, *, tag: str, consent: bool = True, prefix: str = "c") -> list[str]:
    repository = CandidateService()
    ids = []
    for i in range(count):
        candidate = repository.create(
            CandidateCreate(
                email=f"{prefix}{i}-{tag}@example.com",
                first_name=f"Person{i}",
                last_name="Test",
                tags=[tag],
                marketing_consent=consent,
            ),
            actor="test",
        )
        ids.append(candidate.id)
    assert env.pump.drain() == []
    return ids


def create_campaign(env: Env, audience: dict[str, Any], **extra: Any) -> dict[str, Any]:
    template = json_post(env, "/v1/templates", TEMPLATE, env.auth("recruiter"))
    assert template.status_code == 201, template.body
    body = {"name": "Autumn", "template_id": template.json_body["id"], "audience": audience, **extra}
    response = json_post(env, "/v1/campaigns", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def get_campaign(env: Env, campaign_id: str) -> dict[str, Any]:
    response = env.client.http.get(f"/v1/campaigns/{campaign_id}", headers=env.auth("recruiter"))
    assert response.status_code == 200
    return dict(response.json_body)


def test_campaign_reaches_consented_candidates_once(env: Env, local_clock: None) -> None:
    consented = make_candidates(env, 12, tag="kotlin")
    make_candidates(env, 3, tag="kotlin", consent=False, prefix="nc")
    make_candidates(env, 4, tag="swift", prefix="other")
    SuppressionRepository().suppress("c0-kotlin@example.com", "bounced", source="test")
    campaign = create_campaign(env, {"tags": ["kotlin"]})
    assert campaign["status"] == "draft"
    response = env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "sending"
    again = env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert again.status_code == 202
    driver = QueueDriver(env.stack.queues)
    try:
        driver.run()
    finally:
        driver.close()
    sent = sent_messages()
    recipients = Counter(m["To"] for m in sent)
    assert len(sent) == len(consented) - 1
    assert all(count == 1 for count in recipients.values())
    assert "c0-kotlin@example.com" not in " ".join(recipients)
    message = sent[0]
    assert message["List-Unsubscribe"].startswith("<https://careers.example.com/public/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    final = get_campaign(env, campaign["id"])
    assert final["status"] == "sent"
    assert final["stats"]["recipients"] == 15
    assert final["stats"]["sent"] == 11
    assert final["stats"]["suppressed"] == 4
    assert final["stats"]["failed"] == 0
    assert driver.dead_letters() == {"dispatch": 0, "mail": 0}


def test_500_recipients_with_duplicates_throttling_and_crashes(env: Env, local_clock: None) -> None:
    ids = seed_candidates(500, tag="scala")
    campaign = create_campaign(env, {"tags": ["scala"]})
    assert (
        env.client.http.post(
            f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter")
        ).status_code
        == 202
    )
    driver = QueueDriver(
        env.stack.queues, Faults(duplicate=True, crash_rate=0.05, throttle_rate=0.10, seed=3)
    )
    try:
        driver.run()
    finally:
        driver.close()
    assert driver.mailer.throttled > 0 and driver.mailer.crashes > 0 and driver.redeliveries > 0
    sent = Counter(str(m["To"]) for m in sent_messages())
    assert len(sent) == len(ids), (len(sent), driver.errors[:5], _debug_dlq(driver))
    assert set(sent.values()) == {1}, [to for to, n in sent.items() if n > 1][:5]
    assert driver.dead_letters() == {"dispatch": 0, "mail": 0}, _debug_dlq(driver)
    stats = get_campaign(env, campaign["id"])["stats"]
    assert stats["recipients"] == 500
    assert stats["sent"] == 500
    assert stats["suppressed"] == 0 and stats["failed"] == 0


def _debug_dlq(driver: QueueDriver) -> list[str]:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = driver.sources[1].url + "-dlq"
    messages = sqs.receive_message(QueueUrl=url, AttributeNames=["All"]).get("Messages", [])
    return [str(m["Attributes"]) + m["Body"][:200] for m in messages]
