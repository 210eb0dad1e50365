"""Realtime events: the one place event names and their payload shapes are defined.

Services publish after their transaction commits, to groups they choose explicitly; consumers
re-check permission for every event before it reaches a browser.

Revocation: every change that can take rights away (logout, new password, deactivation, role or team
change) calls `revoke`, which raises the user's auth epoch in Redis and pushes REVOKE to the user's
group. The push makes open sockets re-check at once; the epoch makes the next event re-check even if
the push was lost. Each layer message names the group it was sent to, so a socket can drop an event that
was already on its way through a group it has just left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Event names (the `type` the browser sees). Later features add theirs here.
SYSTEM_NOTICE = "system.notice"
PONG = "pong"
# Sent to a socket after it moved between groups (a role or team change): what the page lists may be
# stale, since events of the groups it left no longer come and those of the groups it joined start now.
RIGHTS_CHANGED = "rights.changed"
# Layer message (never sent to a browser): "re-check this user's rights now" (AppConsumer.auth_revoke).
REVOKE = "auth.revoke"
# Epochs outlive any socket: a day is longer than the longest gap between two full re-checks.
_EPOCH_TTL_SECONDS = 24 * 3600


class SystemNotice(TypedDict):
    level: str
    text: str
    # Where the notice leads (a conversation): the browser may show it as a desktop notification.
    url: NotRequired[str]


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def role_group(role: str) -> str:
    return f"role.{role}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


_batch = threading.local()


def publish_now(groups: Iterable[str], event_type: str, payload: dict[str, Any]) -> None:
    message = {"type": "app.event", "event": event_type, "payload": payload}
    sends = [(group, message) for group in groups]
    pending = getattr(_batch, "sends", None)
    if pending is not None:
        pending.extend(sends)
        return
    _send_all(sends)


def _send_all(sends: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, message in sends:
        by_group.setdefault(group, []).append(message)

    async def send() -> None:
        # One layer message per group: a drain announcing a hundred messages to the same three groups
        # makes three sends, not six hundred. Within a group the events keep their order, so a browser
        # sees message.created before that message's status changes.
        for group, messages in by_group.items():
            if len(messages) == 1:
                await layer.group_send(group, {**messages[0], "group": group})
            else:
                await layer.group_send(group, {"type": "app.batch", "group": group, "events": messages})

    _run_in_loop(send)


def _run_in_loop(send: Callable[[], Awaitable[None]]) -> None:
    # One hop into the event loop for all of them: each async_to_sync call costs milliseconds.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(send)()
        return
    # Sync code running on a thread that also hosts an event loop (a sync ORM call made from async
    # code, a browser driver's loop) cannot block on that loop: send from a helper thread instead.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            async_to_sync(send)()
        except BaseException as exc:
            failure.append(exc)

    helper = threading.Thread(target=run, name="realtime-publish")
    helper.start()
    helper.join()
    if failure:
        raise failure[0]


@contextmanager
def batched() -> Iterator[None]:
    """Collect everything published (after commit) inside the block and send it in one go at the end.

    For loops that commit many small transactions, such as the inbound drain. Nested use joins the
    outer batch.
    """
    if getattr(_batch, "sends", None) is not None:
        yield
        return
    _batch.sends = []
    try:
        yield
    finally:
        sends, _batch.sends = _batch.sends, None
        _send_all(sends)


def publish(groups: Iterable[str], event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (immediately when there is none)."""
    chosen = list(groups)
    transaction.on_commit(lambda: publish_now(chosen, event_type, payload))


def _epoch_key(user_id: int) -> str:
    return f"cxm:auth-epoch:{user_id}"


def bump_auth_epochs(user_ids: Iterable[int]) -> None:
    from core.redis import get_redis

    pipe = get_redis().pipeline()
    for user_id in user_ids:
        pipe.incr(_epoch_key(user_id))
        pipe.expire(_epoch_key(user_id), _EPOCH_TTL_SECONDS)
    pipe.execute()


def read_auth_epoch(user_id: int) -> int:
    from core.redis import get_redis

    return int(get_redis().get(_epoch_key(user_id)) or 0)


def revoke_now(user_ids: Iterable[int], *, session_key: str | None = None) -> None:
    """Make every open socket of these users re-check its rights (and close, for `session_key`)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    try:
        bump_auth_epochs(ids)
    except Exception:  # Redis away: the push below (same Redis) likely fails too; the sockets'
        # periodic full re-check still ends them.
        logger.warning("could not raise the auth epoch of users %s", ids, exc_info=True)
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": REVOKE, "session": session_key}

    async def send() -> None:
        for user_id in ids:
            await layer.group_send(user_group(user_id), message)

    try:
        _run_in_loop(send)
    except Exception:
        logger.warning("could not tell the sockets of users %s to re-check", ids, exc_info=True)


def revoke(user_ids: Iterable[int], *, session_key: str | None = None) -> None:
    """`revoke_now` once the surrounding transaction commits (immediately when there is none)."""
    chosen = list(user_ids)
    transaction.on_commit(lambda: revoke_now(chosen, session_key=session_key))
