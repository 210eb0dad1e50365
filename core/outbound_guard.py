"""The one guard for connections the server opens to addresses it was given (server-side request forgery).

Media URLs, API channel callbacks, IMAP and SMTP servers and provider calls are typed in by an admin or
arrive inside a webhook, so none of them may reach the install's own network: loopback, private,
link-local, unique-local, multicast, reserved and unspecified addresses are refused, and so are the IPv6
forms that smuggle an IPv4 address through a translator (NAT64, 6to4, Teredo, IPv4-mapped and
-compatible). Host names are checked after resolution, and the connection is then made to the address
that was checked, never to a second DNS answer (rebinding); an HTTP redirect opens a new connection and
goes through the same check. OUTBOUND_ALLOWED_HOSTS lets an admin name hosts or networks that may be
private on purpose, such as an internal SMTP relay.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpcore
import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Translators that put an IPv4 host behind an IPv6 address. NAT64 and Teredo are refused outright: a
# public IPv4 host is reachable directly, and Teredo obfuscates the address it carries.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_TEREDO = ipaddress.IPv6Network("2001::/32")
_SIXTOFOUR = ipaddress.IPv6Network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class OutboundRefused(Exception):
    """The destination is not one this server may connect to; retrying will not help."""


def address_refusal(address: str | IPAddress) -> str | None:
    """Why this address may not be reached (a short phrase), or None when it is a public unicast one."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NAT64):
            return "NAT64"
        if ip in _TEREDO:
            return "Teredo"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_refusal(embedded)
        if ip.is_site_local:
            return "private"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "private"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _SIXTOFOUR:
        return ip.sixtofour
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # not :: or ::1, which are themselves refused
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowed() -> tuple[list[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, networks = [], []
    for entry in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", ()) or ():
        entry = str(entry).strip().lower()
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.append(entry.rstrip("."))
    return names, networks


def _name_listed(host: str, names: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == name or (name.startswith(".") and host.endswith(name)) for name in names)


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` this server may connect to, in the resolver's order.

    Raises OutboundRefused when any answer is refused (one bad answer is enough: the next resolution
    might pick it) and socket.gaierror when the name does not resolve.
    """
    host = (host or "").strip().strip("[]")
    if not host:
        raise OutboundRefused("no host given")
    names, networks = _allowed()
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if _name_listed(host, names):
        return addresses
    refused: dict[str, str] = {}
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if any(ip.version == network.version and ip in network for network in networks):
            continue
        reason = address_refusal(ip)
        if reason is not None:
            refused[address] = reason
    if refused:
        raise OutboundRefused(
            f"{host!r} resolves to a private address ({', '.join(refused)}): "
            f"{', '.join(sorted(set(refused.values())))}"
        )
    return addresses


def connect(
    host: str, port: int, *, timeout: float | None, source_address: tuple[str, int] | None = None
) -> socket.socket:
    """A TCP connection to `host`, made to an address that passed the check (for SMTP, IMAP, …)."""
    error: OSError | None = None
    for address in resolve(host, port):
        try:
            return socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError(f"no address to connect to for {host!r}")


class _GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        error: Exception | None = None
        for address in addresses:
            try:
                # TLS still verifies and sends the name: httpcore passes the URL's host to start_tls.
                return super().connect_tcp(address, port, *args, **kwargs)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address to connect to for {host!r}")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with every new connection opened through the guard."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx offers no public hook for opening connections; httpcore's network backend is that hook.
        self._pool = httpcore.ConnectionPool(
            ssl_context=self._pool._ssl_context, network_backend=_GuardedBackend()
        )


def http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client that refuses (OutboundRefused) to connect anywhere the guard refuses.

    No proxy from the environment: a proxy would make the connection on our behalf, unchecked.
    """
    return httpx.Client(transport=GuardedTransport(), trust_env=False, **kwargs)
