"""Calls to Meta's Graph API, with its error JSON sorted into temporary and permanent failures."""

from __future__ import annotations

from typing import Any

from channels_app.adapters.base import AdapterError
from channels_app.adapters.http import base_url, exchange
from channels_app.adapters.meta.common import describe_error, is_temporary


def graph_url(path: str) -> str:
    return f"{base_url('meta')}/{path.lstrip('/')}"


def graph_call(method: str, path: str, *, token: str, json: Any = None) -> dict[str, Any]:
    """The answer's JSON object, or AdapterError.

    Unlike the shared `http.request`, this reads the error body before deciding: Graph reports throttling
    as HTTP 400/403 with codes 4/17/32/613, which must be retried, while a closed 24-hour window (131047)
    must not be.
    """
    response = exchange(
        method,
        graph_url(path),
        provider="Meta",
        json=json,
        # A header, not ?access_token=: query strings end up in proxy and server logs.
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    error = data.get("error")
    if response.status_code >= 400 or isinstance(error, dict):
        error = error if isinstance(error, dict) else {"message": response.text[:300]}
        raise AdapterError(
            f"Meta refused ({response.status_code}): {describe_error(error)}",
            permanent=not is_temporary(error, response.status_code),
        )
    return data
