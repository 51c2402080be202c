"""Email as real MIME messages, and the ways to send them.

``compose`` builds a multipart/alternative message (a text and an HTML part, UTF-8)
with the List-Unsubscribe / List-Unsubscribe-Post headers of RFC 8058 when an
unsubscribe URL is given. Every header value is refused if it carries CR or LF, so
nothing a recruiter or candidate typed can add a header.

Text from people (display names, subjects rendered from recruiter templates with candidate
values in them) is written so that a standards parser reads back exactly that text: it goes
out as typed only when it is printable ASCII that no parser could decode into something else;
anything else (non-ASCII, control characters, or an ``=?`` that a parser would take for the
start of an RFC 2047 encoded word) is sent as RFC 2047 encoded words, so a name such as
``=?UTF-8?B?...?=`` reaches the recipient as those literal characters, never as what they
decode to (which may be a line break and a ``Bcc:`` header). In a display name, runs of
whitespace (tabs and Unicode line separators included) become one space.

Sending them is ``crm.mailing.mailer``'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import encoders
from email.charset import QP, Charset
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr, getaddresses, make_msgid

from crm.platform import clock

#: How messages are written: classic string headers, CRLF line ends (as SMTP and SES want), and
#: no folding of long headers (a List-Unsubscribe URL stays whole; RFC 5322 allows 998 octets).
WIRE = compat32.clone(linesep="\r\n", max_line_length=998)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in the raw source, and 7-bit clean

#: Display names go out as one encoded word (``Charset.header_encode``; q or b, whichever is
#: shorter). One word, not several: ``policy.default`` puts a space between adjacent encoded words
#: of a phrase, so a folded name would not read back as it was written.
_UTF8_HEADER = Charset("utf-8")
#: RFC 2047: "An 'encoded-word' may not be more than 75 characters long".
ENCODED_WORD_MAX = 75
#: Headers that hold addresses: their display names are encoded as in From and To.
ADDRESS_HEADERS = frozenset({"reply-to", "cc", "bcc", "sender"})

#: Headers ``compose`` sets itself; ``headers=`` may not replace them.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    )
)


def _clean(name: str, value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} may not contain CR or LF (header injection)")
    return value


def _address(name: str, value: str) -> str:
    _clean(name, value)
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError(f"{name} is not one email address")  # the value is personal data
    return value


#: The local stack (``crm dev``) serves its pages over plain HTTP on loopback; links there may
#: be http://. Anywhere else RFC 8058 one-click unsubscribe needs https://.
LOOPBACK_ORIGINS = (
    "http://127.0.0.1:",
    "http://127.0.0.1/",
    "http://localhost:",
    "http://localhost/",
    "http://[::1]:",
)


def _angle_uri(name: str, value: str, scheme: str) -> str:
    _clean(name, value)
    allowed = value.startswith(scheme) or (scheme == "https://" and value.startswith(LOOPBACK_ORIGINS))
    if not allowed or any(c in value for c in "<> \t,"):
        raise ValueError(f"{name} must be a {scheme} URI without spaces, commas or angle brackets")
    return f"<{value}>"


def _reads_back_as_written(text: str) -> bool:
    """Whether ``text`` may go into a header as it is: printable ASCII (no control characters,
    nothing to transfer-encode), no ``=?`` (parsers decode what follows as an RFC 2047 encoded
    word, in quoted strings too), and no leading or trailing blank (parsers drop it)."""
    return text.isascii() and text.isprintable() and "=?" not in text and text == text.strip(" ")


def _header_text(name: str, value: str) -> str:
    """An unstructured header value (Subject, ``headers=``): as written when a parser reads that
    back unchanged, else RFC 2047 encoded words of at most 75 characters, one a line. (Not
    ``Header.encode``: it splits at every ``str.splitlines`` boundary, so a U+2028 or a vertical
    tab in the text would be lost; an encoded word keeps each character as it was.)"""
    _clean(name, value)
    if _reads_back_as_written(value):
        return value
    words = _UTF8_HEADER.header_encode_lines(value, itertools.repeat(ENCODED_WORD_MAX))
    return "\n ".join(word for word in words if word)  # None only when no character fits: never at 75


def _header_address(name: str, value: str) -> str:
    """One address header value from ``"Name <local@domain>"`` or a bare address."""
    display_name, address = getaddresses([_address(name, value)])[0]
    return _format_address(name, display_name, address)


def _format_address(name: str, display_name: str, address: str) -> str:
    """An address for a header, the display name taken as literal text: runs of whitespace in it
    become one space (a display name is one line, and parsers collapse such runs anyway); then it
    is quoted when it has specials (``formataddr``), or sent as one encoded word when a parser
    could not read it back as written. The domain goes in IDNA form. A non-ASCII local part would
    need SMTPUTF8, which SES does not offer, so it is refused (the recipient is then recorded as
    failed, not retried)."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError(f"{name}: a non-ASCII local part needs SMTPUTF8, which SES does not support")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    addr_spec = f"{local}@{domain}"
    phrase = " ".join(display_name.split())
    if not phrase:
        return addr_spec
    if _reads_back_as_written(phrase):
        return formataddr((phrase, addr_spec))
    return f"{_UTF8_HEADER.header_encode(phrase)} <{addr_spec}>"


def _header_addresses(name: str, value: str) -> str:
    """An address-list header value (Reply-To, Cc...), each address as in :func:`_format_address`."""
    _clean(name, value)
    pairs = getaddresses([value])
    if not pairs or any("@" not in address for _, address in pairs):
        raise ValueError(f"{name} is not a list of email addresses")
    return ", ".join(_format_address(name, display_name, address) for display_name, address in pairs)


