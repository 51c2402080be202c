"""Meters every botocore client in the process: HTTP requests sent, API calls made, the time spent
inside them, and the ``ScannedCount`` of each DynamoDB read.

``install()`` wraps ``botocore.session.Session.create_client``, so it sees every client whoever
creates it (``crm.platform.aws``, Powertools, anything else). On each new client it registers

- ``before-send``: one HTTP request about to leave (retries count again), the figure reported;
- ``after-call``: the parsed response of an API call, for ``ScannedCount`` and the items a
  ``GetItem`` or ``BatchGetItem`` returned (together: the items read, :attr:`Meter.items_read`);

and wraps the client's ``_make_api_call`` to time the whole call: parameter validation,
serialisation, signing, the round trip and parsing. Handler time minus that time is the handler's
own work. Install it before any client exists (``crm.platform.aws`` caches its clients).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCANNING_OPERATIONS = frozenset({"Query", "Scan"})


@dataclass
class Call:
    service: str
    operation: str
    params: dict[str, Any] | None
    seconds: float = 0.0
    scanned: int | None = None
    #: items a GetItem or BatchGetItem returned
    got: int | None = None


@dataclass
class Meter:
    """What happened since the last ``reset()``."""

    sends: int = 0
    aws_seconds: float = 0.0
    calls: list[Call] = field(default_factory=list)
    keep_params: bool = False

    def reset(self) -> None:
        self.sends = 0
        self.aws_seconds = 0.0
        self.calls = []

    @property
    def scanned(self) -> int:
        return sum(c.scanned or 0 for c in self.calls)

    @property
    def items_read(self) -> int:
        """Items DynamoDB read: ``ScannedCount`` of each Query and Scan plus the items each
        GetItem and BatchGetItem returned (a key with no item reads none here)."""
        return sum((c.scanned or 0) + (c.got or 0) for c in self.calls)

    def operations(self) -> list[str]:
        return [f"{c.service}.{c.operation}" for c in self.calls]


meter = Meter()
_installed = False


def install(*, keep_params: bool = False) -> Meter:
    """Meter every client created from now on (idempotent)."""
    global _installed
    meter.keep_params = keep_params
    if _installed:
        return meter
    from botocore.session import Session

    original: Callable[..., Any] = Session.create_client

    def create_client(self: Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        _instrument(client)
        return client

    Session.create_client = create_client  # type: ignore[method-assign]
    _installed = True
    return meter


def _instrument(client: Any) -> None:
    service = client.meta.service_model.service_name
    events = client.meta.events
    events.register("before-send", _count_send)
    events.register("after-call", _capture_scanned)
    make_api_call = client._make_api_call

    def timed(operation_name: str, api_params: dict[str, Any]) -> Any:
        params = json.loads(json.dumps(api_params, default=str)) if meter.keep_params else None
        call = Call(service=service, operation=operation_name, params=params)
        meter.calls.append(call)
        start = time.perf_counter()
        try:
            return make_api_call(operation_name, api_params)
        finally:
            elapsed = time.perf_counter() - start
            call.seconds = elapsed
            meter.aws_seconds += elapsed

    client._make_api_call = timed


def _count_send(**_: Any) -> None:
    meter.sends += 1


def _capture_scanned(*, model: Any, parsed: Any, **_: Any) -> None:
    if not isinstance(parsed, dict) or not meter.calls:
        return
    last = meter.calls[-1]
    if model.name in SCANNING_OPERATIONS:
        scanned = parsed.get("ScannedCount")
        if scanned is not None:
            last.scanned = (last.scanned or 0) + int(scanned)
    elif model.name == "GetItem":
        last.got = (last.got or 0) + (1 if parsed.get("Item") else 0)
    elif model.name == "BatchGetItem":
        last.got = (last.got or 0) + sum(len(v) for v in (parsed.get("Responses") or {}).values())
