"""SES: one raw MIME message out through SESv2 ``SendEmail``, and its refusals as typed errors
(throttled: send again later; rejected: do not retry)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
REJECTED_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "AccountSuspendedException",
        "SendingPausedException",
        "ConfigurationSetDoesNotExist",
        "ConfigurationSetDoesNotExistException",
        "BadRequestException",
        "InvalidParameterValue",
        "NotFoundException",
    }
)


class MailError(Exception):
    """A message could not be sent."""


class SendThrottled(MailError):
    """SES is throttling this account: send again later."""


class SendRejected(MailError):
    """SES refused the message (unverified sender, bad address, paused account...)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def send_raw(data: bytes, *, configuration_set: str | None = None, client: Any = None) -> str:
    """Send ``data`` (a whole MIME message); returns SES's message id."""
    kwargs: dict[str, Any] = {"Content": {"Raw": {"Data": data}}}
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    try:
        response = (client or aws.client("sesv2")).send_email(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        reason = str(error.get("Message", "")) or code
        if code in THROTTLING_CODES:
            raise SendThrottled(reason) from exc
        if code in REJECTED_CODES:
            raise SendRejected(reason, code=code) from exc
        raise
    return str(response["MessageId"])
