"""SesMailer against moto: raw MIME through SESv2, recorded with both parts; errors mapped."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from crm import aws
from crm.config import reset_settings
from crm.mail import SendRejected, SendThrottled, SesMailer, compose

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ENDPOINT_URL", "SES_CONFIGURATION_SET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        reset_settings()
        aws.reset_clients()
        client = boto3.client("ses", region_name=REGION)
        client.verify_email_identity(EmailAddress="no-reply@example.com")
        yield client
        aws.reset_clients()
        reset_settings()


def message(sender: str = "CRM <no-reply@example.com>") -> EmailMessage:
    return compose(
        "Zoë <zoe@example.com>",
        sender,
        "Un poste — pour vous",
        "<p>Hello <b>Zoë</b></p>",
        "Hello Zoë",
        list_unsubscribe_url="https://crm.example.com/public/unsubscribe?token=t",
    )


def sent_raw_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def test_a_verified_sender_sends_raw_mime_that_moto_records_whole(ses: Any) -> None:
    message_id = SesMailer().send(message())
    assert message_id
    sent = sent_raw_messages()
    assert len(sent) == 1 and type(sent[0]).__name__ == "RawMessage"  # SESv2 raw -> ses.RawMessage
    assert sent[0].id == message_id
    assert sent[0].source == "no-reply@example.com"
    recorded = email.message_from_string(sent[0].raw_data, policy=policy.default)
    assert isinstance(recorded, EmailMessage)
    assert recorded["Subject"] == "Un poste — pour vous"
    assert recorded["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = recorded.get_body(("plain",))
    html = recorded.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().strip() == "Hello Zoë"  # type: ignore[attr-defined]
    assert html.get_content().strip() == "<p>Hello <b>Zoë</b></p>"  # type: ignore[attr-defined]


def test_an_unverified_sender_is_rejected(ses: Any) -> None:
    with pytest.raises(SendRejected) as caught:
        SesMailer().send(message(sender="Someone <someone@unverified.example>"))
    assert caught.value.code == "MessageRejected"
    assert sent_raw_messages() == []


def test_the_configuration_set_is_named_on_each_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SES_CONFIGURATION_SET", "crm-events")
    reset_settings()
    client = boto3.client("sesv2", region_name=REGION)
    try:
        with Stubber(client) as stub:
            stub.add_response(
                "send_email",
                {"MessageId": "m-1"},
                {"Content": {"Raw": {"Data": ANY}}, "ConfigurationSetName": "crm-events"},
            )
            assert SesMailer(client=client).send(message()) == "m-1"
            stub.assert_no_pending_responses()
    finally:
        reset_settings()


@pytest.mark.parametrize("code", ["Throttling", "TooManyRequestsException", "LimitExceededException"])
def test_throttling_becomes_send_throttled(code: str) -> None:
    client = boto3.client("sesv2", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, http_status_code=429)
        with pytest.raises(SendThrottled):
            SesMailer(client=client, configuration_set="").send(message())


def test_other_errors_are_not_swallowed() -> None:
    from botocore.exceptions import ClientError

    client = boto3.client("sesv2", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code="InternalFailure", http_status_code=500)
        with pytest.raises(ClientError):
            SesMailer(client=client, configuration_set="").send(message())
