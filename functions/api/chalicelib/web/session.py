"""Sessions and CSRF tokens for the recruiter web UI (no domain logic here).

The session cookie holds the Cognito ID token itself: it is already signed by the user pool,
so each request verifies it as the API verifies a bearer token (signature, issuer, client,
expiry). A CSRF token is an itsdangerous token (purpose ``csrf``, the app's signing key) naming a
digest of that session, so it is worthless for any other session and for anyone who cannot read
the page. Sign-in itself is protected by a double-submit cookie (``LOGIN_COOKIE``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from crm.platform import signing
from crm.platform.signing import InvalidLink

SESSION_COOKIE = "crm_session"
LOGIN_COOKIE = "crm_login"
COOKIE_PATH = "/ui"
#: A CSRF token outlives no session: ID tokens last an hour; a day is a generous ceiling.
CSRF_MAX_AGE_SECONDS = 24 * 3600


def session_id(session: str) -> str:
    """A stable, non-secret name for one session (a digest of the cookie's value)."""
    return hashlib.sha256(session.encode()).hexdigest()[:32]


def csrf_token(session: str) -> str:
    return signing.sign("csrf", {"s": session_id(session)})


def csrf_ok(session: str, token: str | None) -> bool:
    try:
        payload = signing.verify("csrf", token, max_age_seconds=CSRF_MAX_AGE_SECONDS)
    except InvalidLink:
        return False
    return hmac.compare_digest(str(payload.get("s", "")), session_id(session))


def login_nonce() -> str:
    return secrets.token_urlsafe(24)


def same_value(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def cookies(header: str | None) -> dict[str, str]:
    """The request's cookies (the first of a repeated name wins; malformed pairs are skipped)."""
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in out:
            out[name] = value.strip().strip('"')
    return out


def set_cookie(name: str, value: str, *, max_age: int) -> str:
    return f"{name}={value}; Max-Age={max_age}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax"


def clear_cookie(name: str) -> str:
    expired = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    return f"{name}=; {expired}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax"


def safe_next(target: str | None, default: str = "/ui/") -> str:
    """Only a same-site path under ``/ui`` is a place to go back to after sign-in."""
    if not target or len(target) > 1000 or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if not (parts.path == "/ui" or parts.path.startswith("/ui/")):
        return default
    return target


def http_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) URL safe to link to; otherwise None (shown as text)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return value.strip()
    return None
