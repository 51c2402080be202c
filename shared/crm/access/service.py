"""Who is calling, and what they may do.

Recruiters and admins sign in through the Cognito user pool; their tokens are verified here
against the pool's JWKS (signature, issuer, audience or client, expiry, token use) and their
roles come from ``cognito:groups``. Integrations present scoped API keys.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from crm.access.models import LoginRequest, NewPassword, Tokens
from crm.api_keys.service import ApiKeyService
from crm.platform import identity
from crm.platform.config import get_settings
from crm.platform.errors import Forbidden, RateLimited, Unauthenticated, ValidationFailed

#: ``read``/``write``/``admin``: what recruiters, admins and API keys of each scope may do.
#: ``team``/``team_write``: the same as ``read``/``write``, and also open to a hiring manager, whom
#: the view then holds to the jobs that name them (``crm.hiring.team.TeamScope``).
#: ``refer``: referring someone and following one's own referrals: every person who signs in (any
#: group, employees included), never an API key (a referral is a person's word).
Permission = Literal["read", "write", "admin", "team", "team_write", "refer"]

#: The groups that see everything a recruiter sees.
STAFF_ROLES = frozenset({"admin", "recruiter"})
HIRING_MANAGER = "hiring_manager"
#: Employees may refer people and follow their referrals, nothing else.
EMPLOYEE = "employee"
#: The groups whose members may refer someone.
REFERRER_ROLES = STAFF_ROLES | {HIRING_MANAGER, EMPLOYEE}


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key"]
    subject: str  # Cognito sub, or the API key id
    roles: frozenset[str] = field(default_factory=frozenset)
    scope: str | None = None  # API keys: read | read-write
    email: str | None = None  # users: the sign-in address (where reminders are sent)

    @property
    def actor(self) -> str:
        """How the timeline names this principal (no PII: ids only)."""
        return f"user:{self.subject}" if self.kind == "user" else f"api-key:{self.subject}"

    @property
    def team_only(self) -> bool:
        """A hiring manager (and nothing more): sees only the jobs where they are named a hiring
        manager or interviewer, and those jobs' applicants."""
        return self.kind == "user" and HIRING_MANAGER in self.roles and not self.roles & STAFF_ROLES

    @property
    def referrer_only(self) -> bool:
        """An employee (and nothing more): may refer people and follow their referrals, nothing else."""
        return (
            self.kind == "user"
            and EMPLOYEE in self.roles
            and not self.roles & (STAFF_ROLES | {HIRING_MANAGER})
        )

    def allows(self, permission: Permission) -> bool:
        if self.kind == "user":
            if permission == "refer":
                return bool(self.roles & REFERRER_ROLES)
            if permission == "admin":
                return "admin" in self.roles
            if permission in ("team", "team_write") and HIRING_MANAGER in self.roles:
                return True
            return bool(self.roles & STAFF_ROLES)
        if permission in ("read", "team"):
            return self.scope in {"read", "read-write"}
        if permission in ("write", "team_write"):
            return self.scope == "read-write"
        return False  # admin, refer


def require(principal: Principal | None, permission: Permission) -> Principal:
    if principal is None:
        raise Unauthenticated("Sign in, or send an API key.")
    if not principal.allows(permission):
        raise Forbidden("Your role does not allow this.")
    return principal


# ---------------------------------------------------------------------------------- sign-in


class NewPasswordRequired(Unauthenticated):
    """A first sign-in with a temporary password: the user must choose their own password
    (``complete_new_password`` with this ``session``) before the pool gives tokens."""

    def __init__(self, username: str, session: str) -> None:
        super().__init__("Sign-in needs a further step: NEW_PASSWORD_REQUIRED.")
        self.username = username
        self.session = session


def login(request: LoginRequest) -> Tokens:
    try:
        response = identity.sign_in(request.username, request.password)
    except identity.SignInRefused as exc:
        raise Unauthenticated("The username or password is wrong.") from exc
    except identity.SignInThrottled as exc:
        raise RateLimited("Too many sign-in attempts; wait a moment.") from exc
    return _tokens(request.username, response)


