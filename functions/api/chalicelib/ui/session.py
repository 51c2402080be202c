"""Signing in and out of the recruiter UI: the sign-in form, the Cognito login behind it (the same
as ``POST /auth/login``), and the session cookie it sets (``chalicelib.web.session``). The sign-in
form is protected by a double-submit cookie; signing out needs the session's CSRF token."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web import session as web
from chalicelib.web import ui as web_ui
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import page, see_other, text, ui_route
from crm.access.models import LoginRequest, NewPassword
from crm.access.service import NewPasswordRequired, complete_new_password, login
from crm.platform.errors import RateLimited, Unauthenticated, ValidationFailed
from crm.users.models import PASSWORD_RULE

bp = Blueprint(__name__)


def _login_page(
    nonce: str, *, status: int = 200, next_url: str, username: str = "", error: str = ""
) -> Response:
    return page(
        "ui_login.html",
        status=status,
        headers={"Set-Cookie": web.set_cookie(web.LOGIN_COOKIE, nonce, max_age=3600)},
        nonce=nonce,
        next_url=next_url,
        username=username,
        error=error,
        session=None,
    )


@ui_route("/ui/login", "GET", "Recruiter UI: the sign-in form", signed_in=False, blueprint=bp)
def ui_login_form(call: Call, session: None, fields: dict[str, Any]) -> Response:
    nonce = web.cookies(call.request.headers.get("cookie")).get(web.LOGIN_COOKIE) or web.login_nonce()
    next_url = web.safe_next((call.request.query_params or {}).get("next"))
    return _login_page(nonce, next_url=next_url)


@ui_route(
    "/ui/login",
    "POST",
    "Recruiter UI: sign in (form: username, password, login_csrf, next); sets the session cookie",
    signed_in=False,
    errors=(401, 403, 429),
    blueprint=bp,
)
def ui_login(call: Call, session: None, fields: dict[str, Any]) -> Response:
    nonce = web.cookies(call.request.headers.get("cookie")).get(web.LOGIN_COOKIE)
    if not web.same_value(nonce, text(fields.get("login_csrf"))):
        return web_ui.forbidden()
    username, password = text(fields.get("username")), fields.get("password")
    next_url = web.safe_next(text(fields.get("next")))
    password_text = password[0] if isinstance(password, list) and password else password
    try:
        request = LoginRequest.model_validate({"username": username, "password": password_text})
        tokens = login(request)
    except NewPasswordRequired as challenge:
        return _new_password_page(nonce or web.login_nonce(), challenge, next_url=next_url)
    except ValidationError:
        error, status = "Enter your username (email) and password.", 401
    except Unauthenticated:
        error, status = "The username or password is wrong.", 401
    except RateLimited:
        error, status = "Too many sign-in attempts; wait a moment and try again.", 429
    else:
        cookie = web.set_cookie(web.SESSION_COOKIE, tokens.id_token, max_age=tokens.expires_in)
        return see_other(next_url, {"Set-Cookie": cookie})
    return _login_page(
        nonce or web.login_nonce(), status=status, next_url=next_url, username=username, error=error
    )


def _new_password_page(
    nonce: str, challenge: NewPasswordRequired, *, next_url: str, error: str = "", status: int = 200
) -> Response:
    return page(
        "ui_new_password.html",
        status=status,
        headers={"Set-Cookie": web.set_cookie(web.LOGIN_COOKIE, nonce, max_age=3600)},
        nonce=nonce,
        next_url=next_url,
        username=challenge.username,
        challenge=challenge.session,
        rule=PASSWORD_RULE,
        error=error,
        session=None,
    )


@ui_route(
    "/ui/login/new-password",
    "POST",
    "Recruiter UI: a first sign-in chooses its own password in place of the temporary one (form: "
    "login_csrf, username, challenge, new_password, confirm_password, next); sets the session cookie",
    signed_in=False,
    errors=(401, 403, 422, 429),
    blueprint=bp,
)
def ui_new_password(call: Call, session: None, fields: dict[str, Any]) -> Response:
    nonce = web.cookies(call.request.headers.get("cookie")).get(web.LOGIN_COOKIE)
    if not web.same_value(nonce, text(fields.get("login_csrf"))):
        return web_ui.forbidden()
    next_url = web.safe_next(text(fields.get("next")))
    username, challenge = text(fields.get("username")), text(fields.get("challenge"))
    chosen, confirmed = _raw(fields.get("new_password")), _raw(fields.get("confirm_password"))
    again = NewPasswordRequired(username, challenge)
    if chosen != confirmed:
        error = "The two passwords differ; type the same new password twice."
        return _new_password_page(nonce or "", again, next_url=next_url, error=error, status=422)
    try:
        request = NewPassword.model_validate(
            {"username": username, "session": challenge, "new_password": chosen}
        )
        tokens = complete_new_password(request)
    except ValidationError as exc:
        problems = web_ui.field_errors(exc)
        if "new_password" not in problems:  # the hidden fields were tampered with: start again
            error = "This sign-in has expired; sign in again with the temporary password."
            return _login_page(nonce or "", status=401, next_url=next_url, username=username, error=error)
        error = f"Choose another password: {problems['new_password']}."
        return _new_password_page(nonce or "", again, next_url=next_url, error=error, status=422)
    except ValidationFailed as exc:
        return _new_password_page(nonce or "", again, next_url=next_url, error=exc.detail, status=422)
    except Unauthenticated as exc:
        return _login_page(nonce or "", status=401, next_url=next_url, username=username, error=exc.detail)
    except RateLimited:
        error = "Too many sign-in attempts; wait a moment and try again."
        return _new_password_page(nonce or "", again, next_url=next_url, error=error, status=429)
    cookie = web.set_cookie(web.SESSION_COOKIE, tokens.id_token, max_age=tokens.expires_in)
    return see_other(next_url, {"Set-Cookie": cookie})


def _raw(value: Any) -> str:
    """A password field as sent (never trimmed)."""
    value = value[0] if isinstance(value, list) and value else value
    return value if isinstance(value, str) else ""


@ui_route(
    "/ui/logout",
    "POST",
    "Recruiter UI: sign out (form: csrf); clears the session cookie",
    signed_in=False,
    blueprint=bp,
)
def ui_logout(call: Call, session: None, fields: dict[str, Any]) -> Response:
    token = web.cookies(call.request.headers.get("cookie")).get(web.SESSION_COOKIE)
    if token and not web.csrf_ok(token, text(fields.get("csrf")) or None):
        return web_ui.forbidden()
    return see_other("/ui/login", {"Set-Cookie": web.clear_cookie(web.SESSION_COOKIE)})
