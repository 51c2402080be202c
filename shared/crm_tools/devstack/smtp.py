"""The local stack's inbound mail: a real SMTP server on loopback (``aiosmtpd``) plays SES
receiving. It accepts mail for the inbound domain only (anything else is refused at RCPT, as a
receipt rule that does not match would not take it), and writes each raw message under
``inbound/`` in the inbound bucket, as SES's S3 action does; the bucket's notification then puts
it on the inbound queue and the local runtime delivers it to InboundMailFunction, as in AWS."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("devstack.smtp")

#: Larger than the product's limit (10 MB), so an oversized message reaches it and is quarantined.
DATA_SIZE_LIMIT = 40 * 1024 * 1024


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class InboundHandler:
    """aiosmtpd's handler: RCPT for the domain only; DATA written to the bucket."""

    def __init__(self, domain: str, store: Callable[[str, bytes], None]) -> None:
        self.domain = domain.lower()
        self.store = store
        self.received = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.1.1 not a recipient of this stack's inbound mail"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        recipients = ", ".join(envelope.rcpt_tos)
        # SES adds the envelope's recipient; the parser looks there too (Delivered-To).
        raw = f"Delivered-To: {recipients}\r\n".encode() + content
        key = f"inbound/{uuid.uuid4().hex}"
        try:
            self.store(key, raw)
        except Exception as exc:
            log.error("could not store an inbound message: %s", type(exc).__name__)
            return "451 4.3.0 try again later"
        self.received += 1
        return "250 Message accepted"


class InboundSmtpServer:
    def __init__(
        self, *, domain: str, bucket: str, s3_client: Any, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.bucket = bucket
        self.s3 = s3_client
        self.handler = InboundHandler(domain, self._store)
        self.controller = Controller(
            self.handler, hostname=host, port=self.port, data_size_limit=DATA_SIZE_LIMIT
        )

    def _store(self, key: str, raw: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=raw)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
