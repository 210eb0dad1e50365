"""Text from providers may hold characters PostgreSQL refuses (NUL); clean them before storing."""

from __future__ import annotations

from typing import Any


def clean_text(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def clean_json(value: Any) -> Any:
    """Recursively drop NULs from strings and keys (jsonb rejects \\u0000 anywhere)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value
