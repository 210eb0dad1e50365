"""Serves the widget script at /widget/chat.js, the address customers paste into their sites.

It sits in front of Django in the ASGI application: the script is one static file requested on every
page view of every customer site, and needs no session, database or middleware.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from core.asgi_types import Receive, Scope, Send

SCRIPT_PATH = "/widget/chat.js"
# Short: sites keep the same URL forever, so a fixed widget must reach their visitors within minutes.
MAX_AGE_S = 300

_cache: dict[str, tuple[float, bytes, str]] = {}


def script_file() -> Path:
    return Path(settings.BASE_DIR) / "static" / "widget" / "chat.js"


def script_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}{SCRIPT_PATH}"


def _load() -> tuple[bytes, str]:
    path = script_file()
    mtime = path.stat().st_mtime
    cached = _cache.get("script")
    if cached is None or cached[0] != mtime:
        body = path.read_bytes()
        cached = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        _cache["script"] = cached
    return cached[1], cached[2]


async def serve_script(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await _respond(send, 405, b"GET only", [(b"allow", b"GET, HEAD")], head=False)
        return
    body, etag = _load()
    headers = [
        (b"cache-control", f"public, max-age={MAX_AGE_S}".encode()),
        (b"etag", etag.encode()),
        (b"x-content-type-options", b"nosniff"),
        # Loaded by other sites' pages: allow it even where they isolate cross-origin resources.
        (b"cross-origin-resource-policy", b"cross-origin"),
        (b"access-control-allow-origin", b"*"),
    ]
    request_headers = dict(scope.get("headers", []))
    if request_headers.get(b"if-none-match", b"").decode("latin-1") == etag:
        await _respond(send, 304, b"", headers, head=True)
        return
    headers.append((b"content-type", b"text/javascript; charset=utf-8"))
    await _respond(send, 200, body, headers, head=scope["method"] == "HEAD")


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, head: bool
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def with_widget_script(app: Any) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Wrap the Django HTTP application so the widget script is answered before it."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == SCRIPT_PATH:
            await serve_script(scope, receive, send)
        else:
            await app(scope, receive, send)

    return application
