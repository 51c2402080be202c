"""Sending one webhook request: a POST to the address that was checked (``crm.webhooks.addresses``),
with the URL's host name for TLS (SNI and certificate) and the ``Host`` header, one 10-second
deadline for connecting, sending and reading the answer, and no redirect followed (``http.client``
never follows one: a 3xx is an answer, and a failure). At most a few KB of the answer are read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Protocol

from crm.webhooks.addresses import Target

TIMEOUT_SECONDS = 10.0
READ_BYTES = 4096


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (the error says why)
    latency_ms: int
    body: str = ""
    retry_after: str | None = None
    error: str | None = None


class Transport(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Answer: ...


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to ``address`` that verifies the certificate for the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class HttpTransport:
    def __init__(self, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.timeout = timeout

    def _within(self, connection: http.client.HTTPConnection, started: float) -> None:
        """What is left of the timeout is all the next step may take (one deadline in all)."""
        if connection.sock is not None:
            connection.sock.settimeout(_remaining(started, self.timeout))

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Answer:
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target.host, target.port, target.address, self.timeout)
        started = time.monotonic()
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        try:
            connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
            for name, value in {
                "Host": host_header,
                "Content-Type": "application/json",
                "Content-Length": str(len(body)),
                "User-Agent": "crm-webhooks/1",
                **headers,
            }.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            self._within(connection, started)
            response = connection.getresponse()
            self._within(connection, started)
            excerpt = response.read(READ_BYTES).decode("utf-8", "replace")
            return Answer(
                status=response.status,
                latency_ms=_since(started),
                body=excerpt,
                retry_after=response.getheader("Retry-After"),
            )
        except TimeoutError:
            return Answer(status=None, latency_ms=_since(started), error="timed out")
        except ssl.SSLError as exc:
            return Answer(
                status=None, latency_ms=_since(started), error=f"TLS error: {exc.reason or 'handshake'}"
            )
        except (OSError, http.client.HTTPException) as exc:
            return Answer(status=None, latency_ms=_since(started), error=f"{type(exc).__name__}: {exc}"[:300])
        finally:
            connection.close()


def _remaining(started: float, timeout: float) -> float:
    left = timeout - (time.monotonic() - started)
    if left <= 0:
        raise TimeoutError("the whole request took longer than the timeout")
    return left


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
