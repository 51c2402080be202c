"""Serialise moto's request handling.

moto's back ends are not thread-safe: a TransactWriteItems that fails its condition restores a
deep copy of every table taken before it ran, wiping out writes that other threads made in
between (and iteration over shared dicts can crash). DynamoDB itself applies each request
atomically, so handling one request at a time is the faithful model: the application's own
interleavings (read the email guard, then write) still race exactly as they would in AWS.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()
_installed = False


def serialise_moto_requests() -> None:
    global _installed
    if _installed:
        return
    from moto.core.responses import BaseResponse

    original = BaseResponse._dispatch

    def _dispatch(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    BaseResponse._dispatch = _dispatch  # type: ignore[method-assign]
    _installed = True
