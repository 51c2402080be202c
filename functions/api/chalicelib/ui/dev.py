"""The recruiter UI's local-stack pages (the outbox and the clock).

``app.py`` registers this blueprint only when ``CRM_LOCAL_STACK=1`` (set by ``crm dev``), as it does
``dev.py``: these pages never exist in AWS. They are pages over ``dev.py``'s own views (the same
outbox reading, the same clock and its ``ClockAdvance`` limits), called with the session's principal.
"""

from __future__ import annotations

import html as html_module
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import dev
from chalicelib.web.endpoint import Call
from chalicelib.web.session import http_url
from chalicelib.web.ui import Session, page, see_other, text, ui_route
from crm.platform import clock
from crm.platform.config import get_settings

bp = Blueprint(__name__)

OUTBOX_SHOWN = 50  # the newest emails on the page
UNITS = {"minutes": 60, "hours": 3600, "days": 86_400}
NOTICES = {"advanced": "The local clock moved forward."}
OUTBOX_NOTICES = {
    "replied": "The reply went to the stack's inbound SMTP server; it shows on the profile shortly."
}
#: A tiny PDF the "Reply as the candidate" form can attach.
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _as(call: Call, session: Session, body: Any = None) -> Call:
    return Call(request=call.request, principal=session.principal, body=body)


@ui_route("/ui/dev/outbox", "GET", "Recruiter UI, local stack only: the emails the stack sent", blueprint=bp)
def ui_outbox(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    items = dev.outbox(_as(call, session))["items"]
    shown = [
        {**item, "links": email_links(item.get("html"), item.get("text")), "reply_to": reply_address_of(item)}
        for item in items[:OUTBOX_SHOWN]
    ]
    notice = OUTBOX_NOTICES.get((call.request.query_params or {}).get("done") or "")
    return page(
        "ui_dev_outbox.html",
        session=session,
        items=shown,
        total=len(items),
        cap=OUTBOX_SHOWN,
        notice=notice,
        smtp=get_settings().local_smtp_address,
    )


def reply_address_of(item: dict[str, Any]) -> str | None:
    """The email's Reply-To when it is one of this stack's reply addresses."""
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    value = headers.get("reply-to", "").strip().strip("<>")
    domain = get_settings().inbound_mail_domain.lower()
    return value if domain and value.lower().endswith(f"@{domain}") else None


@ui_route(
    "/ui/dev/outbox/reply",
    "POST",
    "Recruiter UI, local stack only: reply to an email as the candidate, through the stack's SMTP server "
    "(form: csrf, reply_to, from, subject, message_id, body, attach_sample)",
    blueprint=bp,
    errors=(403, 409, 422),
)
def ui_reply_as_candidate(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    settings = get_settings()
    reply_to = text(fields.get("reply_to"))
    domain = settings.inbound_mail_domain.lower()
    body = str(fields.get("body") or "").strip()
    if not settings.local_smtp_address:
        return page(
            "ui_error.html",
            status=409,
            session=session,
            title="No SMTP server",
            detail="This stack runs no inbound SMTP server.",
        )
    if not domain or not reply_to.lower().endswith(f"@{domain}") or "\n" in reply_to or not body:
        return page(
            "ui_error.html",
            status=422,
            session=session,
            title="Cannot send that reply",
            detail="A reply needs a text and one of this stack's reply addresses.",
        )
    message = EmailMessage()
    message["From"] = text(fields.get("from"))[:300] or "candidate@example.com"
    message["To"] = reply_to
    subject = text(fields.get("subject"))[:300]
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="candidate.example.com")
    original = text(fields.get("message_id"))[:300]
    if original:
        message["In-Reply-To"] = original
        message["References"] = original
    message.set_content(f"{body}\n\nOn {formatdate()}, the recruiter wrote:\n> (the email you answered)\n")
    if fields.get("attach_sample"):
        message.add_attachment(SAMPLE_PDF, maintype="application", subtype="pdf", filename="sample-cv.pdf")
    host, _, port = settings.local_smtp_address.rpartition(":")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)
    return see_other("/ui/dev/outbox?done=replied")


def _clock_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    notice = NOTICES.get((call.request.query_params or {}).get("done") or "") if status == 200 else None
    return page(
        "ui_dev_clock.html",
        status=status,
        session=session,
        clock=dev.get_clock(_as(call, session)),
        values=values or {"amount": "1", "unit": "days"},
        errors=errors or {},
        units=list(UNITS),
        notice=notice,
    )


@ui_route("/ui/dev/clock", "GET", "Recruiter UI, local stack only: the local clock", blueprint=bp)
def ui_clock(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _clock_page(call, session)


@ui_route(
    "/ui/dev/clock",
    "POST",
    "Recruiter UI, local stack only: move the local clock forward (form: csrf, amount, unit)",
    blueprint=bp,
    errors=(403, 409, 422),
)
def ui_advance_clock(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    values = {"amount": text(fields.get("amount")), "unit": text(fields.get("unit"))}
    errors: dict[str, str] = {}
    if values["unit"] not in UNITS:
        errors["unit"] = "Choose minutes, hours or days."
    try:
        amount = int(values["amount"])
    except ValueError:
        amount = 0
    if amount < 1:
        errors["amount"] = "Enter a whole number, 1 or more."
    elif amount > 10**9:
        errors["amount"] = "That is too far: the clock moves at most ten years."
    body = None
    if not errors:
        try:
            body = dev.ClockAdvance.model_validate({"advance_seconds": amount * UNITS[values["unit"]]})
        except ValidationError:
            errors["amount"] = "That is too far: the clock moves at most ten years."
    if body is None:
        return _clock_page(call, session, status=422, values=values, errors=errors)
    try:
        dev.advance_clock(_as(call, session, body))
    except clock.ClockNotAdjustable:
        errors["amount"] = "This stack's clock cannot be moved (it has no local clock file)."
        return _clock_page(call, session, status=409, values=values, errors=errors)
    return see_other("/ui/dev/clock?done=advanced")


_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_URL = re.compile(r"""https?://[^\s<>"')\]]+""", re.IGNORECASE)


def email_links(html: str | None, text: str | None, limit: int = 20) -> list[str]:
    """The http(s) links of an email (its HTML hrefs, then URLs in its text), each once, in order."""
    found: list[str] = []
    candidates = [html_module.unescape(a or b) for a, b in _HREF.findall(html or "")]
    candidates += _URL.findall(text or "")
    for candidate in candidates:
        url = http_url(candidate)
        if url and url not in found:
            found.append(url)
        if len(found) >= limit:
            break
    return found
