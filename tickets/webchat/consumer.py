"""The visitor websocket behind the embeddable widget: the visitor's side of their conversation.

Protocol (JSON frames, channels_app.webchat.protocol):
    client → {"type": "auth", "token"?, "userId"?, "userHash"?, "name"?, "email"?, "page"?}  (first frame)
    server → {"type": "ready", "labels", "history", "verified", "visitor_token"?}
    client → {"type": "message", "id": "<client-generated id>", "text": "..."}
    server → {"type": "ack", "id", "duplicate"} or {"type": "error", "code", "message", "id"?}
    server → {"type": "message", "message": {...}}  (agent replies, and the visitor's own from other tabs)
    client → {"type": "ping"}  server → {"type": "pong"}
The connection URL carries ?lang=<navigator.language> so even a refusal is explained in the visitor's
language. Close codes: 4403 origin not allowed, 4404 no such active web chat channel, 4410 the
visitor was erased (reconnecting starts a new visitor).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import DatabaseError
from django.utils import translation

from channels_app.models import Channel
from channels_app.webchat import limits, throttle
from channels_app.webchat.identity import (
    Visitor,
    check_user_hash,
    issue_token,
    new_anonymous_id,
    read_token,
    signed_visitor_id,
    visitor_group,
)
from channels_app.webchat.labels import visitor_language, widget_labels
from channels_app.webchat.origins import origin_allowed
from channels_app.webchat.protocol import (
    CLOSE_ORIGIN_REFUSED,
    CLOSE_REVOKED,
    CLOSE_UNAVAILABLE,
    MESSAGE_EVENT,
    decode_frame,
    error_frame,
    header,
    text_field,
    visitor_echo,
)
from channels_app.webchat.selectors import active_webchat_channel, identity_secret
from channels_app.webchat.services import VisitorProfile
from core.proxies import scope_client_address
from core.rate_window import SlidingWindow
from profiles.revocation import WEBCHAT_VISITOR, is_revoked
from tickets.webchat.history import visitor_history
from tickets.webchat.visitors import do_accept_visitor_message

logger = logging.getLogger(__name__)


def visitor_revoked(visitor_id: str) -> bool:
    """True for the visitor id of an erased person (their browser may still hold its token)."""
    return is_revoked(kind=WEBCHAT_VISITOR, value=visitor_id)


class VisitorConsumer(AsyncJsonWebsocketConsumer):
    chat_channel: Channel
    visitor: Visitor | None = None
    group: str = ""

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.language = visitor_language((query.get("lang") or [""])[0])
        self.rate = SlidingWindow(limits.RATE_LIMIT_MESSAGES, limits.RATE_LIMIT_WINDOW_S)
        self.origin = header(self.scope, b"origin")
        channel = await database_sync_to_async(active_webchat_channel)(
            int(self.scope["url_route"]["kwargs"]["channel_id"])
        )
        if channel is None:
            await self._refuse("unavailable", CLOSE_UNAVAILABLE)
            return
        self.chat_channel = channel
        if not origin_allowed(self.origin, channel.config.get("allowed_origins")):
            logger.info("web chat %s refused origin %r", channel.pk, self.origin)
            await self._refuse("origin_refused", CLOSE_ORIGIN_REFUSED)
            return
        await self.accept()

    async def _refuse(self, code: str, close_code: int) -> None:
        # Accept-then-close: the widget sees why (and stops reconnecting) instead of a bare failure.
        await self.accept()
        await self._error(code)
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        content = decode_frame(text_data)
        if isinstance(content, str):
            await self._error(content)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "auth" and self.visitor is None:
            await self._authenticate(content)
        elif kind == "message":
            await self._message(content)
        else:
            await self._error("invalid")

    async def _authenticate(self, content: dict[str, Any]) -> None:
        user_id = text_field(content, "userId", 255)
        given_hash = text_field(content, "userHash", 128)
        identity_refused = False
        visitor: Visitor | None = None
        if user_id or given_hash:
            secret = await database_sync_to_async(identity_secret)(self.chat_channel)
            if check_user_hash(secret, user_id, given_hash):
                visitor = Visitor(
                    visitor_id=signed_visitor_id(self.chat_channel.pk, user_id), user_id=user_id
                )
            else:
                # Never "that user": a wrong hash is a guest, and is told so.
                logger.info("web chat %s: user hash check failed", self.chat_channel.pk)
                identity_refused = True
        if visitor is None:
            known = read_token(content.get("token"), self.chat_channel.pk)
            if known and await database_sync_to_async(visitor_revoked)(known):
                known = None  # an erased visitor's browser continues as somebody new
            visitor = Visitor(visitor_id=known or new_anonymous_id())
        self.visitor = visitor
        self.profile = VisitorProfile(
            name=text_field(content, "name"),
            email=text_field(content, "email"),
            locale=self.language,
            page_url=text_field(content, "page", 2000),
        )
        self.group = visitor_group(self.chat_channel.pk, visitor.visitor_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        history = await database_sync_to_async(visitor_history)(
            channel=self.chat_channel, visitor_id=visitor.visitor_id
        )
        with translation.override(self.language):
            ready: dict[str, Any] = {
                "type": "ready",
                "language": self.language,
                "labels": widget_labels(),
                "history": history,
                "verified": visitor.verified,
            }
        if not visitor.verified:
            # Reissued on every visit, so a regular visitor's token never reaches its maximum age.
            ready["visitor_token"] = issue_token(self.chat_channel.pk, visitor.visitor_id)
        await self.send_json(ready)
        if identity_refused:
            await self._error("identity_refused")

    async def _message(self, content: dict[str, Any]) -> None:
        client_id = content.get("id")
        if not isinstance(client_id, str) or not client_id or len(client_id) > limits.MAX_CLIENT_ID_LENGTH:
            await self._error("invalid")
            return
        if self.visitor is None:
            await self._error("not_ready", client_id)
            return
        text = content.get("text")
        if not isinstance(text, str):
            await self._error("invalid", client_id)
            return
        text = text.strip()
        if not text:
            await self._error("empty", client_id)
            return
        if len(text) > limits.MAX_MESSAGE_CHARS:
            await self._error("too_long", client_id)
            return
        if not self.rate.allow():
            await self._error("rate_limited", client_id)
            return
        refused = await sync_to_async(throttle.check_message, thread_sensitive=False)(
            channel_id=self.chat_channel.pk,
            visitor_id=self.visitor.visitor_id,
            address=scope_client_address(self.scope),
        )
        if refused:
            await self._error(refused, client_id)
            return
        try:
            event = await database_sync_to_async(do_accept_visitor_message)(
                channel=self.chat_channel,
                visitor=self.visitor,
                client_id=client_id,
                text=text,
                profile=self.profile,
                origin=self.origin,
                user_agent=header(self.scope, b"user-agent"),
            )
        except DatabaseError:
            logger.exception("could not store a web chat message on channel %s", self.chat_channel.pk)
            await self._error("store_failed", client_id)
            return
        await self.send_json({"type": "ack", "id": client_id, "duplicate": event is None})
        if event is not None:
            # The visitor's other tabs show it too; the sending tab already does and skips the echo.
            echo = visitor_echo(client_id=client_id, text=text, at=event.received_at.isoformat())
            await self.channel_layer.group_send(self.group, {"type": MESSAGE_EVENT, "message": echo})

    async def webchat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def webchat_revoked(self, event: dict[str, Any]) -> None:
        # The visitor was erased: nothing more may be stored or shown under their id.
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        self.visitor, self.group = None, ""
        await self.close(code=CLOSE_REVOKED)

    async def _error(self, code: str, message_id: str | None = None) -> None:
        await self.send_json(error_frame(code, self.language, message_id))
