"""The ways to send a composed message (``crm.mailing.compose``): the ``Mailer`` port, SES behind it,
and an in-memory fake for tests.

``SesMailer`` sends the raw bytes with SESv2 ``SendEmail`` (``Content.Raw``, through
``crm.platform.ses``): raw, so both parts and our own headers reach the recipient exactly as built
(SES's simple content has no List-Unsubscribe headers, and SESv2 stored templates are not used:
templates are rendered here). Throttling becomes :class:`SendThrottled` (try again later), a
refused message :class:`SendRejected` (do not retry).
"""

from __future__ import annotations

import threading
import uuid
from email.message import Message
from typing import Any, Protocol

from crm.platform import ses
from crm.platform.config import get_settings
from crm.platform.ses import MailError as MailError
from crm.platform.ses import SendRejected as SendRejected
from crm.platform.ses import SendThrottled as SendThrottled


class Mailer(Protocol):
    def send(self, message: Message) -> str:
        """Send one message; returns the provider's message id."""
        ...


class SesMailer:
    """Sends raw MIME through SESv2 ``SendEmail`` (``crm.platform.ses``)."""

    def __init__(self, *, client: Any = None, configuration_set: str | None = None) -> None:
        self._client = client
        settings = get_settings()
        self.configuration_set = (
            configuration_set if configuration_set is not None else settings.ses_configuration_set
        )

    def send(self, message: Message) -> str:
        return ses.send_raw(message.as_bytes(), configuration_set=self.configuration_set, client=self._client)


class InMemoryMailer:
    """A fake for unit tests: keeps what was sent; ``fail_with`` makes the next sends fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.fail_with: MailError | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        message_id = f"inmemory-{uuid.uuid4()}"
        with self._lock:
            self.sent.append((message_id, message))
        return message_id

    @property
    def messages(self) -> list[Message]:
        return [message for _, message in self.sent]
