"""Reply addresses (signed, short, lower-case, expiring) and quoted history taken off replies."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from crm.inbound.parsing import parse, sniff, strip_quoted
from crm.inbound.service import object_keys, reply_id_of
from crm.outreach import replies
from crm.platform import signing
from crm.platform.config import reset_settings
from crm.platform.signing import InvalidLink

CANDIDATE = "0f" * 16
CONVERSATION = "a1" * 16


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(signing, "_signing_key", lambda: "k" * 40)
    monkeypatch.setenv("INBOUND_MAIL_DOMAIN", "inbound.example.com")
    for name in (
        "TABLE_NAME",
        "RESUME_BUCKET",
        "EVENT_BUS_NAME",
        "USER_POOL_ID",
        "USER_POOL_CLIENT_ID",
        "SIGNING_SECRET_ARN",
        "MAIL_FROM",
        "DISPATCH_QUEUE_URL",
        "DISPATCH_QUEUE_ARN",
        "MAIL_QUEUE_URL",
        "SCHEDULER_ROLE_ARN",
    ):
        monkeypatch.setenv(name, "x")
    reset_settings()
    yield
    reset_settings()


def test_a_reply_address_fits_a_local_part_and_reads_back() -> None:
    address = replies.reply_address(CANDIDATE, CONVERSATION)
    assert address is not None
    local, _, domain = address.partition("@")
    assert domain == "inbound.example.com" and len(local) == 64 and local == local.lower()
    token = replies.token_of(address.upper())
    assert token is not None
    found = replies.read_reply_token(token)
    assert (found.candidate_id, found.conversation_prefix) == (CANDIDATE, CONVERSATION[:16])


def test_a_changed_character_another_key_or_an_old_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = replies.reply_token(CANDIDATE, CONVERSATION)
    assert token is not None
    for i in (0, 30, 45, len(token) - 1):
        changed = token[:i] + ("1" if token[i] != "1" else "2") + token[i + 1 :]
        with pytest.raises(InvalidLink):
            replies.read_reply_token(changed)
    with pytest.raises(InvalidLink):
        replies.read_reply_token(token[:-1])
    old = replies.reply_token(CANDIDATE, CONVERSATION, issued=date.today() - timedelta(days=400))
    with pytest.raises(InvalidLink, match="expired"):
        replies.read_reply_token(old or "")
    monkeypatch.setattr(signing, "_signing_key", lambda: "another key")
    with pytest.raises(InvalidLink):
        replies.read_reply_token(token)


def test_ids_the_scheme_cannot_carry_get_no_address() -> None:
    assert replies.reply_token("imported-7", CONVERSATION) is None
    assert replies.token_of("reply+abc@elsewhere.example") is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "Yes please.\n\nOn Tue, 1 Dec 2026 at 10:00, Rita <r@x.com> wrote:\n> Hello\n> there",
            "Yes please.",
        ),
        ("Sure.\n\n-----Original Message-----\nFrom: Rita\nSent: today\n\nold text", "Sure."),
        ("Fine by me.\n> quoted line\n> another", "Fine by me."),
        (
            "Am 1. Dez. 2026 schrieb Rita <r@x.com>:\n> Hallo",
            "Am 1. Dez. 2026 schrieb Rita <r@x.com>:\n> Hallo",
        ),
        ("Just text, nothing quoted.", "Just text, nothing quoted."),
    ],
)
def test_quoted_history_comes_off(text: str, kept: str) -> None:
    result = strip_quoted(text)
    assert result.startswith(kept.split("\n")[0])
    assert "wrote:" not in result and "Original Message" not in result


def test_parse_reads_html_only_mail_and_types_are_sniffed() -> None:
    raw = b"To: a@b.c\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p><script>x()</script>"
    mail = parse(raw)
    assert mail.text == "Hi there" and mail.recipients == ["a@b.c"]
    assert sniff("a.pdf", b"%PDF-1.7") == "pdf"
    assert sniff("a.png", b"\x89PNG\r\n\x1a\nxx") == "png"
    assert sniff("a.txt", b"hello") == "txt"
    assert sniff("a.exe", b"MZ\x90") is None
    assert sniff("a.txt", b"\x00\x01") is None


def test_s3_notifications_name_their_keys_and_ids_are_stable() -> None:
    body = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "inbound/a+b%21"}}}]}'
    assert object_keys(body) == ["inbound/a b!"]
    assert object_keys('{"Event": "s3:TestEvent"}') == []
    with pytest.raises(ValueError):
        object_keys("[]")
    assert reply_id_of("<A@x>") == reply_id_of("<a@X>")
