"""The local stack's /dev routes over HTTP: the outbox and the clock."""

from __future__ import annotations

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
