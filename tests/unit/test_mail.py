"""compose builds real multipart/alternative MIME; header values cannot inject headers, and text from
people (display names, subjects) reads back exactly as typed under policy.default and compat32."""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import pytest

from crm.mailing.compose import compose, display, recipients_of
from crm.mailing.mailer import InMemoryMailer, SendThrottled
from crm.platform import clock


def parsed(message: EmailMessage) -> EmailMessage:
    """What a recipient gets: the bytes on the wire, parsed again."""
    result = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


def basic(**kwargs: object) -> EmailMessage:
    args: dict[str, object] = {
        "to": "ada@example.com",
        "sender": "CRM <no-reply@example.com>",
        "subject": "Hello",
        "html": "<p>Hi <b>Ada</b></p>",
        "text": "Hi Ada",
    }
    args.update(kwargs)
    return compose(**args)  # type: ignore[arg-type]


def test_multipart_alternative_with_text_then_html_in_utf8() -> None:
    original = basic(html="<p>Grüße €</p>", text="Grüße €")
    assert original.as_bytes().isascii()  # 8-bit content is transfer-encoded (quoted-printable)
    message = parsed(original)
    assert message.get_content_type() == "multipart/alternative"
    assert message["MIME-Version"] == "1.0"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content().strip() == "Grüße €"
    assert parts[1].get_content().strip() == "<p>Grüße €</p>"
    assert message["From"] == "CRM <no-reply@example.com>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Hello"
    assert message["Date"] and message["Message-ID"].endswith("@example.com>")


def test_rfc_8058_headers_when_an_unsubscribe_url_is_given() -> None:
    message = parsed(
        basic(
            list_unsubscribe_url="https://crm.example.com/public/unsubscribe?token=abc",
            list_unsubscribe_mailto="mailto:unsubscribe@example.com?subject=abc",
        )
    )
    assert message["List-Unsubscribe"] == (
        "<https://crm.example.com/public/unsubscribe?token=abc>, <mailto:unsubscribe@example.com?subject=abc>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_unsubscribe_headers_without_a_url() -> None:
    message = parsed(basic())
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    mailto_only = parsed(basic(list_unsubscribe_mailto="mailto:u@example.com"))
    assert mailto_only["List-Unsubscribe"] == "<mailto:u@example.com>"
    assert mailto_only["List-Unsubscribe-Post"] is None  # one-click needs an HTTPS URI


@pytest.mark.parametrize(
    "url",
    [
        "http://crm.example.com/u",
        "https://x.example/u>, <https://evil",
        "javascript:x",
        "http://127.0.0.1.evil.example/u",
        "http://localhost.evil.example/u",
    ],
)
def test_unsubscribe_url_must_be_a_plain_https_uri(url: str) -> None:
    with pytest.raises(ValueError):
        basic(list_unsubscribe_url=url)


@pytest.mark.parametrize(
    "field, value",
    [
        ("subject", "Hello\r\nBcc: victim@example.com"),
        ("subject", "Hello\nBcc: victim@example.com"),
        ("subject", "Hello\rX"),
        ("to", "ada@example.com\r\nBcc: victim@example.com"),
        ("sender", "CRM <no-reply@example.com>\nBcc: victim@example.com"),
        ("list_unsubscribe_url", "https://crm.example.com/u\r\nBcc: victim@example.com"),
        ("list_unsubscribe_mailto", "mailto:u@example.com\nBcc: x@example.com"),
    ],
)
def test_cr_or_lf_in_a_header_value_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        basic(**{field: value})


def test_extra_headers_are_checked_too() -> None:
    message = parsed(basic(headers={"X-Campaign-Id": "c-1"}))
    assert message["X-Campaign-Id"] == "c-1"
    with pytest.raises(ValueError, match="CR or LF"):
        basic(headers={"X-Campaign-Id": "c-1\r\nBcc: victim@example.com"})
    with pytest.raises(ValueError):
        basic(headers={"X-Evil\r\nBcc": "x"})
    with pytest.raises(ValueError):
        basic(headers={"Bcc: victim@example.com\r\nX": "x"})
    with pytest.raises(ValueError, match="set by compose"):
        basic(headers={"subject": "another"})


def test_not_an_address_is_refused() -> None:
    with pytest.raises(ValueError):
        basic(to="not an address")
    with pytest.raises(ValueError):
        basic(to=[])


def test_non_ascii_names_and_subjects_are_encoded() -> None:
    raw = basic(
        to=display("Zoë Ångström", "zoe@example.com"),
        sender=display("Équipe Recrutement", "no-reply@example.com"),
        subject="Un poste pour vous — Zoë ✨",
    ).as_bytes()
    assert raw.isascii()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in head.lower()
    message = parsed(basic(to=display("Zoë Ångström", "zoe@example.com"), subject="Un poste — Zoë ✨"))
    assert message["Subject"] == "Un poste — Zoë ✨"
    assert message["To"].addresses[0].display_name == "Zoë Ångström"
    assert message["To"].addresses[0].addr_spec == "zoe@example.com"


def test_several_recipients() -> None:
    message = basic(to=["a@example.com", "B <b@example.com>"])
    assert recipients_of(message) == ["a@example.com", "b@example.com"]


def test_in_memory_mailer_keeps_messages_and_can_fail() -> None:
    mailer = InMemoryMailer()
    message_id = mailer.send(basic())
    assert mailer.sent[0][0] == message_id and mailer.messages[0]["Subject"] == "Hello"
    mailer.fail_with = SendThrottled("slow down")
    with pytest.raises(SendThrottled):
        mailer.send(basic())
    assert len(mailer.sent) == 1


def test_clock_has_no_offset_outside_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_ENV, raising=False)
    assert clock.offset_seconds() == 0
    assert not clock.is_adjustable()
    with pytest.raises(clock.ClockNotAdjustable):
        clock.advance(60)


