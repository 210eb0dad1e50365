"""Downloading provider media for stored attachments, safely.

A media URL arrives inside a webhook body, so it is attacker-influenced even after the signature check
(an API channel's client chooses it freely). Downloads therefore go only to the provider's own hosts,
and only to addresses the outbound guard (`core.outbound_guard`) allows, which checks every redirect hop
and connects to the address it checked (a DNS answer may change between the check and the connect).
"""

from __future__ import annotations

import logging
import socket
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from channels_app.adapters.base import Adapter, AdapterError, MediaSource
from core import outbound_guard

logger = logging.getLogger(__name__)
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class MediaRefused(AdapterError):
    """The URL points somewhere we will not fetch from; never retried."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def allowed_hosts(adapter: Adapter, channel_config: dict) -> tuple[str, ...]:
    hosts = list(adapter.media_hosts) + list(channel_config.get("media_hosts") or [])
    base = settings.PROVIDER_BASE_URLS.get(adapter.provider)
    if base:
        hosts.append(urlsplit(base).hostname or "")
    return tuple(h for h in hosts if h)


def check_url(url: str, allowed: tuple[str, ...]) -> None:
    """Raise MediaRefused unless the URL is http(s) to an allowed host that the outbound guard lets us
    reach (checked here for a clear reason, and again by the connection itself)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise MediaRefused(f"media URL scheme {parts.scheme!r} is not allowed")
    if parts.username or parts.password:
        raise MediaRefused("media URL must not carry credentials")
    host = parts.hostname or ""
    if not host_allowed(host, allowed):
        raise MediaRefused(f"media host {host!r} is not one of the provider's hosts")
    try:
        outbound_guard.resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except outbound_guard.OutboundRefused as exc:
        raise MediaRefused(f"media host {exc}") from exc
    except socket.gaierror as exc:
        raise AdapterError(f"cannot resolve media host {host!r}: {exc}", permanent=False) from exc


def download(source: MediaSource, allowed: tuple[str, ...], *, limit: int) -> tuple[bytes, str]:
    """The body and content type, or an AdapterError. Bodies over `limit` raise a permanent error."""
    url = source.url
    with outbound_guard.http_client(timeout=settings.PROVIDER_HTTP_TIMEOUT, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url, allowed)
            # Credentials go only to the host they were issued for; redirects to CDNs travel bare.
            same_host = urlsplit(url).hostname == urlsplit(source.url).hostname
            try:
                with client.stream(
                    "GET",
                    url,
                    headers=source.headers if same_host else {},
                    auth=source.auth if same_host else None,
                ) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status_code == 429 or response.status_code >= 500:
                        raise AdapterError(f"media host answered {response.status_code}", permanent=False)
                    if response.status_code >= 400:
                        raise AdapterError(f"media host refused ({response.status_code})", permanent=True)
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > limit:
                        raise AdapterError(f"media is {declared} bytes, over the limit", permanent=True)
                    body = bytearray()
                    for chunk in response.iter_bytes(CHUNK):
                        body += chunk
                        if len(body) > limit:
                            raise AdapterError("media is over the size limit", permanent=True)
                    return bytes(body), response.headers.get("Content-Type", "")
            except outbound_guard.OutboundRefused as exc:
                # The name resolved differently at connect time than when checked above.
                raise MediaRefused(f"media host {exc}") from exc
            except httpx.TimeoutException as exc:
                raise AdapterError(f"media download timed out: {exc}", permanent=False) from exc
            except httpx.TransportError as exc:
                raise AdapterError(f"media host unreachable: {exc}", permanent=False) from exc
    raise MediaRefused(f"more than {MAX_REDIRECTS} redirects")
