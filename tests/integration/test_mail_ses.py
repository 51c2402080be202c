"""SesMailer against moto: raw MIME through SESv2, recorded with both parts; errors mapped. The local
stack's readers of what moto kept (the outbox, the mailbox simulator) read it by address, robustly."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from crm.mailing.compose import compose
from crm.mailing.mailer import SendRejected, SendThrottled, SesMailer
from crm.platform import aws
from crm.platform.config import reset_settings

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


BODY = ("CRM <no-reply@example.com>", "Roles for you", "<p>Roles for you</p>", "Roles for you")


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


# ------------------------------------------------------------- the local stack reads what moto kept

#: Decodes to "Ada", CR LF, "Bcc: v@example.net".
BCC_WORD = "=?UTF-8?B?QWRhDQpCY2M6IHZAZXhhbXBsZS5uZXQ=?="


class RecordingEvents:
    """Stands in for the EventBridge client the mailbox simulator puts its events with."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def simulator(events: RecordingEvents) -> Any:
    import threading

    from crm_tools.devstack.mail import MailboxSimulator

    return MailboxSimulator(
        events_client=events, account=ACCOUNT, region=REGION, lock=threading.RLock(), stop=threading.Event()
    )


def moto_model_data() -> dict[str, Any]:
    """What ``GET /moto-api/data.json`` answers for SES (the outbox's input), without a server.

    Only SES's models are read: moto tracks every model instance a process ever made, and an
    S3 object left by an earlier test in the same worker raises when its bucket is gone."""
    from unittest import mock

    from moto.core import model_instances
    from moto.moto_api._internal.responses import MotoAPIResponse

    only_ses = {"ses": model_instances.model_data["ses"]}
    with mock.patch.object(model_instances, "model_data", only_ses):
        _, _, body = MotoAPIResponse().model_data(None, "", {})
    data: dict[str, Any] = json.loads(body)
    return data


def send_raw(raw: bytes) -> str:
    return str(
        boto3.client("sesv2", region_name=REGION).send_email(Content={"Raw": {"Data": raw}})["MessageId"]
    )


@pytest.mark.parametrize(
    "to",
    [
        "Bounce Test <bounce@simulator.amazonses.com>",
        "Bounce Test <Bounce@Simulator.AmazonSES.com>",
        f"{BCC_WORD} <bounce@simulator.amazonses.com>",
    ],
)
def test_campaign_mail_to_the_bounce_address_with_a_name_bounces(ses: Any, to: str) -> None:
    """As the campaign sender writes it (display name, any case): a bounce, never a delivery."""
    from crm.mailing.compose import display

    name, _, address = to.partition(" <")
    events = RecordingEvents()
    watcher = simulator(events)
    watcher.prepare()
    SesMailer().send(compose([display(name, address.rstrip(">")), "Ada <ada@example.com>"], *BODY))
    assert watcher.poll_once()
    assert [e["DetailType"] for e in events.entries] == ["Email Bounced", "Email Delivered"]
    bounce = json.loads(events.entries[0]["Detail"])["bounce"]
    assert [r["emailAddress"].lower() for r in bounce["bouncedRecipients"]] == [
        "bounce@simulator.amazonses.com"
    ]
    assert json.loads(events.entries[1]["Detail"])["delivery"]["recipients"] == ["ada@example.com"]


def test_the_outbox_lists_what_moto_kept_and_leaves_out_what_it_cannot_read(ses: Any) -> None:
    from crm_tools.devstack.mail import outbox

    first = SesMailer().send(compose(f"{BCC_WORD} <ann@example.com>", *BODY))
    unreadable = send_raw(
        b"From: CRM <no-reply@example.com>\r\n"
        + f"To: {BCC_WORD} <ada@example.com>\r\nSubject: {BCC_WORD}\r\n".encode()
        + b"Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n\r\nHi\r\n"
    )
    last = SesMailer().send(compose("bob@example.com", *BODY))
    items = outbox(moto_model_data())
    shown = {item["message_id"]: item for item in items}
    assert unreadable not in shown
    assert {first, last} <= set(shown)
    assert shown[first]["to"] == ["ann@example.com"]
    assert shown[first]["headers"]["To"] == f"{BCC_WORD} <ann@example.com>"
    assert "Bcc" not in shown[first]["headers"]
