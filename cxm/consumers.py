"""The browser's one websocket: authenticated, group-scoped, permission-checked per event.

The socket follows the user's current rights, not those it was opened with. Before anything is sent,
the user's auth epoch (core.realtime) is compared with the one this socket last checked; when it moved,
or REVALIDATE_SECONDS have passed, the session and the user are read again (accounts.selectors
.socket_rights). A session that no longer counts (logged out, expired, signed with an old password, a
deactivated or deleted user) closes the socket with CLOSE_UNAUTHENTICATED; a changed role or team set
moves the socket between groups, and an event that arrives through a group it has left is dropped.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import realtime
from cxm import presence

logger = logging.getLogger(__name__)

# Application close codes (4000-4999 are free for applications per RFC 6455). The browser answers
# 4401 by going to the login page (static/js/app.js) instead of reconnecting.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# A burst of events costs one epoch read, not one per event; a revocation's push resets this at once.
EPOCH_CACHE_SECONDS = 1.0
# What no hook announces (a session that simply expired, rows changed by hand) is noticed this late.
REVALIDATE_SECONDS = 30.0
UNKNOWN_EPOCH = -1


async def _read_epoch(user_id: int) -> int:
    try:
        return await sync_to_async(realtime.read_auth_epoch, thread_sensitive=False)(user_id)
    except Exception:
        # Redis away: every event asks the database until it answers again.
        logger.warning("could not read the auth epoch of user %s", user_id, exc_info=True)
        return UNKNOWN_EPOCH


class AppConsumer(AsyncJsonWebsocketConsumer):
    groups: list[str]

    async def connect(self) -> None:
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.groups_joined: set[str] = set()
        self.revoked = False
        self.accepted = False
        self.epoch = UNKNOWN_EPOCH
        self.checked_at = self.epoch_read_at = 0.0
        if not await self._recheck():
            return  # accepted and closed with the reason code
        await self.accept()
        self.accepted = True
        await self.send_json({"type": "hello", "user": self.user.get_username()})

    async def disconnect(self, code: int) -> None:
        await presence.on_disconnect(self)
        await self._leave(set(getattr(self, "groups_joined", ())))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not await self._authorized():
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
        if await self._authorized():
            await presence.on_update(self, message)

    async def app_event(self, message: dict[str, Any]) -> None:
        if not await self._authorized(message.get("group")):
            return
        await self.send_json({"type": message["event"], "payload": message["payload"]})

    async def app_batch(self, message: dict[str, Any]) -> None:
        """Several events for this socket's group, sent together by a batched publisher."""
        if not await self._authorized(message.get("group")):
            return
        for event in message["events"]:
            await self.send_json({"type": event["event"], "payload": event["payload"]})

    async def auth_revoke(self, message: dict[str, Any]) -> None:
        """Rights of this user changed (core.realtime.revoke): re-check now, not at the next event."""
        if self.revoked:
            return
        if self.session_key and message.get("session") == self.session_key:
            await self._close_revoked()  # this very session logged out
            return
        await self._recheck()

    # --- checks -----------------------------------------------------------------------------------

    async def _authorized(self, group: str | None = None) -> bool:
        """May this socket send something (addressed to `group`) now? Closes it when not at all."""
        if self.revoked:
            return False
        if await self._rights_may_have_changed() and not await self._recheck():
            return False
        return group is None or group in self.groups_joined

    async def _rights_may_have_changed(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at >= REVALIDATE_SECONDS:
            return True
        if now - self.epoch_read_at < EPOCH_CACHE_SECONDS:
            return False
        epoch = await _read_epoch(self.user.pk)
        self.epoch_read_at = now
        return epoch != self.epoch or epoch == UNKNOWN_EPOCH

    async def _recheck(self) -> bool:
        """Read the session and the user again; close the socket or move it between groups."""
        from accounts.selectors import socket_rights

        started = time.monotonic()
        user_id = self._user_id()
        if user_id is None:
            await self._close_revoked()
            return False
        # Read before the rights: a change made meanwhile moves the epoch again, so it is not missed.
        epoch = await _read_epoch(user_id)
        rights = await database_sync_to_async(socket_rights)(self.session_key)
        if rights is None or rights.user.pk != user_id:
            await self._close_revoked()
            return False
        self.user = rights.user  # later checks (presence) see the current role and teams
        self.epoch, self.checked_at, self.epoch_read_at = epoch, started, started
        if rights.groups == self.groups_joined:
            return True
        await self._leave(self.groups_joined - rights.groups)
        for group in sorted(rights.groups - self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)
        if self.accepted:
            await self.send_json({"type": realtime.RIGHTS_CHANGED, "payload": {}})
        return True

    def _user_id(self) -> int | None:
        user = getattr(self, "user", None)
        if user is not None:
            return user.pk
        scope_user = self.scope.get("user")
        return scope_user.pk if scope_user is not None and scope_user.is_authenticated else None

    async def _leave(self, groups: set[str]) -> None:
        for group in sorted(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)

    async def _close_revoked(self) -> None:
        if self.revoked:
            return
        self.revoked = True
        # Out of every group first: nothing queued after this point is even delivered to the socket.
        await self._leave(set(self.groups_joined))
        if not self.accepted:
            # Accept-then-close lets the browser see the reason code instead of a bare handshake failure.
            await self.accept()
            self.accepted = True
        await self.close(code=CLOSE_UNAUTHENTICATED)
