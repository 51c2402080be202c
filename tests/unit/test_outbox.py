"""The local stack's readers of stored mail: the outbox leaves out what it cannot read and lists the
rest; the mailbox simulator matches recipients by address and answers every message."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from crm.mailing.compose import compose, display
from crm_tools.devstack.mail import (
    MailboxSimulator,
    UnreadableMessage,
    outbox,
    raw_item,
    sent_headers,
    simulator_events,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Decodes to "Ada", CR LF, "Bcc: v@example.net".
BCC_WORD = "=?UTF-8?B?QWRhDQpCY2M6IHZAZXhhbXBsZS5uZXQ=?="
BCC_VICTIM = "v@example.net"


def composed(to: str, subject: str = "Hello") -> str:
    return compose(to, "CRM <no-reply@example.com>", subject, "<p>Hi</p>", "Hi").as_string()


def hand_built(to: str, subject: str = "Hello", charset: str = "utf-8") -> str:
    """A message as another sender (or an older compose) may have had SES accept it."""
    return (
        "MIME-Version: 1.0\r\n"
        "From: CRM <no-reply@example.com>\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n"
        f'Content-Type: text/plain; charset="{charset}"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "Hi\r\n"
    )


def record(message_id: str, raw: str) -> dict[str, Any]:
    return {"id": message_id, "source": "no-reply@example.com", "destinations": [], "raw_data": raw}


UNREADABLE = {
    "name-decodes-to-a-bcc": hand_built(f"{BCC_WORD} <ada@example.com>"),
    "subject-decodes-to-a-bcc": hand_built("ada@example.com", subject=BCC_WORD),
    "unknown-charset": hand_built("ada@example.com", charset="x-no-such-charset"),
}


@pytest.mark.parametrize("message_id", sorted(UNREADABLE))
def test_a_message_that_cannot_be_read_is_unreadable(message_id: str) -> None:
    with pytest.raises(UnreadableMessage):
        raw_item(record(message_id, UNREADABLE[message_id]))


def test_the_outbox_leaves_out_what_it_cannot_read_and_lists_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records: list[Any] = [record("good-1", composed("Ann <ann@example.com>"))]
    records += [record(message_id, raw) for message_id, raw in sorted(UNREADABLE.items())]
    records += ["not a record", record("good-2", composed("bob@example.com", subject="Second"))]
    data = {"ses": {"RawMessage": records, "Message": [{"id": "simple-1", "destinations": 7}]}}
    with caplog.at_level(logging.WARNING, logger="devstack"):
        items = outbox(data)
    assert sorted(i["message_id"] for i in items) == ["good-1", "good-2"]
    assert {i["message_id"]: i["to"] for i in items} == {
        "good-1": ["ann@example.com"],
        "good-2": ["bob@example.com"],
    }
    for message_id in [*UNREADABLE, "simple-1"]:
        assert message_id in caplog.text
    for personal in ("ada@example.com", BCC_VICTIM, "Ada", "Hi"):  # ids only: no address, no content
        assert personal not in caplog.text


def test_the_outbox_shows_a_hostile_name_as_the_text_that_was_typed() -> None:
    raw = composed(display(BCC_WORD, "ada@example.com"), subject=f"For {BCC_WORD}")
    (item,) = outbox({"ses": {"RawMessage": [record("m-1", raw)]}})
    assert item["to"] == ["ada@example.com"]
    assert item["headers"]["To"] == f"{BCC_WORD} <ada@example.com>"
    assert item["subject"] == f"For {BCC_WORD}"
    assert "Bcc" not in item["headers"]


def events(destinations: list[str], raw: str | None = None) -> list[dict[str, Any]]:
    return simulator_events(
        message_id="m-1",
        source="CRM <no-reply@example.com>",
        destinations=destinations,
        raw=raw if raw is not None else composed("ada@example.com"),
        account="123456789012",
        region="us-east-1",
        now=T0,
    )


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [e["DetailType"] for e in entries]


def detail(entries: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (entry,) = [e for e in entries if e["DetailType"] == kind]
    parsed: dict[str, Any] = json.loads(entry["Detail"])
    return parsed


@pytest.mark.parametrize(
    "destination",
    [
        "Bounce Test <bounce@simulator.amazonses.com>",
        '"Doe, Jane" <bounce@simulator.amazonses.com>',
        f"{BCC_WORD} <bounce@simulator.amazonses.com>",
        "Bounce@Simulator.AmazonSES.com",
        "Ada <BOUNCE@SIMULATOR.AMAZONSES.COM>",
    ],
)
def test_the_bounce_address_bounces_whatever_its_display_name_or_case(destination: str) -> None:
    entries = events([destination])
    assert kinds(entries) == ["Email Bounced"]  # and is not counted delivered
    (bounced,) = detail(entries, "Email Bounced")["bounce"]["bouncedRecipients"]
    assert bounced["emailAddress"].lower() == "bounce@simulator.amazonses.com"


def test_several_recipients_each_get_their_own_outcome() -> None:
    entries = events(
        [
            "Ada <ada@example.com>",
            "Complaints <Complaint@Simulator.AmazonSES.com>, Bob <bob@example.com>",
            "Bounce Test <bounce@simulator.amazonses.com>",
        ]
    )
    assert kinds(entries) == ["Email Bounced", "Email Complaint Received", "Email Delivered"]
    complained = detail(entries, "Email Complaint Received")["complaint"]["complainedRecipients"]
    assert [r["emailAddress"] for r in complained] == ["Complaint@Simulator.AmazonSES.com"]
    delivered = detail(entries, "Email Delivered")
    assert delivered["delivery"]["recipients"] == ["ada@example.com", "bob@example.com"]
    assert delivered["mail"]["source"] == "no-reply@example.com"
    assert delivered["mail"]["sourceArn"].endswith(":identity/example.com")


def test_a_message_whose_headers_cannot_be_decoded_still_bounces() -> None:
    raw = hand_built(f"{BCC_WORD} <bounce@simulator.amazonses.com>", subject=BCC_WORD)
    entries = events([f"{BCC_WORD} <bounce@simulator.amazonses.com>"], raw=raw)
    assert kinds(entries) == ["Email Bounced"]
    mail = detail(entries, "Email Bounced")["mail"]
    assert mail["commonHeaders"]["to"] == [f"{BCC_WORD} <bounce@simulator.amazonses.com>"]  # as sent
    assert mail["commonHeaders"]["subject"] == BCC_WORD
    assert all("\r" not in h["value"] and "\n" not in h["value"] for h in mail["headers"])


def test_sent_headers_decode_what_reads_as_one_line_and_keep_the_rest_as_sent() -> None:
    raw = hand_built("=?utf-8?q?Zo=C3=AB?= <zoe@example.com>", subject=BCC_WORD)
    headers = dict(sent_headers(raw))
    assert headers["To"] == "Zoë <zoe@example.com>"
    assert headers["Subject"] == BCC_WORD


@dataclass
class Sent:
    id: str
    destinations: Any
    raw_data: str
    source: str = "no-reply@example.com"


@dataclass
class Events:
    calls: list[list[dict[str, Any]]] = field(default_factory=list)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


class Simulator(MailboxSimulator):
    def __init__(self, sent: list[Sent], events_client: Events) -> None:
        super().__init__(
            events_client=events_client,
            account="123456789012",
            region="us-east-1",
            lock=threading.RLock(),
            stop=threading.Event(),
        )
        self.sent = sent

    def _sent(self) -> list[Any]:
        return list(self.sent)


def test_one_message_the_simulator_cannot_answer_does_not_cost_the_others_their_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    put = Events()
    simulator = Simulator(
        [
            Sent("broken", destinations=None, raw_data=composed("ada@example.com")),  # not a list
            Sent(
                "named",
                ["Bounce Test <bounce@simulator.amazonses.com>"],
                composed("bounce@simulator.amazonses.com"),
            ),
            Sent("plain", ["bob@example.com"], composed("bob@example.com")),
        ],
        put,
    )
    with caplog.at_level(logging.ERROR, logger="devstack"):
        assert simulator.poll_once()
    assert [[e["DetailType"] for e in call] for call in put.calls] == [["Email Bounced"], ["Email Delivered"]]
    assert "broken" in caplog.text and "example.com" not in caplog.text
    assert not simulator.poll_once()  # nothing is answered twice


def test_the_outbox_lists_attachments_and_shows_an_invitations_text() -> None:
    from crm.mailing.compose import Attachment

    invite = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    raw = compose(
        "ada@example.com",
        "CRM <no-reply@example.com>",
        "You're registered",
        '<img src="cid:qr@crm">',
        "See you",
        attachments=[
            Attachment("invite.ics", "text/calendar; method=REQUEST", invite),
            Attachment("check-in.png", "image/png", b"\x89PNG....", content_id="qr@crm"),
        ],
    ).as_string()
    (item,) = outbox({"ses": {"RawMessage": [record("m-1", raw)]}})
    # the inline image is written into the HTML (the outbox page's CSP allows data:, not cid:)
    assert item["text"] == "See you" and item["html"] == '<img src="data:image/png;base64,iVBORy4uLi4=">'
    assert item["attachments"] == [
        {"filename": "check-in.png", "content_type": "image/png", "size": 8},
        {
            "filename": "invite.ics",
            "content_type": "text/calendar",
            "size": len(invite),
            "text": invite.decode(),
        },
    ]
