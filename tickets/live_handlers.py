"""The browser's live updates for messages, fed by the domain events (one handler per commit)."""

from __future__ import annotations

from collections.abc import Sequence

from core import events as domain_events
from tickets import events as live
from tickets import stored_messages

MessageEvent = domain_events.MessageReceived | domain_events.MessageSent


def announce_messages(batch: Sequence[MessageEvent]) -> None:
    """At most one query for the whole commit's messages; each is announced to everyone who may see it."""
    rows = stored_messages.take([event.message_id for event in batch])
    channel_teams: dict[int, list[int]] = {}
    for event in batch:
        message = rows.get(event.message_id)
        if message is not None:  # erased or merged away since: nothing to show
            live.notify_message_created(
                message, new_conversation=event.new_conversation, channel_teams=channel_teams
            )


def register() -> None:
    domain_events.subscribe_batch(domain_events.MessageReceived, announce_messages)
    domain_events.subscribe_batch(domain_events.MessageSent, announce_messages)
