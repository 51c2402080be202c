"""Signed, expiring, single-purpose links (unsubscribe, portal, alert confirmation), and short
message authentication codes for what has no room for a link's token (a reply address).

The key comes from Secrets Manager (``SIGNING_SECRET_ARN``), fetched once per process; it is
never in code or in the environment. Each purpose signs with its own salt, so a token made
for one purpose is refused by every other.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any, Literal

from crm.platform import aws
from crm.platform.config import get_settings
from crm.platform.errors import DomainError

Purpose = Literal[
    "unsubscribe",
    "portal",
    "alert-confirm",
    "csrf",
    "reply",
    "referral-confirm",
    "referral-code",
    "interview",
    "event-checkin",
    "event-registration",
    "webhook-secret",  # webhooks: the key that encrypts endpoints' signing secrets at rest
]


class InvalidLink(DomainError):
    """A link's token is missing, tampered with, expired, or made for another purpose."""


@lru_cache(maxsize=1)
def _signing_key() -> str:
    """The key, fetched once per process (a concurrent first use may fetch it twice: harmless)."""
    arn = get_settings().signing_secret_arn
    return str(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def forget_signing_key() -> None:
    """Drop the cached key (tests, key rotation)."""
    _signing_key.cache_clear()


def _serializer(purpose: Purpose) -> Any:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(_signing_key(), salt=f"crm:{purpose}")


def sign(purpose: Purpose, payload: dict[str, Any]) -> str:
    return str(_serializer(purpose).dumps(payload))


def verify(purpose: Purpose, token: str | None, *, max_age_seconds: int) -> dict[str, Any]:
    """The payload of a token made for ``purpose``; an ``InvalidLink`` for anything else."""
    from itsdangerous import BadData, SignatureExpired

    if not token or len(token) > 2048:
        raise InvalidLink("This link is incomplete. Ask for a new one.")
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise InvalidLink("This link has expired. Ask for a new one.") from exc
    except BadData as exc:
        raise InvalidLink("This link is not valid. It may have been changed or cut short.") from exc
    if not isinstance(payload, dict):
        raise InvalidLink("This link is not valid.")
    return payload


def mac(purpose: Purpose, text: str) -> bytes:
    """An HMAC-SHA256 of ``text`` under the signing key and ``purpose``'s salt, for a caller that
    must keep its token short (it truncates and encodes the digest itself; compare with
    :func:`hmac.compare_digest`)."""
    key = f"crm:{purpose}:{_signing_key()}".encode()
    return hmac.new(key, text.encode(), hashlib.sha256).digest()
