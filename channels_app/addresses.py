"""Addresses a channel's settings page hands out: where providers post, where the chat script lives.

They start with the base address the caller chose (see core.public_url): the configured public address
in production, the address the page was requested at in development.
"""

from __future__ import annotations

from channels_app.kinds import ChannelKind, provider_for
from channels_app.models import Channel
from channels_app.webchat.script import SCRIPT_PATH


def webhook_url(channel: Channel, *, base: str) -> str | None:
    if channel.pk is None or channel.kind == ChannelKind.WEBCHAT:
        return None  # web chat talks to us over a websocket, not a provider webhook
    return f"{base.rstrip('/')}/webhooks/{provider_for(channel.kind, channel.config)}/{channel.pk}/"


def webchat_script_url(*, base: str) -> str:
    return f"{base.rstrip('/')}{SCRIPT_PATH}"
