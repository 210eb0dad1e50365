"""Who is really at the other end: the client address and scheme, believed from forwarded headers only
when they come from a proxy listed in TRUSTED_PROXIES.

Anyone can send X-Forwarded-For and X-Forwarded-Proto. Believed from every peer, they let a client pick
its own rate-limit bucket and pretend a plain-http request was https; ignored behind a proxy, every
client shares the proxy's address and one bucket. So the headers count only when the direct peer is a
trusted proxy, and X-Forwarded-For is read from the right (the entries our own proxies appended) to the
first address that is not one of them: everything to the left of it was written by the client.

Every rate-limit key and throttle takes its address from :func:`client_address` (Django requests) or
:func:`scope_client_address` (ASGI fast paths and websockets), so the answer is the same everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.deprecation import MiddlewareMixin

# META keys no HTTP header can produce (headers all become HTTP_*), so a client cannot forge them.
PEER_KEY = "CXM_PEER_ADDR"
PROTO_KEY = "CXM_FORWARDED_PROTO"
UNKNOWN = "unknown"
_MAX_HOPS = 20

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header entry; tolerates the ports and brackets some proxies write."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket: compare and count it as the IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_trusted(address: str, networks: Iterable[Network] | None = None) -> bool:
    parsed = _parse(address)
    if parsed is None:
        return False
    networks = settings.TRUSTED_PROXIES if networks is None else networks
    return any(parsed.version == net.version and parsed in net for net in networks)


def forwarded_client(peer: str, forwarded_for: str | None, networks: Iterable[Network] | None = None) -> str:
    """The client behind `peer`: `peer` itself unless it is a trusted proxy that forwarded for someone."""
    networks = tuple(settings.TRUSTED_PROXIES if networks is None else networks)
    peer = peer or UNKNOWN
    if not forwarded_for or not is_trusted(peer, networks):
        return peer
    client = peer
    for entry in reversed(forwarded_for.split(",")[-_MAX_HOPS:]):
        address = _parse(entry)
        if address is None:
            # A trusted proxy writes addresses; anything else came from the client. Stop at the last
            # hop we can vouch for rather than key a limit on text the client chose.
            return client
        client = str(address)
        if not is_trusted(client, networks):
            return client
    return client


def forwarded_proto(peer: str, value: str | None) -> str | None:
    """The scheme ("https" or "http") a trusted proxy saw, or None when absent or not believed."""
    if not value or not is_trusted(peer):
        return None
    first = value.split(",", 1)[0].strip().lower()
    return first if first in ("http", "https") else None


def client_address(request: HttpRequest) -> str:
    """The client address of a Django request, with TRUSTED_PROXIES applied (at most 64 characters)."""
    if PEER_KEY in request.META:  # already resolved by TrustedProxyMiddleware
        return str(request.META.get("REMOTE_ADDR") or UNKNOWN)[:64]
    peer = str(request.META.get("REMOTE_ADDR") or UNKNOWN)
    return forwarded_client(peer, request.META.get("HTTP_X_FORWARDED_FOR"))[:64]


def _scope_header(scope: dict[str, Any], name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name]
    return ", ".join(values) if values else None


def scope_client_address(scope: dict[str, Any]) -> str:
    """The same answer as :func:`client_address`, for an ASGI scope (HTTP or websocket)."""
    client = scope.get("client")
    peer = str(client[0]) if client else UNKNOWN
    return forwarded_client(peer, _scope_header(scope, b"x-forwarded-for"))[:64]


class TrustedProxyMiddleware(MiddlewareMixin):
    """First in the chain: REMOTE_ADDR becomes the real client and the forwarded scheme is believed (via
    SECURE_PROXY_SSL_HEADER on PROTO_KEY) only when the direct peer is a trusted proxy."""

    def process_request(self, request: HttpRequest) -> None:
        meta = request.META
        if PEER_KEY in meta:
            return
        peer = str(meta.get("REMOTE_ADDR") or UNKNOWN)
        meta[PEER_KEY] = peer
        meta["REMOTE_ADDR"] = forwarded_client(peer, meta.get("HTTP_X_FORWARDED_FOR"))
        meta.pop(PROTO_KEY, None)
        proto = forwarded_proto(peer, meta.get("HTTP_X_FORWARDED_PROTO"))
        if proto is not None:
            meta[PROTO_KEY] = proto


def client_ip(request: HttpRequest) -> str | None:
    """:func:`client_address` as an IP address, or None when there is none (a request built in code);
    for libraries that store it in an address column (login throttling)."""
    parsed = _parse(client_address(request))
    return str(parsed) if parsed is not None else None
