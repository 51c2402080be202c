"""Reading an inbound message: the standard library's parser (``email.policy.default``), made to
survive what the internet sends (broken MIME, unknown charsets, bad boundaries, binary junk):
:func:`parse` returns what it could read or raises ``MalformedMail``, never anything else.

Quoted history comes off with ``mail-parser-reply`` (headers such as "On ... wrote:", "-----Original
Message-----" in several languages), then any trailing ``>`` lines it left."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from mailparser_reply import EmailReplyParser

from crm.platform.errors import DomainError

#: Where a reply address may be found (SES keeps the envelope recipient in Delivered-To too).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
MAX_TEXT = 20_000
MAX_HEADER = 2_000
MAX_ATTACHMENTS = 10
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "da", "sv", "pl"]
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "txt": "text/plain",
}


class MalformedMail(DomainError):
    """The bytes are not a message this parser can read."""


@dataclass
class Part:
    filename: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    subject: str
    recipients: list[str]
    text: str
    parts: list[Part] = field(default_factory=list)
    skipped_parts: int = 0


def _headers(message: Message, name: str) -> list[str]:
    """A header's values as text; a value the parser chokes on is read raw, then dropped."""
    try:
        values = message.get_all(name) or []
    except Exception:
        return []
    out = []
    for value in values:
        try:
            text = str(value)
        except Exception:  # noqa: S112 - an unreadable header value is dropped, never fatal
            continue
        out.append(" ".join(text.split())[:MAX_HEADER])
    return out


def _first(message: Message, name: str) -> str:
    values = _headers(message, name)
    return values[0] if values else ""


def _addresses(values: list[str]) -> list[str]:
    try:
        return [address for _, address in getaddresses(values) if "@" in address]
    except Exception:
        return []


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "blockquote"):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def html_text(html: str) -> str:
    reader = _Text()
    try:
        reader.feed(html)
        reader.close()
    except Exception:
        return ""
    return re.sub(r"\n{3,}", "\n\n", "".join(reader.chunks)).strip()


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:  # noqa: S110 - an unknown charset or a broken encoding: read the raw bytes below
        pass
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return ""


def _body(message: EmailMessage) -> tuple[str, Message | None]:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is None:
        if message.is_multipart():
            return "", None
        body = message
    text = _part_text(body)
    try:
        subtype = body.get_content_subtype()
    except Exception:
        subtype = "plain"
    if subtype == "html":
        text = html_text(text)
    return text.replace("\r\n", "\n").replace("\x00", ""), body


def _parts(message: EmailMessage, body: Message | None) -> tuple[list[Part], int]:
    parts: list[Part] = []
    skipped = 0
    try:
        walked = list(message.walk())
    except Exception:
        return [], 0
    for part in walked:
        if part is body or part is message:
            continue
        try:
            if part.is_multipart():
                continue
            filename = part.get_filename()
            disposition = part.get_content_disposition()
        except Exception:
            skipped += 1
            continue
        if not filename and disposition != "attachment":
            continue
        if len(parts) >= MAX_ATTACHMENTS:
            skipped += 1
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        name = safe_filename(str(filename or "attachment"))
        parts.append(Part(filename=name, data=data if isinstance(data, bytes) else b""))
    return parts, skipped


def safe_filename(name: str) -> str:
    """A file name to show and to download as: no path, no control or quoting characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"<>|*?:;]', "", name).strip(" .")
    return name[:120] or "attachment"


def parse(raw: bytes) -> ParsedMail:
    """What the message says; ``MalformedMail`` when it is not a message at all."""
    if not raw.strip():
        raise MalformedMail("The message is empty.")
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:
        raise MalformedMail("The message cannot be parsed.") from exc
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MalformedMail("The message has no headers.")
    recipients = _addresses([v for name in RECIPIENT_HEADERS for v in _headers(message, name)])
    senders = _addresses(_headers(message, "From"))
    message_id = _first(message, "Message-ID").strip("<> ")
    if not message_id:
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    text, body = _body(message)
    parts, skipped = _parts(message, body)
    return ParsedMail(
        message_id=message_id[:500],
        sender=senders[0] if senders else "",
        subject=_first(message, "Subject")[:300],
        recipients=recipients,
        text=strip_quoted(text)[:MAX_TEXT],
        parts=parts,
        skipped_parts=skipped,
    )


_QUOTE_HEADERS = re.compile(
    r"^(?:On .{1,300}wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$)",
    re.IGNORECASE | re.MULTILINE,
)


def strip_quoted(text: str) -> str:
    """What the sender wrote above the quoted history (the whole text when nothing is left)."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        latest = str(EmailReplyParser(languages=LANGUAGES).parse_reply(text=text) or "")
    except Exception:
        latest = text
    match = _QUOTE_HEADERS.search(latest)
    if match and match.start() > 0:
        latest = latest[: match.start()]
    lines = latest.rstrip().split("\n")
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    kept = "\n".join(line for line in lines if not line.startswith(">")).strip()
    return kept or text


def sniff(filename: str, data: bytes) -> str | None:
    """pdf, docx, png, jpeg or txt from the bytes (txt: a ``.txt`` name and readable UTF-8)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else None
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
    if filename.lower().endswith(".txt") and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "txt"
    return None
