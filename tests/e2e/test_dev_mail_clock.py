"""The local stack's /dev routes over HTTP (the outbox and the clock), and its inbound SMTP server."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from crm.mailing.compose import compose
from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def aws_client(stack: CrmDev, service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=stack.stack_file()["endpoint_url"])


def send(stack: CrmDev, to: str, subject: str) -> str:
    message = compose(
        f"Zoë <{to}>",
        "CRM <no-reply@example.com>",  # verified by `crm dev` at start (MAIL_FROM)
        subject,
        f"<p>{subject} — html</p>",
        f"{subject} — text",
        list_unsubscribe_url="https://crm.example.com/public/unsubscribe?token=t",
    )
    sent = aws_client(stack, "sesv2").send_email(Content={"Raw": {"Data": message.as_bytes()}})
    return str(sent["MessageId"])


def test_dev_routes_need_a_signed_in_user(seeded_stack: CrmDev) -> None:
    assert seeded_stack.get("/dev/outbox").status_code == 401
    assert seeded_stack.get("/dev/clock").status_code == 401
    assert seeded_stack.post("/dev/clock", json={"advance_seconds": 5}).status_code == 401


def test_outbox_lists_sent_mail_newest_first_with_both_parts(seeded_stack: CrmDev) -> None:
    headers = seeded_stack.auth()
    first = send(seeded_stack, "first@example.com", "First")
    second = send(seeded_stack, "second@example.com", "Second")
    response = seeded_stack.get("/dev/outbox", headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    ours = [i for i in items if i["message_id"] in (first, second)]
    assert [i["subject"] for i in ours] == ["Second", "First"]
    item = ours[0]
    assert item["to"] == ["second@example.com"]
    assert item["from"] == "CRM <no-reply@example.com>"
    assert item["html"].strip() == "<p>Second — html</p>"
    assert item["text"].strip() == "Second — text"
    assert item["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert item["headers"]["To"] == "Zoë <second@example.com>"
    assert item["sent_at"].endswith("Z")


def test_clock_moves_forward(seeded_stack: CrmDev) -> None:
    headers = seeded_stack.auth()
    before = seeded_stack.get("/dev/clock", headers=headers)
    assert before.status_code == 200, before.text
    offset = before.json()["offset_seconds"]
    moved = seeded_stack.post("/dev/clock", json={"advance_seconds": 3600}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["offset_seconds"] == offset + 3600
    now = seeded_stack.get("/dev/clock", headers=headers).json()
    assert now["offset_seconds"] == offset + 3600
    assert now["now"] > before.json()["now"] and now["now"].endswith("Z")
    refused = seeded_stack.post("/dev/clock", json={"advance_seconds": -1}, headers=headers)
    assert refused.status_code == 422


def wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_reply_through_the_local_smtp_server_lands_on_the_profile_and_stops_the_sequence(
    seeded_stack: CrmDev,
) -> None:
    """What a user does by hand: the recruiter writes from the profile, the candidate answers with
    a mail client (smtplib here) through the SMTP server `crm dev` prints, the reply shows on the
    right profile once, without the quoted history, and the nurture sequence stops."""
    headers = seeded_stack.auth()
    email = "smtp.reply@example.com"
    created = seeded_stack.post(
        "/v1/candidates",
        headers=headers,
        json={"email": email, "first_name": "Reply", "last_name": "Tester", "marketing_consent": True},
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    template = seeded_stack.post(
        "/v1/templates",
        headers=headers,
        json={"name": "Nudge", "subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"},
    ).json()
    sequence = seeded_stack.post(
        "/v1/sequences",
        headers=headers,
        json={
            "name": "SMTP nurture",
            "steps": [{"template_id": template["id"], "delay_days": 3}],
            "stop_on": ["replied"],
        },
    ).json()
    enrolled = seeded_stack.post(
        f"/v1/sequences/{sequence['id']}/enrollments", headers=headers, json={"candidate_ids": [cid]}
    )
    assert enrolled.json()["enrolled_ids"] == [cid], enrolled.text
    wrote = seeded_stack.post(
        f"/v1/candidates/{cid}/emails", headers=headers, json={"subject": "Friday?", "body": "Are you free?"}
    )
    assert wrote.status_code == 202, wrote.text

    def our_email() -> dict[str, Any] | None:
        items = seeded_stack.get("/dev/outbox", headers=headers).json()["items"]
        return next((i for i in items if i["to"] == [email] and i["subject"] == "Friday?"), None)

    sent = wait_for(our_email, "the one-to-one email in the outbox")
    reply_to = sent["headers"]["Reply-To"]
    assert reply_to.startswith("reply+") and reply_to.endswith("@inbound.crm.localhost")

    address = seeded_stack.stack_file()["inbound_smtp"]
    host, _, port = address.rpartition(":")
    assert host == "127.0.0.1"
    answer = EmailMessage()
    answer["From"] = f"Reply Tester <{email}>"
    answer["To"] = reply_to
    answer["Subject"] = "Re: Friday?"
    answer["Message-ID"] = "<smtp-e2e-1@candidate.example>"
    answer.set_content("Friday works for me.\n\nOn Fri, 4 Dec 2026, CRM wrote:\n> Are you free?\n")
    answer.add_attachment(b"%PDF-1.4 cv", maintype="application", subtype="pdf", filename="cv.pdf")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(answer)
        # A forged token is taken at the door (as SES receiving would) and never reaches anybody;
        # another domain is refused outright.
        forged = EmailMessage()
        forged["From"] = f"Reply Tester <{email}>"
        forged["To"] = "reply+" + "a" * 40 + "@inbound.crm.localhost"
        forged["Subject"] = "Re: Friday?"
        forged["Message-ID"] = "<smtp-e2e-forged@candidate.example>"
        forged.set_content("Let me in.")
        smtp.send_message(forged)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(email, ["someone@elsewhere.example"], b"Subject: x\r\n\r\nx")

    def stored() -> list[dict[str, Any]]:
        return list(seeded_stack.get(f"/v1/candidates/{cid}/replies", headers=headers).json()["items"])

    (reply,) = wait_for(stored, "the reply on the profile")
    assert reply["text"] == "Friday works for me."
    assert [a["filename"] for a in reply["attachments"]] == ["cv.pdf"]

    def stopped() -> bool:
        current = seeded_stack.get(f"/v1/sequences/{sequence['id']}", headers=headers).json()
        return current["enrollments"].get("active", 0) == 0

    wait_for(stopped, "the sequence to stop on the reply")
    timeline = seeded_stack.get(f"/v1/candidates/{cid}/timeline", headers=headers).json()["items"]
    assert [a["kind"] for a in timeline].count("replied") == 1

    # The forged message went to quarantine, not to the person.
    s3 = aws_client(seeded_stack, "s3")
    bucket = next(b for b in seeded_stack.stack_file()["buckets"].values() if "inbound" in b.lower())

    def quarantined() -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("Contents", [])
        return [str(o["Key"]) for o in listed]

    wait_for(quarantined, "the forged reply in quarantine")
    assert len(stored()) == 1
