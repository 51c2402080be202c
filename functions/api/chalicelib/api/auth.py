"""Sign-in against the Cognito user pool."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.web.endpoint import Call, endpoint
from crm.access.models import LoginRequest, Tokens
from crm.access.service import login

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/auth/login",
    "POST",
    summary="Sign in with username and password; returns the pool's tokens",
    tag="auth",
    permission=None,
    body=LoginRequest,
    response=Tokens,
    errors=(400, 401, 415, 422, 429),
)
def sign_in(call: Call) -> Tokens:
    return login(call.body)
