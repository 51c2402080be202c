"""Where a webhook may be sent (SSRF protection), checked when an endpoint is registered and again
at every delivery.

Only ``https`` URLs; ``http`` only to a loopback address and only where the local stack allows it
(``WEBHOOK_ALLOW_LOOPBACK_HTTP``). The host is resolved and *every* address it resolves to must be
public: private, loopback (unless allowed), link-local, multicast, reserved, unspecified, shared
(100.64/10) and the cloud metadata addresses (169.254.169.254, fd00:ec2::254) are refused. A
delivery connects to the address that was checked, never resolves the name again (no DNS
rebinding between the check and the connection).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from crm.platform.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Kind = Literal[
    "public", "loopback", "private", "link-local", "multicast", "reserved", "unspecified", "metadata"
]

METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
SHARED = ipaddress.ip_network("100.64.0.0/10")
#: Resolves a host name (``socket.getaddrinfo`` by default; a test passes its own).
Resolver = Callable[[str, int], list[str]]


class UnsafeUrl(DomainError):
    """A webhook URL that may not be called (the message says why)."""


def classify(address: str) -> Kind:
    """What kind of address this is (``public`` is the only kind a webhook may reach, with
    ``loopback`` in the local stack)."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED:
        return "private"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return "public"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``, resolved and checked) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str, *, allow_loopback_http: bool, resolve: Resolver = system_resolver) -> Target:
    """The URL's checked target, or ``UnsafeUrl`` saying why it may not be called."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("The URL cannot be read.") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("https", "http"):
        raise UnsafeUrl("The URL must start with https://.")
    if not host:
        raise UnsafeUrl("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL may not carry a user name or password.")
    port = port or (443 if scheme == "https" else 80)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"The host {host} does not resolve.") from exc
    if not addresses:
        raise UnsafeUrl(f"The host {host} does not resolve.")
    kinds = {a: classify(a) for a in addresses}
    allowed = {"public", "loopback"} if allow_loopback_http else {"public"}
    refused = [a for a, k in kinds.items() if k not in allowed]
    if refused:
        raise UnsafeUrl(
            f"The host {host} resolves to a {kinds[refused[0]]} address ({refused[0]}), "
            "which webhooks may not reach."
        )
    if scheme == "http" and not (allow_loopback_http and all(k == "loopback" for k in kinds.values())):
        raise UnsafeUrl("The URL must start with https:// (http only to loopback in the local stack).")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
