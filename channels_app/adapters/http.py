"""Outbound HTTP to providers, with their answers sorted into temporary and permanent failures.

Every call goes through the outbound guard, so neither a provider base URL nor an address an admin typed
(an API channel's callback) can reach the install's own network unless OUTBOUND_ALLOWED_HOSTS says so.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from channels_app.adapters.base import AdapterError
from core import outbound_guard


def base_url(provider: str) -> str:
    return settings.PROVIDER_BASE_URLS[provider].rstrip("/")


def exchange(method: str, url: str, *, provider: str = "provider", **kwargs: Any) -> httpx.Response:
    """One request through the outbound address guard whose answer the caller reads itself (providers
    whose error bodies carry the reason the admin must see). Only failures to get an answer raise."""
    timeout = kwargs.pop("timeout", settings.PROVIDER_HTTP_TIMEOUT)
    try:
        with outbound_guard.http_client(timeout=timeout) as client:
            return client.request(method, url, **kwargs)
    except outbound_guard.OutboundRefused as exc:
        raise AdapterError(f"refused to connect: {exc}", permanent=True) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise AdapterError(f"invalid address: {exc}", permanent=True) from exc
    except httpx.TimeoutException as exc:
        raise AdapterError(f"{provider} timed out: {exc}", permanent=False) from exc
    except httpx.TransportError as exc:
        raise AdapterError(f"{provider} unreachable: {exc}", permanent=False) from exc


def request(method: str, url: str, *, quote_answer: bool = True, **kwargs: Any) -> httpx.Response:
    """Send one request. `quote_answer=False` keeps the answer's body out of the error (which agents
    read) for addresses that are not a provider's API: whatever such a host says is not ours to show."""
    response = exchange(method, url, **kwargs)
    detail = f": {response.text[:300]}" if quote_answer else ""
    if response.status_code == 429 or response.status_code >= 500:
        raise AdapterError(f"provider answered {response.status_code}{detail}", permanent=False)
    if response.status_code >= 400:
        raise AdapterError(f"provider refused ({response.status_code}){detail}", permanent=True)
    return response
