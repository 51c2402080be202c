"""boto3 clients, created lazily once per process.

Nothing above the data-access layer calls these directly. The region and endpoint
come from the environment, so ``AWS_ENDPOINT_URL`` points everything at the local
stack.
"""

from __future__ import annotations

import threading
from typing import Any

from crm.platform.config import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(service)
        if found is None:
            import boto3  # imported here: handlers that never call AWS do not pay for it

            settings = get_settings()
            kwargs: dict[str, Any] = {"region_name": settings.aws_region}
            if settings.aws_endpoint_url:
                kwargs["endpoint_url"] = settings.aws_endpoint_url
            if service == "s3":
                from botocore.config import Config

                # Presigned links use Signature Version 4, as every region accepts.
                kwargs["config"] = Config(signature_version="s3v4")
            found = boto3.session.Session().client(service, **kwargs)  # type: ignore[call-overload]
            _clients[service] = found
    return found


def reset_clients() -> None:
    """Drop cached clients (tests switch between moto back ends)."""
    with _lock:
        _clients.clear()
