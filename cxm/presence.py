"""Who has a conversation open, and who is typing in it: short-lived entries, relayed over the app socket.

The browser sends {"type": "presence.join" | "presence.heartbeat" | "presence.leave" | "typing",
"conversation": id}. Every such message is authorized like a REST call (visible_conversations), and every
relayed update is authorized again for each receiving socket before it is sent. Entries live in Redis
(one hash per conversation, a field per socket) and expire unless the page refreshes them.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async

from core.rate_window import SlidingWindow

# A viewer disappears this long after their last join/heartbeat (the page beats every 15 s).
PRESENCE_TTL = 30.0
# "… is typing" fades this long after the last keystroke report (the page reports every 3 s at most).
TYPING_TTL = 6.0

JOIN = "presence.join"
HEARTBEAT = "presence.heartbeat"
LEAVE = "presence.leave"
TYPING = "typing"
MESSAGE_TYPES = frozenset({JOIN, HEARTBEAT, LEAVE, TYPING})
# The browser event name (app.js dispatches it as `cxm:presence`).
PRESENCE_EVENT = "presence"
# The channel-layer message type; AppConsumer.presence_update hands it to on_update.
LAYER_TYPE = "presence.update"

ERROR_FORBIDDEN = "forbidden"
ERROR_INVALID = "invalid conversation"
ERROR_RATE = "rate_limited"
# Each presence message costs Redis writes and a broadcast to every viewer. An honest page sends a
# heartbeat every 15 s, a typing report every 3 s at most and a join/leave per visit: 20 per 10 s
# leaves room for several tabs on one socket and stops a script from flooding the others.
RATE_MESSAGES = 20
RATE_WINDOW_S = 10.0


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def _viewers_key(conversation_id: int) -> str:
    return f"cxm:presence:viewers:{conversation_id}"


def _typing_key(conversation_id: int) -> str:
    return f"cxm:presence:typing:{conversation_id}"


# --- Storage: Redis, or a dict in embedded mode (one process) --------------------------------------

_local: dict[str, dict[str, str]] = {}


def _redis() -> Any:
    from core.redis import get_redis

    return get_redis()


def _put(key: str, field: str, value: str, ttl: float) -> None:
    client = _redis()
    if client is None:
        _local.setdefault(key, {})[field] = value
        return
    pipe = client.pipeline()
    pipe.hset(key, field, value)
    pipe.expire(key, max(1, int(ttl) + 1))
    pipe.execute()


def _remove(key: str, field: str) -> None:
    client = _redis()
    if client is None:
        _local.get(key, {}).pop(field, None)
        return
    client.hdel(key, field)


def _read(key: str) -> dict[str, str]:
    client = _redis()
    if client is None:
        return dict(_local.get(key, {}))
    raw = client.hgetall(key)
    return {k.decode(): v.decode() for k, v in raw.items()}


def _live(key: str, now: float) -> dict[str, str]:
    """Fields still alive (value "<expires>" or "<expires>:<user id>"); expired ones are dropped."""
    alive: dict[str, str] = {}
    for field, value in _read(key).items():
        expires, _, rest = value.partition(":")
        try:
            alive_until = float(expires)
        except ValueError:
            alive_until = 0.0
        if alive_until > now:
            alive[field] = rest
        else:
            _remove(key, field)
    return alive


# --- Sync work (DB and Redis), run in a thread -----------------------------------------------------


def can_see(user: Any, conversation_id: int) -> bool:
    from accounts.selectors import is_active_user
    from tickets.selectors import visible_conversations

    if not is_active_user(user.pk):
        return False
    return visible_conversations(user).filter(pk=conversation_id).exists()


def snapshot(conversation_id: int) -> dict[str, Any]:
    """The live viewers and typers of a conversation, with the names the page shows."""
    from accounts.models import User

    now = time.time()
    viewer_ids = {int(user_id) for user_id in _live(_viewers_key(conversation_id), now).values() if user_id}
    typing_ids = {int(field) for field in _live(_typing_key(conversation_id), now)} & viewer_ids
    users = {u.pk: u for u in User.objects.filter(pk__in=viewer_ids).order_by("pk")}

    def card(user_id: int) -> dict[str, Any]:
        user = users[user_id]
        return {"id": user.pk, "name": user.display_name, "initials": user.initials}

    return {
        "conversation": conversation_id,
        "viewers": [card(pk) for pk in sorted(viewer_ids) if pk in users],
        "typing": [card(pk) for pk in sorted(typing_ids) if pk in users],
    }


def _apply(user: Any, channel_name: str, kind: str, conversation_id: int) -> dict[str, Any] | None:
    """Authorize, record the change and return the new snapshot; None when the user may not see it."""
    if not can_see(user, conversation_id):
        _forget(user.pk, channel_name, conversation_id)
        return None
    now = time.time()
    if kind in (JOIN, HEARTBEAT, TYPING):
        _put(_viewers_key(conversation_id), channel_name, f"{now + PRESENCE_TTL}:{user.pk}", PRESENCE_TTL)
    if kind == TYPING:
        _put(_typing_key(conversation_id), str(user.pk), f"{now + TYPING_TTL}:", TYPING_TTL)
    if kind == LEAVE:
        _forget(user.pk, channel_name, conversation_id)
    return snapshot(conversation_id)


def _forget(user_id: int, channel_name: str, conversation_id: int) -> None:
    _remove(_viewers_key(conversation_id), channel_name)
    _remove(_typing_key(conversation_id), str(user_id))


def _leave_all(user_id: int, channel_name: str, conversation_ids: list[int]) -> list[dict[str, Any]]:
    snapshots = []
    for conversation_id in conversation_ids:
        _forget(user_id, channel_name, conversation_id)
        snapshots.append(snapshot(conversation_id))
    return snapshots


# --- Consumer side ---------------------------------------------------------------------------------


def _joined(consumer: Any) -> set[int]:
    joined: set[int] | None = getattr(consumer, "presence_conversations", None)
    if joined is None:
        joined = consumer.presence_conversations = set()
    return joined


async def _broadcast(consumer: Any, state: dict[str, Any]) -> None:
    await consumer.channel_layer.group_send(
        conversation_group(state["conversation"]), {"type": LAYER_TYPE, "state": state}
    )


async def _drop(consumer: Any, conversation_id: int) -> None:
    _joined(consumer).discard(conversation_id)
    await consumer.channel_layer.group_discard(conversation_group(conversation_id), consumer.channel_name)


async def handle(consumer: Any, content: dict[str, Any]) -> bool:
    """Handle a presence message from the browser; False when it is not one."""
    kind = content.get("type")
    if kind not in MESSAGE_TYPES:
        return False
    limiter = getattr(consumer, "presence_rate", None)
    if limiter is None:
        limiter = consumer.presence_rate = SlidingWindow(RATE_MESSAGES, RATE_WINDOW_S)
    if not limiter.allow():
        await consumer.send_json({"type": "error", "error": ERROR_RATE})
        return True
    raw = content.get("conversation")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        await consumer.send_json({"type": "error", "error": ERROR_INVALID})
        return True
    try:
        conversation_id = int(raw)
    except ValueError:
        await consumer.send_json({"type": "error", "error": ERROR_INVALID})
        return True
    user = consumer.user
    state = await sync_to_async(_apply)(user, consumer.channel_name, kind, conversation_id)
    if state is None:
        # Same answer for "does not exist" and "not yours": the socket must not reveal which ids exist.
        await _drop(consumer, conversation_id)
        await consumer.send_json({"type": "error", "error": ERROR_FORBIDDEN, "conversation": conversation_id})
        return True
    if kind == LEAVE:
        await _drop(consumer, conversation_id)
    elif conversation_id not in _joined(consumer):
        _joined(consumer).add(conversation_id)
        await consumer.channel_layer.group_add(conversation_group(conversation_id), consumer.channel_name)
    await _broadcast(consumer, state)
    return True


async def on_update(consumer: Any, message: dict[str, Any]) -> None:
    """A presence update for this socket's conversation group: re-authorized before it is sent."""
    state = message["state"]
    conversation_id = state["conversation"]
    if conversation_id not in _joined(consumer):
        return
    if not await sync_to_async(can_see)(consumer.user, conversation_id):
        await _drop(consumer, conversation_id)
        return
    me = consumer.user.pk
    await consumer.send_json(
        {
            "type": PRESENCE_EVENT,
            "conversation": conversation_id,
            # The page lists the others: "Also here", "… is typing".
            "viewers": [v for v in state["viewers"] if v["id"] != me],
            "typing": [v for v in state["typing"] if v["id"] != me],
        }
    )


async def on_disconnect(consumer: Any) -> None:
    """A closed socket leaves every conversation it had open, and the others hear about it."""
    joined = sorted(_joined(consumer))
    user = getattr(consumer, "user", None)
    if not joined or user is None:
        return
    for conversation_id in joined:
        await consumer.channel_layer.group_discard(conversation_group(conversation_id), consumer.channel_name)
    _joined(consumer).clear()
    states = await sync_to_async(_leave_all)(user.pk, consumer.channel_name, joined)
    for state in states:
        await _broadcast(consumer, state)
