"""Outbound HTTP to providers, with their answers sorted into temporary and permanent failures."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from channels_app.adapters.base import AdapterError


def base_url(provider: str) -> str:
    return settings.PROVIDER_BASE_URLS[provider].rstrip("/")


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", settings.PROVIDER_HTTP_TIMEOUT)
    try:
        response = httpx.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise AdapterError(f"provider timed out: {exc}", permanent=False) from exc
    except httpx.TransportError as exc:
        raise AdapterError(f"provider unreachable: {exc}", permanent=False) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise AdapterError(
            f"provider answered {response.status_code}: {response.text[:300]}", permanent=False
        )
    if response.status_code >= 400:
        raise AdapterError(
            f"provider refused ({response.status_code}): {response.text[:300]}", permanent=True
        )
    return response
