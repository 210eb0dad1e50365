"""The public answer endpoint served straight from the ASGI process, ahead of Django's request cycle.

A survey blast makes thousands of people answer within minutes. Through Django each answer would
cost a thread hop, middleware and five queries on its own connection; here answers are parsed in the
event loop and written by surveys.answer_writer in one statement per batch. Used with PostgreSQL only;
otherwise the Django view in surveys.views_answer_api serves the same contract.
"""

from __future__ import annotations

from collections import OrderedDict

from core.asgi_body import read_body
from core.asgi_types import ASGIApp, Receive, Scope, Send
from core.proxies import scope_client_address
from core.rate_window import SlidingWindow
from surveys import answer_http as contract
from surveys.answer_writer import Stored, WriteFailed, writer

_failures: OrderedDict[str, SlidingWindow] = OrderedDict()
_MAX_TRACKED = 10_000


def with_fast_answers(app: ASGIApp) -> ASGIApp:
    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == contract.PATH:
            await _handle(scope, receive, send)
            return
        await app(scope, receive, send)

    return router


def _client(scope: Scope) -> str:
    return scope_client_address(scope)


def _failed(address: str) -> bool:
    """Count a failure; True once this address has failed too often within the last minute."""
    window = _failures.get(address)
    if window is None:
        window = _failures[address] = SlidingWindow(contract.FAILURES_PER_MINUTE, 60.0)
        if len(_failures) > _MAX_TRACKED:
            _failures.popitem(last=False)
    return not window.allow()


def _blocked(address: str) -> bool:
    window = _failures.get(address)
    return window is not None and window.full()


async def _handle(scope: Scope, receive: Receive, send: Send) -> None:
    method = scope["method"]
    if method == "OPTIONS":
        await _respond(send, 204, b"")
        return
    if method != "POST":
        await _respond(send, 405, contract.body(False, error="method"))
        return
    address = _client(scope)
    if _blocked(address):
        await _respond(send, 429, contract.body(False, error="rate_limited"), retry_after=True)
        return
    raw = await read_body(receive, contract.MAX_BODY)
    if raw is None:
        await _respond(send, 413, contract.body(False, error="too_large"))
        return
    answer = contract.parse(raw)
    if isinstance(answer, str):
        _failed(address)
        await _respond(send, contract.STATUS[answer], contract.body(False, error=answer))
        return
    try:
        result = await writer().store(answer)
    except WriteFailed:
        await _respond(send, 503, contract.body(False, error="unavailable"), retry_after=True)
        return
    if isinstance(result, Stored):
        await _respond(send, 200, contract.body(True, id=result.response_id))
        return
    _failed(address)
    await _respond(send, contract.STATUS[result], contract.body(False, error=result))


async def _respond(send: Send, status: int, content: bytes, *, retry_after: bool = False) -> None:
    headers = [(name.lower().encode(), value.encode()) for name, value in contract.CORS.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    headers.append((b"cache-control", b"no-store"))
    if retry_after:
        headers.append((b"retry-after", b"60"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
