"""A registrant's ticket: the signed check-in token their QR code carries, and the signed link to
their own registration (see it, cancel it).

The QR code holds the staff check-in page's address with the token (``/ui/events/<id>/check-in
?token=...``): the desk's scanner reads the token out of it, and a phone's own camera app opens
that page for a signed-in recruiter, so a check-in works even where the page cannot scan. The
token names the event and the person and expires a day after the event ends; it is refused for
another event, and it checks a person in once (the registration records it).

Both are signed with the product's key (``crm.platform.signing``), each with its own purpose.
QR codes are drawn with ``segno``: a PNG for email (inline, by ``cid``), an SVG for the page.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from crm.platform.config import get_settings
from crm.platform.errors import ValidationFailed
from crm.platform.signing import InvalidLink, sign, verify
from crm.platform.times import parse

#: A ticket works until a day after the event ends.
VALID_AFTER_END = timedelta(days=1)
#: The signature's own limit (the expiry in the payload is the one that counts).
MAX_AGE_SECONDS = 2 * 365 * 24 * 3600
QR_CID = "checkin-qr"


class InvalidCheckIn(ValidationFailed):
    """A check-in token that is forged, cut short, expired, or for another event (422 on ``token``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[{"field": "token", "message": message}])


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def _expiry(ends_at: str) -> int:
    end = parse(ends_at)
    assert end is not None
    return int((end + VALID_AFTER_END).timestamp())


def checkin_token(event_id: str, candidate_id: str, *, ends_at: str) -> str:
    return sign("event-checkin", {"e": event_id, "c": candidate_id, "x": _expiry(ends_at)})


def checkin_url(event_id: str, token: str) -> str:
    """What the QR code holds: the desk's page for this event, with the token."""
    return f"{_base()}/ui/events/{event_id}/check-in?{urlencode({'token': token})}"


def token_from(text: str) -> str:
    """The token in what was scanned or typed: the QR code's address, or the token itself."""
    text = text.strip()
    if "token=" in text:
        values = parse_qs(urlsplit(text).query).get("token") or parse_qs(text.split("?", 1)[-1]).get("token")
        if values:
            return values[0]
    return text


def read_checkin_token(text: str, *, event_id: str, now: datetime) -> str:
    """The candidate a check-in token names, for this event; ``InvalidCheckIn`` otherwise."""
    try:
        payload = verify("event-checkin", token_from(text), max_age_seconds=MAX_AGE_SECONDS)
    except InvalidLink as exc:
        raise InvalidCheckIn("This code is not a valid check-in code.") from exc
    candidate_id, for_event, expires = payload.get("c"), payload.get("e"), payload.get("x")
    if not isinstance(candidate_id, str) or not isinstance(for_event, str) or not isinstance(expires, int):
        raise InvalidCheckIn("This code is not a valid check-in code.")
    if for_event != event_id:
        raise InvalidCheckIn("This code is for another event.")
    if now.timestamp() > expires:
        raise InvalidCheckIn("This code has expired: the event is over.")
    return candidate_id


def manage_url(event_id: str, candidate_id: str, *, ends_at: str) -> str:
    """The registrant's own page: their registration, QR code, and a button to cancel."""
    token = sign("event-registration", {"e": event_id, "c": candidate_id, "x": _expiry(ends_at)})
    return f"{_base()}/careers/events/{event_id}/registration?{urlencode({'token': token})}"


def read_manage_token(token: str | None, *, event_id: str, now: datetime) -> str:
    """The candidate a registration link names; ``InvalidLink`` for a bad, expired or other one."""
    payload = verify("event-registration", token, max_age_seconds=MAX_AGE_SECONDS)
    candidate_id, for_event, expires = payload.get("c"), payload.get("e"), payload.get("x")
    if not isinstance(candidate_id, str) or for_event != event_id or not isinstance(expires, int):
        raise InvalidLink("This link is not valid.")
    if now.timestamp() > expires:
        raise InvalidLink("This link has expired: the event is over.")
    return candidate_id


def qr_png(content: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make_qr(content, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def qr_svg(content: str, *, title: str) -> str:
    """An SVG element (no XML declaration), to put in a page as it is."""
    import segno

    return str(segno.make_qr(content, error="m").svg_inline(scale=5, border=4, title=title))
