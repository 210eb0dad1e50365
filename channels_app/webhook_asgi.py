"""Provider webhooks served straight from the ASGI process, ahead of Django's request cycle.

The same checks as the Django view (`webhook_checks.check_delivery`, on a real Django request
object), but the delivery is stored by `inbound_writer`, which commits the deliveries of concurrent
requests together. Django's full request cycle (middleware, a thread per sync view, a database
connection per request) costs more than everything else a webhook does; here nothing runs in a thread
unless a channel has to be read from the database. Used with PostgreSQL and Redis only; otherwise
every request goes to Django as before.
"""

from __future__ import annotations

import io
import logging
import re

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import Error as DatabaseFailure
from django.db import connections
from django.http import HttpResponse

from channels_app.adapters.base import get_adapter
from channels_app.channel_cache import active_channel, cached_channel
from channels_app.inbound_writer import StoreFailed, writer
from channels_app.webhook_checks import Delivery, check_delivery, error, too_large
from core.asgi_body import read_body
from core.asgi_types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)
WEBHOOK_PATH = re.compile(r"^/webhooks/(?P<provider>[a-z0-9_-]+)/(?P<channel_id>[0-9]{1,18})/$")


def with_fast_webhooks(app: ASGIApp) -> ASGIApp:
    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = WEBHOOK_PATH.match(scope["path"])
            if match is not None:
                await _handle(scope, receive, send, match["provider"], int(match["channel_id"]))
                return
        await app(scope, receive, send)

    return router


async def _handle(scope: Scope, receive: Receive, send: Send, provider: str, channel_id: int) -> None:
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    if too_large(headers.get("content-length")):
        await _respond(send, error(413, "body too large"))
        return
    body = await read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if body is None:
        await _respond(send, error(413, "body too large"))
        return
    request = ASGIRequest(scope, io.BytesIO(body))
    try:
        request.get_host()
    except DisallowedHost:
        await _respond(send, error(400, "host not allowed"))
        return
    adapter = get_adapter(provider)
    channel = None
    if adapter is not None:
        # Not thread-sensitive: the lookup opens and closes its own connection, so it need not queue
        # behind every other ORM call of the process on asgiref's one shared thread.
        try:
            channel = cached_channel(channel_id) or await sync_to_async(
                _load_channel, thread_sensitive=False
            )(channel_id)
        except DatabaseFailure:
            # A 500 is final for some providers (Twilio); a 503 makes them all deliver it again later.
            logger.exception("could not read channel %s for a %s webhook", channel_id, provider)
            await _respond(send, error(503, "temporarily unavailable"))
            return
    outcome = check_delivery(request, adapter=adapter, channel=channel)
    if not isinstance(outcome, Delivery):
        await _respond(send, outcome)
        return
    try:
        await writer().store(outcome)
    except StoreFailed:
        # Not stored means not acknowledged: a 5xx makes the provider deliver it again later.
        await _respond(send, error(503, "temporarily unavailable"))
        return
    assert adapter is not None  # a Delivery implies both
    await _respond(send, adapter.acknowledge(request))


def _load_channel(channel_id: int):
    # No Django request cycle here to recycle the connection, and a miss is rare (once per channel
    # every few seconds): a connection just for this query, closed whatever CONN_MAX_AGE says.
    try:
        return active_channel(channel_id)
    finally:
        connections.close_all()


async def _respond(send: Send, response: HttpResponse) -> None:
    content = response.content
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower() != "content-length"
    ]
    headers.append((b"content-length", str(len(content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content})
