"""Unsubscribe links and what following them does.

Every marketing email carries a signed link for its topic. Following it (the page's button,
or a mail client's RFC 8058 one-click POST) withdraws consent for that topic; ``all``
withdraws every topic and puts the address on the suppression list. The link names only the
candidate id and topic, never the address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crm.candidates.models import TOPICS
from crm.candidates.service import CandidateService
from crm.mailing.suppression import SuppressionRepository
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.signing import InvalidLink, sign, verify

# Unsubscribe links must keep working long after the email was sent.
LINK_LIFETIME_SECONDS = 400 * 24 * 3600
TOPIC_NAMES = {
    "marketing": "news and campaigns",
    "job_alerts": "job alerts",
    "events": "event invitations",
    "all": "all emails",
}


def unsubscribe_url(candidate_id: str, topic: str) -> str:
    base = get_settings().public_base_url.rstrip("/")
    if not base:
        raise RuntimeError(
            "PUBLIC_BASE_URL is not set: links in emails would not work (template parameter PublicBaseUrl)"
        )
    token = sign("unsubscribe", {"c": candidate_id, "t": topic})
    return f"{base}/public/unsubscribe?{urlencode({'token': token})}"


def read_link(token: str | None) -> dict[str, Any]:
    payload = verify("unsubscribe", token, max_age_seconds=LINK_LIFETIME_SECONDS)
    if payload.get("t") not in (*TOPICS, "all") or not isinstance(payload.get("c"), str):
        raise InvalidLink("This link is not valid.")
    return {"candidate_id": payload["c"], "topic": payload["t"], "topic_name": TOPIC_NAMES[payload["t"]]}


def unsubscribe(token: str | None, *, source: str) -> dict[str, Any]:
    """Follow a link: withdraw consent (idempotent). An erased person is already unsubscribed."""
    link = read_link(token)
    repository = CandidateService()
    try:
        candidate = repository.get(link["candidate_id"])
    except NotFound:
        return link
    topics = TOPICS if link["topic"] == "all" else (link["topic"],)
    for topic in topics:
        current = candidate.consents.get(topic)
        if current is None or current.granted:
            candidate = repository.set_consent(candidate.id, topic, False, source=source, actor="candidate")
    if link["topic"] == "all":
        SuppressionRepository().suppress(candidate.email, "unsubscribed", source=source)
    return link
