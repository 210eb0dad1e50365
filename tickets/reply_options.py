"""Reads for the channel-dependent part of the reply box: file limits and the WhatsApp template picker."""

from __future__ import annotations

from typing import Any

from channels_app.kinds import ChannelKind
from channels_app.outbound_media import describe_limits, rule_for
from channels_app.selectors import active_templates
from tickets.selectors_conversation import ReplyChannel


def reply_options_context(*, row: ReplyChannel, template_id: int | None, values: list[str]) -> dict[str, Any]:
    channel = row.channel
    rule = rule_for(channel.kind, channel.config)
    window_closed = channel.kind == ChannelKind.WHATSAPP and row.window is not None and not row.window.open
    templates = active_templates(channel) if window_closed else []
    selected = next((t for t in templates if t.pk == template_id), None)
    return {
        "channel": channel,
        "limits": describe_limits(channel.kind, channel.config),
        "accept": ",".join(sorted(rule.types)) if rule.types else "",
        "max_files": rule.max_count,
        "window_closed": window_closed,
        "templates": [
            {
                "template": t,
                "selected": t == selected,
                "inputs": [
                    {"n": n, "value": values[n - 1] if t == selected and n <= len(values) else ""}
                    for n in range(1, t.variables + 1)
                ],
            }
            for t in templates
        ],
    }
