"""The recruiter UI's local-stack pages (the outbox and the clock).

``app.py`` registers this blueprint only when ``CRM_LOCAL_STACK=1`` (set by ``crm dev``), as it does
``dev.py``: these pages never exist in AWS. They are pages over ``dev.py``'s own views (the same
outbox reading, the same clock and its ``ClockAdvance`` limits), called with the session's principal.
"""

from __future__ import annotations

import html as html_module
import re
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import dev
from chalicelib.web.endpoint import Call
from chalicelib.web.session import http_url
from chalicelib.web.ui import Session, page, see_other, text, ui_route
from crm.platform import clock

bp = Blueprint(__name__)

OUTBOX_SHOWN = 50  # the newest emails on the page
UNITS = {"minutes": 60, "hours": 3600, "days": 86_400}
NOTICES = {"advanced": "The local clock moved forward."}


def _as(call: Call, session: Session, body: Any = None) -> Call:
    return Call(request=call.request, principal=session.principal, body=body)


@ui_route("/ui/dev/outbox", "GET", "Recruiter UI, local stack only: the emails the stack sent", blueprint=bp)
def ui_outbox(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    items = dev.outbox(_as(call, session))["items"]
    shown = [
        {**item, "links": email_links(item.get("html"), item.get("text"))} for item in items[:OUTBOX_SHOWN]
    ]
    return page("ui_dev_outbox.html", session=session, items=shown, total=len(items), cap=OUTBOX_SHOWN)


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
