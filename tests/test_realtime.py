"""Publishing from sync code, including sync code that happens to run on a thread with an event loop."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from core import realtime
from tests.conftest import run_async


def test_publish_from_inside_a_running_loop_thread_still_delivers():
    async def scenario() -> dict:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("test.realtime", channel)
        # A blocking call made while this thread's loop is running, as a sync helper would make it.
        realtime.publish_now(["test.realtime"], realtime.SYSTEM_NOTICE, {"level": "info", "text": "hi"})
        return await asyncio.wait_for(layer.receive(channel), 5)

    received = run_async(scenario)
    assert received["event"] == realtime.SYSTEM_NOTICE and received["payload"]["text"] == "hi"


def test_batched_publishing_sends_one_message_per_group_at_the_end():
    async def listen(channel: str) -> list[dict]:
        layer = get_channel_layer()
        batch = await asyncio.wait_for(layer.receive(channel), 5)
        assert batch["type"] == "app.batch"
        with pytest.raises(asyncio.TimeoutError):  # everything came in that one message
            await asyncio.wait_for(layer.receive(channel), 0.3)
        return batch["events"]

    async def scenario() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("test.batch", channel)
        with realtime.batched():
            for n in range(3):
                realtime.publish_now(
                    ["test.batch"], realtime.SYSTEM_NOTICE, {"level": "info", "text": str(n)}
                )
            assert realtime._batch.sends and len(realtime._batch.sends) == 3  # held back until the end
        return await listen(channel)

    received = run_async(scenario)
    assert [m["payload"]["text"] for m in received] == ["0", "1", "2"]
