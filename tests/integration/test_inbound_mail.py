"""Two-way email: a one-to-one email carries its conversation's reply address; the candidate's
reply (a raw message under inbound/, as SES receiving writes it) lands on the right profile once,
with its attachments, stops sequences that stop on ``replied`` and tells the recruiter; a forged
token or broken MIME is quarantined and never attached to anybody; erasure removes it all."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from crm.inbound.service import InboundService
from crm.platform.config import reset_settings
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_engagement import settle
from tests.support.engagement import QueueDriver, sent_messages

DOMAIN = "inbound.test.localhost"
BUCKET = "crm-test-inbound-mail"


@pytest.fixture
def inbound(env: Env, monkeypatch: pytest.MonkeyPatch) -> boto3.client:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("INBOUND_MAIL_DOMAIN", DOMAIN)
    monkeypatch.setenv("INBOUND_MAIL_BUCKET", BUCKET)
    reset_settings()
    return s3


def objects(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def write_email(env: Env, cid: str, driver: QueueDriver, **extra: Any) -> tuple[dict[str, Any], str]:
    body = {"subject": "Your application", "body": "Are you free on Friday?", **extra}
    response = json_post(env, f"/v1/candidates/{cid}/emails", body, env.auth("recruiter"))
    assert response.status_code == 202, response.body
    settle(env, driver)
    message = sent_messages()[-1]
    return response.json_body, str(message["Reply-To"])


def reply(to: str, *, text: str = "Yes, Friday works.", message_id: str = "<r1@candidate.example>") -> bytes:
    message = EmailMessage()
    message["From"] = "Person0 Test <c0-inbound@example.com>"
    message["To"] = to
    message["Subject"] = "Re: Your application"
    message["Message-ID"] = message_id
    message.set_content(
        f"{text}\n\nOn Tue, 1 Dec 2026 at 10:00, Rita <rita@example.com> wrote:\n> Are you free?\n"
    )
    message.add_attachment(b"%PDF-1.4 my cv", maintype="application", subtype="pdf", filename="cv.pdf")
    message.add_attachment(
        b"MZ\x90\x00binary", maintype="application", subtype="octet-stream", filename="x.exe"
    )
    return message.as_bytes()


def deliver(s3: Any, raw: bytes, name: str) -> Any:
    s3.put_object(Bucket=BUCKET, Key=f"inbound/{name}", Body=raw)
    return InboundService().receive(f"inbound/{name}")


def replies(env: Env, cid: str) -> list[dict[str, Any]]:
    response = env.client.http.get(f"/v1/candidates/{cid}/replies", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def test_a_reply_lands_once_on_the_profile_and_stops_sequences(
    env: Env, driver: QueueDriver, inbound: Any
) -> None:
    (cid,) = make_candidates(env, 1, tag="inbound", consent=True)
    template = json_post(
        env,
        "/v1/templates",
        {"name": "T", "subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"},
        env.auth("recruiter"),
    ).json_body
    sequence = json_post(
        env,
        "/v1/sequences",
        {
            "name": "Nurture",
            "steps": [{"template_id": template["id"], "delay_days": 3}],
            "stop_on": ["replied"],
        },
        env.auth("recruiter"),
    ).json_body
    assert "replied" in sequence["stop_on"]
    enrolled = json_post(
        env, f"/v1/sequences/{sequence['id']}/enrollments", {"candidate_ids": [cid]}, env.auth("recruiter")
    )
    assert enrolled.json_body["enrolled_ids"] == [cid], enrolled.body

    email, reply_to = write_email(env, cid, driver)
    local, _, domain = reply_to.partition("@")
    assert domain == DOMAIN and local.startswith("reply+") and len(local) <= 64 and local == local.lower()

    outcome = deliver(inbound, reply(reply_to), "m1")
    assert outcome.status == "stored", outcome
    (stored,) = replies(env, cid)
    assert stored["text"] == "Yes, Friday works."  # quoted history taken off
    assert stored["conversation_id"] == email["id"]
    assert [a["filename"] for a in stored["attachments"]] == ["cv.pdf"]
    assert [d["filename"] for d in stored["dropped"]] == ["x.exe"]
    assert objects(inbound, BUCKET, "inbound/") == []  # the raw message is not kept

    link = env.client.http.get(
        f"/v1/candidates/{cid}/replies/{stored['id']}/attachments/0", headers=env.auth("recruiter")
    )
    assert link.status_code == 200 and link.json_body["url"]
    missing = env.client.http.get(
        f"/v1/candidates/{cid}/replies/{stored['id']}/attachments/7", headers=env.auth("recruiter")
    )
    assert missing.status_code == 404

    timeline = env.client.http.get(f"/v1/candidates/{cid}/timeline", headers=env.auth("recruiter"))
    assert [a["kind"] for a in timeline.json_body["items"]].count("replied") == 1
    current = env.client.http.get(f"/v1/sequences/{sequence['id']}", headers=env.auth("recruiter")).json_body
    assert current["enrollments"].get("active", 0) == 0, current

    # A redelivered S3 event (the same message again) stores nothing twice.
    assert deliver(inbound, reply(reply_to), "m1-again").status == "duplicate"
    assert len(replies(env, cid)) == 1
    timeline = env.client.http.get(f"/v1/candidates/{cid}/timeline", headers=env.auth("recruiter"))
    assert [a["kind"] for a in timeline.json_body["items"]].count("replied") == 1

    # The recruiter who wrote the email hears of it, once.
    settle(env, driver)
    notices = [m for m in sent_messages() if str(m["To"]) == "recruiter@example.com"]
    assert len(notices) == 1 and "replied" in str(notices[0]["Subject"])

    # Answering in the thread keeps the conversation and its reply address.
    answer, answer_reply_to = write_email(env, cid, driver, conversation_id=email["id"])
    assert answer["conversation_id"] == email["id"] and answer_reply_to == reply_to
    bad = json_post(
        env,
        f"/v1/candidates/{cid}/emails",
        {"subject": "x", "body": "y", "conversation_id": "f" * 32},
        env.auth("recruiter"),
    )
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"] == "conversation_id"


def test_forged_missing_and_unknown_tokens_are_quarantined(
    env: Env, driver: QueueDriver, inbound: Any
) -> None:
    (cid,) = make_candidates(env, 1, tag="forged", consent=False)
    _, reply_to = write_email(env, cid, driver)
    local, _, domain = reply_to.partition("@")
    flipped = local[:-1] + ("0" if local[-1] != "0" else "1")
    cases = {
        "forged": f"{flipped}@{domain}",
        "none": "someone@example.com",
        "other-candidate": "reply+" + "0" * 58 + f"@{domain}",
    }
    for name, to in cases.items():
        outcome = deliver(inbound, reply(to, message_id=f"<{name}@x>"), name)
        assert outcome.status == "quarantined", (name, outcome)
    assert replies(env, cid) == []
    assert sorted(objects(inbound, BUCKET, "quarantine/")) == [
        "quarantine/bad_token/forged",
        "quarantine/bad_token/other-candidate",
        "quarantine/no_token/none",
    ]
    from crm.platform.ids import utcnow

    assert InboundService().quarantined(utcnow()[:10])["total"] == 3


def test_too_large_and_broken_messages_never_crash(env: Env, driver: QueueDriver, inbound: Any) -> None:
    (cid,) = make_candidates(env, 1, tag="broken", consent=False)
    _, reply_to = write_email(env, cid, driver)
    good = reply(reply_to)
    corpus = {
        "empty": b"",
        "truncated": good[: len(good) // 3],
        "garbage": bytes(range(256)) * 40,
        "bad-boundary": (
            f'To: {reply_to}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n'
            "--yy\r\nContent-Type: text/plain\r\n\r\nhello\r\n--zz"
        ).encode(),
        "bad-encoding": (
            f"To: {reply_to}\r\nSubject: =?x-unknown?B?////?=\r\nContent-Type: text/plain; charset=x-nope\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
        ).encode(),
        "huge-header": (
            f"To: {reply_to}\r\nX-Big: {'a' * 200_000}\r\nSubject: {'b' * 50_000}\r\n\r\nhi\r\n"
        ).encode(),
        "latin1-bytes": f"To: {reply_to}\r\nSubject: caf\xe9\r\n\r\nna\xefve \xff\xfe\r\n".encode("latin-1"),
    }
    for name, raw in corpus.items():
        outcome = deliver(inbound, raw, name)
        assert outcome.status in ("stored", "quarantined"), (name, outcome)
    big = good + b"x" * (10 * 1024 * 1024)
    assert deliver(inbound, big, "big").reason == "too_large"
    assert objects(inbound, BUCKET, "inbound/") == []


def test_erasure_removes_replies_and_their_attachments(env: Env, driver: QueueDriver, inbound: Any) -> None:
    (cid,) = make_candidates(env, 1, tag="erase", consent=False)
    _, reply_to = write_email(env, cid, driver)
    assert deliver(inbound, reply(reply_to), "e1").status == "stored"
    settle(env, driver)
    response = env.client.http.delete(f"/v1/candidates/{cid}", headers=env.auth("admin"))
    assert response.status_code == 204, response.body
    table = boto3.client("dynamodb", region_name="us-east-1")
    items = [json.dumps(i) for i in table.scan(TableName=env.stack.table)["Items"]]
    # Nothing of the reply is left: no reply item, no text, no sender (the delivery ledger keeps
    # only ids and states, as it does for every email).
    assert not [i for i in items if "INREPLY#" in i or "Friday works" in i or "c0-erase@example.com" in i]
    assert not [i for i in items if f"CAND#{cid}" in i]
    s3 = boto3.client("s3", region_name="us-east-1")
    versions = s3.list_object_versions(Bucket=env.stack.bucket).get("Versions", [])
    assert not [v for v in versions if cid in v["Key"]]
    assert objects(inbound, BUCKET) == []
