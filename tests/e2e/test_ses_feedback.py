"""Through the local stack: mail to SES's bounce/complaint simulator addresses comes back as an
aws.ses event on the default bus, the rule queues it, SesFeedbackFunction suppresses the address."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from crm.mailing.compose import compose
from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

DEADLINE = 30.0


def aws_client(stack: CrmDev, service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=stack.stack_file()["endpoint_url"])


def send(stack: CrmDev, to: str) -> None:
    message = compose(
        to,
        "CRM <no-reply@example.com>",  # verified by `crm dev` at start (MAIL_FROM)
        "Roles for you",
        "<p>Roles for you</p>",
        "Roles for you",
        list_unsubscribe_url="https://crm.example.com/public/unsubscribe?token=t",
    )
    aws_client(stack, "sesv2").send_email(Content={"Raw": {"Data": message.as_bytes()}})


def reasons(stack: CrmDev, email: str) -> list[str]:
    table = stack.stack_file()["functions"]["SesFeedbackFunction"]["environment"]["TABLE_NAME"]
    item = aws_client(stack, "dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"SUPPRESS#{email}"}, "sk": {"S": "SUPPRESS"}}
    )
    return sorted(item.get("Item", {}).get("reasons", {}).get("SS", []))


def wait_for_reasons(stack: CrmDev, email: str) -> list[str]:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = reasons(stack, email)
        if found:
            return found
        time.sleep(0.3)
    pytest.fail(f"{email} was not suppressed within {DEADLINE} s\n{stack.logs()}")


@pytest.mark.parametrize(
    ("address", "reason"),
    [("bounce@simulator.amazonses.com", "bounced"), ("complaint@simulator.amazonses.com", "complained")],
)
def test_simulator_feedback_suppresses_the_address(seeded_stack: CrmDev, address: str, reason: str) -> None:
    send(seeded_stack, address)
    assert reason in wait_for_reasons(seeded_stack, address)
