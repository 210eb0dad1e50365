"""Realtime events: the one place event names and their payload shapes are defined.

Services publish after their transaction commits, to groups they choose explicitly; consumers
re-check permission for every event before it reaches a browser.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Event names (the `type` the browser sees). Later features add theirs here.
SYSTEM_NOTICE = "system.notice"
PONG = "pong"


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
                await layer.group_send(group, messages[0])
            else:
                await layer.group_send(group, {"type": "app.batch", "events": messages})

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