def complete_new_password(request: NewPassword) -> Tokens:
    """Answer the new-password challenge of ``login``; the tokens of the now confirmed user."""
    try:
        response = identity.answer_new_password(request.username, request.session, request.new_password)
    except identity.PasswordRefused as exc:
        message = f"The user pool refused this password: {exc}"
        raise ValidationFailed(message, errors=[{"field": "new_password", "message": message}]) from exc
    except identity.SignInRefused as exc:
        raise Unauthenticated("This sign-in has expired; sign in again with the temporary password.") from exc
    except identity.SignInThrottled as exc:
        raise RateLimited("Too many sign-in attempts; wait a moment.") from exc
    return _tokens(request.username, response)


def _tokens(username: str, response: dict[str, Any]) -> Tokens:
    result = response.get("AuthenticationResult")
    if not result:
        challenge = str(response.get("ChallengeName", "unknown"))
        if challenge == "NEW_PASSWORD_REQUIRED" and response.get("Session"):
            raise NewPasswordRequired(username, str(response["Session"]))
        # Any other challenge (MFA) is not something this API can answer.
        raise Unauthenticated(f"Sign-in needs a further step: {challenge}.")
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken"),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


# ---------------------------------------------------------------------------------- tokens


class JwksCache:
    """The user pool's public keys, fetched once and again only for an unknown key id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0

    def key_for(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            # Another request may have fetched the keys while this one waited: look again before
            # deciding the key is unknown (else a burst of first requests gets spurious 401s).
            key = self._keys.get(kid)
            if key is None and time.monotonic() - self._fetched_at > 30:
                self._refresh()
                key = self._keys.get(kid)
        return key

    def _refresh(self) -> None:
        import jwt
        import requests

        response = requests.get(get_settings().jwks_url, timeout=5)
        response.raise_for_status()
        jwks = jwt.PyJWKSet.from_dict(response.json())
        self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
        self._fetched_at = time.monotonic()

    def clear(self) -> None:
        self._keys = {}
        self._fetched_at = 0.0


jwks_cache = JwksCache()


def verify_token(token: str) -> Principal:
    """A Cognito ID or access token to a principal, or ``Unauthenticated``."""
    import jwt

    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The token is not a JWT.") from exc
    if header.get("alg") != "RS256":
        raise Unauthenticated("The token is not signed with the expected algorithm.")
    try:
        key = jwks_cache.key_for(str(header.get("kid", "")))
    except Exception as exc:  # the key endpoint is down: not the client's fault, but no access either
        raise Unauthenticated("The token's signing key could not be fetched; try again.") from exc
    if key is None:
        raise Unauthenticated("The token was not signed by this user pool.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired; sign in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The token is not valid.") from exc
    # An ID token names the app client in "aud", an access token in "client_id".
    audience_claim = {"id": "aud", "access": "client_id"}.get(str(claims.get("token_use")))
    audience_ok = audience_claim is not None and claims.get(audience_claim) == settings.user_pool_client_id
    if not audience_ok:
        raise Unauthenticated("The token was not issued to this application.")
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        groups = []
    email = claims.get("email")
    return Principal(
        kind="user",
        subject=str(claims["sub"]),
        roles=frozenset(str(g) for g in groups),
        email=str(email) if isinstance(email, str) and email else None,
    )


def authenticate(headers: Any) -> Principal | None:
    """The caller from the request headers: a bearer token, an API key, or nobody."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        return verify_token(token.strip())
    api_key = headers.get("x-api-key")
    if api_key:
        record = ApiKeyService().authenticate(api_key.strip())
        if record is None:
            raise Unauthenticated("The API key is not valid.")
        return Principal(kind="api_key", subject=record.id, scope=record.scope)
    return None
