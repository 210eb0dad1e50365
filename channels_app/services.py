"""Writes for channels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Team
from channels_app.kinds import CREDENTIAL_FIELDS
from channels_app.models import Channel, InboundEvent


class ChannelError(ValueError):
    pass


def check_credentials(*, kind: str, credentials: Mapping[str, str]) -> None:
    allowed = set(CREDENTIAL_FIELDS.get(kind, ()))
    unknown = set(credentials) - allowed
    if unknown:
        raise ChannelError(f"unknown credential field(s) for {kind}: {', '.join(sorted(unknown))}")


@transaction.atomic
def do_create_channel(
    *,
    kind: str,
    name: str,
    address: str = "",
    config: Mapping[str, Any] | None = None,
    credentials: Mapping[str, str] | None = None,
    teams: Iterable[Team] = (),
) -> Channel:
    creds = {k: v for k, v in (credentials or {}).items() if v}
    check_credentials(kind=kind, credentials=creds)
    channel = Channel.objects.create(
        kind=kind, name=name, address=address, config=dict(config or {}), credentials=creds
    )
    channel.teams.set(list(teams))
    return channel


@transaction.atomic
def do_update_channel(
    *,
    channel: Channel,
    name: str,
    address: str,
    is_active: bool,
    credential_updates: Mapping[str, str],
    teams: Iterable[Team],
    config_updates: Mapping[str, Any] | None = None,
) -> Channel:
    """Blank credential inputs keep the stored secret: the form never receives it to send it back."""
    updates = {k: v for k, v in credential_updates.items() if v}
    check_credentials(kind=channel.kind, credentials=updates)
    channel.name = name
    channel.address = address
    channel.is_active = is_active
    channel.credentials = {**channel.credentials, **updates}
    # Keys the form does not manage (IMAP sync state, ...) are kept as they are.
    channel.config = {**channel.config, **(config_updates or {})}
    channel.save()
    channel.teams.set(list(teams))
    return channel


def do_store_inbound_event(
    *, channel: Channel, provider: str, dedup_key: str, content_type: str, headers: dict, body: bytes
) -> InboundEvent | None:
    """Insert the raw delivery; a duplicate returns None. Processing is queued once the row commits."""
    from channels_app.tasks import enqueue_inbound

    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                channel=channel,
                provider=provider,
                dedup_key=dedup_key[:255],
                content_type=content_type[:255],
                headers=headers,
                body=body,
            )
            transaction.on_commit(lambda: enqueue_inbound(event.pk))
    except IntegrityError:
        return None
    return event
