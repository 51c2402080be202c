"""Reading sent mail back: a stored raw message (as SES accepted it) parsed with the standard
``email`` package into what the recipient sees (both parts, every header), and a list of them,
newest first. A stored message that cannot be read that way (a header that does not parse or
decodes to a line break, a part in an unknown charset) is left out of the list and logged by its
id, never by its content. The local stack's outbox (``GET /dev/outbox``) and its mailbox
simulator read moto's store with it."""

from __future__ import annotations

import base64
import email
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

log = logging.getLogger("crm.mailing")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class UnreadableMessage(ValueError):
    """A stored message the outbox cannot show (the reason never repeats its content)."""


def addresses(values: Iterable[str]) -> list[str]:
    """The bare addresses in header-style values (``"Name <a@b>"``, ``"a@b, c@d"``, bare ones),
    each once (compared case-insensitively, as written the first time), in order."""
    found: dict[str, str] = {}
    for _, address in getaddresses([str(v) for v in values]):
        if "@" in address:
            found.setdefault(address.lower(), address)
    return list(found.values())


# --------------------------------------------------------------------------- outbox


def iso_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _sent_at(message: EmailMessage) -> datetime | None:
    date = message.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(str(date))
    except (TypeError, ValueError):
        return None


def parse_raw(raw: str | bytes) -> EmailMessage:
    if isinstance(raw, bytes):
        message = email.message_from_bytes(raw, policy=policy.default)
    else:
        message = email.message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body((subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _attachments(message: EmailMessage) -> list[dict[str, Any]]:
    """What goes with the email (an .ics invitation, an inline QR code): each file's name, type and
    size, and a calendar's text (so a developer reads the invitation in the outbox)."""
    found = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() not in ("attachment", "inline"):
            continue
        data = part.get_payload(decode=True) or b""
        assert isinstance(data, bytes)
        item: dict[str, Any] = {
            "filename": _one_line(part.get_filename() or ""),
            "content_type": part.get_content_type(),
            "size": len(data),
        }
        if part.get_content_type() == "text/calendar":
            item["text"] = data.decode("utf-8", "replace")
        found.append(item)
    return found


def _inline_images(message: EmailMessage, html: str | None) -> str | None:
    """The HTML with each ``cid:`` image it shows (a QR code) written in as a ``data:`` URI, so
    the outbox page shows what a mail client would (its CSP allows no ``cid:`` scheme)."""
    if not html or "cid:" not in html:
        return html
    for part in message.walk():
        content_id = str(part.get("Content-ID") or "").strip().strip("<>")
        if not content_id or not part.get_content_type().startswith("image/"):
            continue
        data = part.get_payload(decode=True) or b""
        assert isinstance(data, bytes)
        uri = f"data:{part.get_content_type()};base64,{base64.b64encode(data).decode('ascii')}"
        html = html.replace(f"cid:{content_id}", uri)
    return html


def _one_line(value: object) -> str:
    text = str(value)
    if "\r" in text or "\n" in text:
        raise UnreadableMessage("a header decodes to a line break")
    return text


def raw_item(record: dict[str, Any]) -> dict[str, Any]:
    """One ``ses.RawMessage`` record as an outbox item; :class:`UnreadableMessage` when the stored
    message cannot be shown as a recipient's standards parser would read it."""
    try:
        message = parse_raw(str(record.get("raw_data", "")))
        headers: dict[str, str] = {}
        for name, value in message.items():
            text = _one_line(value)
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        to = [a.addr_spec for field in message.get_all("To", []) for a in field.addresses if a.addr_spec]
        return {
            "message_id": record.get("id"),
            "to": to or list(record.get("destinations") or []),
            "from": _one_line(message.get("From", record.get("source", ""))),
            "subject": _one_line(message.get("Subject", "")),
            "html": _inline_images(message, _part(message, "html")),
            "text": _part(message, "plain"),
            "attachments": _attachments(message),
            "headers": headers,
            "sent_at": iso_time(_sent_at(message)),
        }
    except UnreadableMessage:
        raise
    except Exception as exc:  # the email package raises many kinds on odd input: none may escape
        raise UnreadableMessage(f"{type(exc).__name__} while parsing it") from None


def simple_item(record: dict[str, Any]) -> dict[str, Any]:
    """One ``ses.Message`` record (a simple send: moto keeps the HTML or the text, not both)."""
    destinations = record.get("destinations") or {}
    to = destinations.get("ToAddresses", []) if isinstance(destinations, dict) else list(destinations)
    body = str(record.get("body") or "")
    return {
        "message_id": record.get("id"),
        "to": list(to),
        "from": str(record.get("source", "")),
        "subject": str(record.get("subject", "")),
        "html": body,
        "text": None,
        "headers": {},
        "sent_at": None,
    }


def _record_id(record: object) -> str:
    return str(record.get("id")) if isinstance(record, dict) else "(not a record)"


def outbox(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message SES accepted, newest first (raw messages by Date, then simple sends). A message
    that cannot be read is left out, and logged by its id."""
    ses = data.get("ses") or {}
    raw = []
    for record in ses.get("RawMessage") or []:
        try:
            if not isinstance(record, dict):
                raise UnreadableMessage("not a record")
            raw.append(raw_item(record))
        except UnreadableMessage as exc:
            log.warning("outbox: left out the stored message %s: %s", _record_id(record), exc)
    raw.reverse()  # moto appends: the last is the newest
    raw.sort(key=lambda item: item["sent_at"] or "", reverse=True)  # stable: same-second order kept
    simple = []
    for record in ses.get("Message") or []:
        try:
            simple.append(simple_item(record))
        except Exception as exc:  # not shaped as moto writes it
            log.warning("outbox: left out the stored message %s: %s", _record_id(record), type(exc).__name__)
    simple.reverse()
    return raw + simple