@dataclass(frozen=True)
class Attachment:
    """A file that goes with an email. ``content_type`` may carry parameters
    (``text/calendar; method=REQUEST``). With a ``content_id`` the part is inline: the HTML shows it
    as ``<img src="cid:...">`` (a QR code), which mail clients display where they block
    ``data:`` images."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


def _attachment_part(attachment: Attachment) -> MIMEBase:
    main, _, rest = attachment.content_type.partition(";")
    maintype, _, subtype = main.strip().partition("/")
    if not maintype or not subtype:
        raise ValueError("an attachment's content type is type/subtype")
    params = {}
    for param in filter(None, (p.strip() for p in rest.split(";"))):
        key, _, value = param.partition("=")
        params[_clean("attachment parameter", key.strip())] = _clean("attachment parameter", value.strip())
    part = MIMEBase(maintype, subtype, policy=WIRE, **params)
    part.set_payload(attachment.data)
    encoders.encode_base64(part)
    filename = _clean("attachment filename", attachment.filename)
    if attachment.content_id is not None:
        part["Content-ID"] = f"<{_clean('content id', attachment.content_id)}>"
        part.add_header("Content-Disposition", "inline", filename=filename)
    else:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, policy=WIRE)
    part.set_payload(body, _UTF8_QP)
    return part


def _multipart(subtype: str, parts: Sequence[Message]) -> MIMEMultipart:
    multipart = MIMEMultipart(subtype, policy=WIRE)
    for part in parts:
        multipart.attach(part)
    return multipart


def _body(html: str, text: str, attachments: Sequence[Attachment]) -> MIMEMultipart:
    """multipart/alternative (text, HTML); in a multipart/related with the inline images the HTML
    shows by ``cid:``; in a multipart/mixed with the files."""
    body = _multipart("alternative", [_text_part(text, "plain"), _text_part(html, "html")])
    inline = [_attachment_part(a) for a in attachments if a.content_id is not None]
    files = [_attachment_part(a) for a in attachments if a.content_id is None]
    if inline:
        body = _multipart("related", [body, *inline])
    if files:
        body = _multipart("mixed", [body, *files])
    return body


def compose(
    to: str | Sequence[str],
    sender: str,
    subject: str,
    html: str,
    text: str,
    *,
    list_unsubscribe_url: str | None = None,
    list_unsubscribe_mailto: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
) -> Message:
    """A multipart/alternative message: text first, HTML last (the preferred part). With
    ``attachments`` it goes in a multipart/related (inline images) and a multipart/mixed (files).

    Built with the standard library's classic MIME classes, whose headers are plain strings
    checked and encoded here: the modern ``EmailMessage`` parses every header it is given, which
    cost a mail worker about 3 ms a recipient (docs/benchmarks.md), and (Python 3.11.7) folds a
    display name that is an encoded word back out decoded, line breaks and all.

    ``to`` and ``sender`` are ``"Name <address>"`` (as :func:`display` writes it) or bare
    addresses; the name is what the recipient is to see, never pre-encoded RFC 2047. Serialise
    with ``as_bytes()`` (CRLF line ends, every part 7-bit)."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    message = _body(html, text, attachments)
    message["From"] = _header_address("sender", sender)
    message["To"] = ", ".join(_header_address("to", r) for r in recipients)
    message["Subject"] = _header_text("subject", subject)
    message["Date"] = format_datetime(clock.now())
    domain = getaddresses([sender])[0][1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    unsubscribe = []
    if list_unsubscribe_url is not None:
        unsubscribe.append(_angle_uri("list_unsubscribe_url", list_unsubscribe_url, "https://"))
    if list_unsubscribe_mailto is not None:
        unsubscribe.append(_angle_uri("list_unsubscribe_mailto", list_unsubscribe_mailto, "mailto:"))
    if unsubscribe:
        message["List-Unsubscribe"] = ", ".join(unsubscribe)
    if list_unsubscribe_url is not None:
        # RFC 8058: one-click unsubscribe needs an HTTPS URI in List-Unsubscribe.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for key, value in (headers or {}).items():
        _clean("header name", key)
        if not key or any(c in key for c in ": \t") or not key.isascii():
            raise ValueError(f"invalid header name {key!r}")
        if key.lower() in RESERVED_HEADERS:
            raise ValueError(f"{key} is set by compose itself")
        if key.lower() in ADDRESS_HEADERS:
            message[key] = _header_addresses(key, value)
        else:
            message[key] = _header_text(key, value)
    return message


def recipients_of(message: Message) -> list[str]:
    """The bare addresses a message is for (To, Cc, Bcc)."""
    values = [str(v) for field in ("To", "Cc", "Bcc") for v in message.get_all(field, [])]
    return [address for _, address in getaddresses(values) if address]


def bare_address(value: str) -> str:
    """``"CRM <no-reply@example.com>"`` -> ``no-reply@example.com``."""
    return getaddresses([value])[0][1] or value


def display(name: str, address: str) -> str:
    """A From/To value for :func:`compose` from a display name and an address. The name is literal
    text (non-ASCII, quotes, commas, ``=?`` and all): compose encodes it so that it reads back
    exactly so."""
    local, _, domain = address.partition("@")
    return str(Address(display_name=_clean("name", name), username=local, domain=domain))
