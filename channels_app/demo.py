"""Channels created by the demo workspace, and whether they may take deliveries.

A demo channel is wired to nothing real, yet its webhook URL answers on a live install. Until an admin
says otherwise it refuses every delivery, so nobody can push messages into the demo (or use it to test
forged signatures) just because the demo was seeded.
"""

from __future__ import annotations

from channels_app.models import Channel

DEMO_FLAG = "demo"
ACCEPT_INBOUND_FLAG = "demo_accept_inbound"


def is_demo(channel: Channel) -> bool:
    return (channel.config or {}).get(DEMO_FLAG) is True


def refuses_inbound(channel: Channel) -> bool:
    return is_demo(channel) and (channel.config or {}).get(ACCEPT_INBOUND_FLAG) is not True
