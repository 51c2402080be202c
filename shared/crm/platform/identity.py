"""The Cognito user pool: signing in with a username and a password (USER_PASSWORD_AUTH), and
its refusals as typed errors."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws
from crm.platform.config import get_settings

#: Cognito's answers to a wrong username or password (and states a user cannot sign in from).
WRONG_CREDENTIALS = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
        "InvalidParameterException",
    }
)
THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException"})


class SignInRefused(Exception):
    """The user pool refused the username and password."""


class SignInThrottled(Exception):
    """The user pool is throttling sign-ins."""


def sign_in(username: str, password: str) -> dict[str, Any]:
    """The user pool's answer to a sign-in: ``AuthenticationResult`` (the tokens) or a challenge."""
    try:
        response = aws.client("cognito-idp").initiate_auth(
            ClientId=get_settings().user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in WRONG_CREDENTIALS:
            raise SignInRefused(code) from exc
        if code in THROTTLED:
            raise SignInThrottled(code) from exc
        raise
    return dict(response)
