"""Which websites may open a channel's visitor websocket."""

from __future__ import annotations

from urllib.parse import urlsplit


def normalize_origin(value: str) -> str:
    """scheme://host[:port] in lower case, default ports dropped; "" for anything that is not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_allowed(origin: str, allowed: object) -> bool:
    """An empty or missing list allows any site; otherwise the browser's Origin must be on it.

    The widget runs on customers' own sites, so Django's ALLOWED_HOSTS check cannot apply here.
    """
    if not isinstance(allowed, list) or not allowed:
        return True
    wanted = normalize_origin(origin)
    return bool(wanted) and wanted in {normalize_origin(str(item)) for item in allowed}
