"""Defensive reading of untrusted provider payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from channels_app.adapters.base import AdapterError


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a permanent AdapterError saying why not."""
    if b"\x00" in body:
        raise AdapterError("body contains NUL bytes", permanent=True)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AdapterError(f"body is not UTF-8: {exc}", permanent=True) from exc
    except (ValueError, RecursionError) as exc:
        raise AdapterError(f"body is not valid JSON: {exc}", permanent=True) from exc
    if not isinstance(data, dict):
        raise AdapterError(f"expected a JSON object, got {type(data).__name__}", permanent=True)
    return data


def get_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def get_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def get_str(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, (str, int, float)):
        return str(value)
    return default


def require_str(data: dict[str, Any], key: str, where: str) -> str:
    value = get_str(data, key)
    if not value:
        raise AdapterError(f"{where}: missing {key!r}", permanent=True)
    return value


def from_unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
