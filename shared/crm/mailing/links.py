"""The links an email carries to the public pages: a person's unsubscribe link per topic (signed,
long-lived: it must keep working in old emails), the portal's front door, and the one-hour signed
portal link that only the address on file receives.

The pages that follow them verify the signatures (``crm.portal``); the links name only the
candidate id (and topic), never the address.
"""

from __future__ import annotations

from urllib.parse import urlencode

from crm.platform.config import get_settings
from crm.platform.signing import sign


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def unsubscribe_url(candidate_id: str, topic: str) -> str:
    """``/public/unsubscribe?token=...``: following it withdraws ``topic`` (``all``: every topic)."""
    base = _base()
    if not base:
        raise RuntimeError(
            "PUBLIC_BASE_URL is not set: links in emails would not work (template parameter PublicBaseUrl)"
        )
    token = sign("unsubscribe", {"c": candidate_id, "t": topic})
    return f"{base}/public/unsubscribe?{urlencode({'token': token})}"


def portal_url() -> str:
    """The portal's front door. Marketing mail lives long and gets forwarded, so it carries no
    credential: the portal emails a one-hour link to the address on file."""
    return _base() + "/portal"


def signed_portal_url(candidate_id: str) -> str:
    """The one-hour link to one's own data, sent only to the address on file (the portal-link email)."""
    return f"{_base()}/portal?{urlencode({'token': sign('portal', {'c': candidate_id})})}"
