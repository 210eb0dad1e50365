"""The browser's one websocket: authenticated, group-scoped, permission-checked per event."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cxm import presence, realtime

# Application close codes (4000-4999 are free for applications per RFC 6455).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class AppConsumer(AsyncJsonWebsocketConsumer):
    groups: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept-then-close lets the browser see the reason code instead of a bare handshake failure.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.groups_joined = await self._groups_for(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def disconnect(self, code: int) -> None:
        await presence.on_disconnect(self)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not await self._still_allowed():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "error": "expected a JSON object"})
            return
        if content.get("type") == "ping":
            await self.send_json({"type": realtime.PONG, "ts": content.get("ts")})
            return
        if await presence.handle(self, content):
            return
        await self.send_json({"type": "error", "error": "unknown message type"})

    async def presence_update(self, message: dict[str, Any]) -> None:
        await presence.on_update(self, message)

    async def app_event(self, message: dict[str, Any]) -> None:
        if not await self._still_allowed():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.send_json({"type": message["event"], "payload": message["payload"]})

    async def app_batch(self, message: dict[str, Any]) -> None:
        """Several events for this socket's group, sent together by a batched publisher."""
        if not await self._still_allowed():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        for event in message["events"]:
            await self.send_json({"type": event["event"], "payload": event["payload"]})

    async def _groups_for(self, user: Any) -> list[str]:
        from asgiref.sync import sync_to_async

        from accounts.selectors import realtime_groups_for

        return await sync_to_async(realtime_groups_for)(user)

    async def _still_allowed(self) -> bool:
        """A deactivated user loses the socket on the next event, not at the next reconnect."""
        from asgiref.sync import sync_to_async

        from accounts.selectors import is_active_user

        return await sync_to_async(is_active_user)(self.user.pk)