def test_local_clock_moves_forward(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(clock.CLOCK_FILE_ENV, str(tmp_path / "clock.json"))
    before = clock.now()
    assert clock.advance(3600) == 3600
    assert clock.advance(60) == 3660
    assert clock.offset_seconds() == 3660
    assert (clock.now() - before).total_seconds() >= 3660
    assert clock.now().utcoffset() is not None
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_the_local_stack_may_link_over_plain_http_on_loopback() -> None:
    message = compose(
        "ann@example.com",
        "CRM <no-reply@example.com>",
        "Hi",
        "<p>Hi</p>",
        "Hi",
        list_unsubscribe_url="http://127.0.0.1:8000/public/unsubscribe?token=abc",
    )
    assert message["List-Unsubscribe"] == "<http://127.0.0.1:8000/public/unsubscribe?token=abc>"


def test_a_long_unsubscribe_link_is_not_folded() -> None:
    url = "https://crm.example.com/public/unsubscribe?token=" + "x" * 300
    raw = basic(list_unsubscribe_url=url, subject="Ein sehr langer Betreff für Zoë " * 4).as_bytes()
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw
    message = parsed(basic(list_unsubscribe_url=url, subject="Ein sehr langer Betreff für Zoë " * 4))
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["Subject"] == "Ein sehr langer Betreff für Zoë " * 4


def test_international_addresses() -> None:
    message = parsed(basic(to=display("Zoë", "zoe@bücher.example")))
    assert message["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.example"
    with pytest.raises(ValueError, match="SMTPUTF8"):
        basic(to="rosa.müller@example.com")


# ----------------------------------------------------------------- text from people reads back as typed

#: Decodes to "Ada", CR LF, "Bcc: v@example.net": a name that is an encoded word must not be decoded.
BCC_WORD = "=?UTF-8?B?QWRhDQpCY2M6IHZAZXhhbXBsZS5uZXQ=?="
HOSTILE_TEXT = [
    BCC_WORD,
    "=?utf-8?q?Ada=0D=0ABcc:_v@example.net?=",
    "=?UTF-8?Q?Ada?= =?UTF-8?Q?=0ABcc=3A_v=40example=2Enet?=",
    "Ada =?iso-8859-1?q?=0D=0ABcc:_v@example.net?= Lovelace",
    "x=?utf-8?b?DQpCY2M6IHZAZXhhbXBsZS5uZXQ=?=y",
    'Ann "The Boss" O\'Neil',
    "Doe, Jane",
    "Ada <v@example.net>, Bcc: v@example.net",
    'a\\b \\" (comment) [x]; y: z.',
    "Zoë Ångström",
    "🦄 Ada 🚀",
    "Ada\x00\x1b[31m",
]


def _compat32(message: EmailMessage) -> Message:
    return email.message_from_bytes(message.as_bytes(), policy=compat32)


def _decoded(value: str) -> str:
    """What a compat32 reader shows: RFC 2047 words decoded, the rest as it is."""
    return str(make_header(decode_header(value)))


def _assert_only_the_intended_recipient(message: EmailMessage) -> None:
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert raw.isascii()
    assert not any(line.lower().startswith((b"bcc", b"cc")) for line in head.split(b"\r\n"))
    for reader in (parsed(message), _compat32(message)):
        assert reader.get_all("Bcc") is None and reader.get_all("Cc") is None
        assert len(reader.get_all("To") or []) == 1
    assert recipients_of(parsed(message)) == recipients_of(_compat32(message)) == ["ada@example.com"]


@pytest.mark.parametrize("name", HOSTILE_TEXT)
def test_a_display_name_reads_back_exactly_as_typed(name: str) -> None:
    message = basic(to=display(name, "ada@example.com"), sender=display(name, "no-reply@example.com"))
    _assert_only_the_intended_recipient(message)
    modern = parsed(message)
    for field, addr_spec in (("To", "ada@example.com"), ("From", "no-reply@example.com")):
        (address,) = modern[field].addresses
        assert (address.display_name, address.addr_spec) == (name, addr_spec)
        assert "\r" not in str(modern[field]) and "\n" not in str(modern[field])
        ((compat_name, compat_address),) = getaddresses(_compat32(message).get_all(field) or [])
        assert (_decoded(compat_name), compat_address) == (name, addr_spec)


@pytest.mark.parametrize("name", [BCC_WORD, "=?utf-8?b?DQpCY2M6IHZAZXhhbXBsZS5uZXQ=?=", "Ada=?x?=Lovelace"])
def test_an_encoded_word_in_a_name_and_address_string_is_literal_text(name: str) -> None:
    """A string "Name <address>" as callers pass it: the name is what the person typed, never decoded."""
    message = basic(to=f"{name} <ada@example.com>")
    _assert_only_the_intended_recipient(message)
    (address,) = parsed(message)["To"].addresses
    assert (address.display_name, address.addr_spec) == (name, "ada@example.com")


HOSTILE_SUBJECTS = [
    *HOSTILE_TEXT,
    "Your application =?UTF-8?B?DQpCY2M6IHZAZXhhbXBsZS5uZXQ=?= is in",
    "Hello Ada\u2028Bcc: v@example.net",
    "Tab\there, vertical\x0btab, form\x0cfeed, NEL\x85",
    "  two leading blanks, a trailing one ",
    "double  spaces  inside",
    "Ein sehr langer Betreff =?utf-8?q?=0A?= für Zoë 🦄 " * 6,
]


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
def test_a_subject_reads_back_exactly_as_rendered(subject: str) -> None:
    message = basic(subject=subject, headers={"X-Note": subject})
    _assert_only_the_intended_recipient(message)
    modern = parsed(message)
    compat = _compat32(message)
    for field in ("Subject", "X-Note"):
        assert modern.get_all(field) == [subject]
        assert [_decoded(v) for v in compat.get_all(field) or []] == [subject]
    head = message.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


def test_whitespace_runs_in_a_display_name_become_one_space() -> None:
    message = parsed(basic(to=display("  Ada \t Lovelace\u2028 ", "ada@example.com")))
    assert message["To"].addresses[0].display_name == "Ada Lovelace"


def test_address_headers_given_as_extra_headers_encode_their_names() -> None:
    message = basic(headers={"Reply-To": display(BCC_WORD, "talent@example.com")})
    _assert_only_the_intended_recipient(message)
    (reply_to,) = parsed(message)["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (BCC_WORD, "talent@example.com")
    with pytest.raises(ValueError):
        basic(headers={"Reply-To": "not an address"})


def test_every_kind_of_mail_has_its_plan() -> None:
    from typing import get_args

    from crm.mailing.messages import MailKind
    from crm.workflows.mail_kinds import PLANS

    assert set(PLANS) == set(get_args(MailKind)) - {"reminder"}
