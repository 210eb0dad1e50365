"""Writes for channels."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.db import connection, transaction

from accounts.models import Team
from channels_app import channel_cache
from channels_app.inbound_models import InboundStatus
from channels_app.kinds import CREDENTIAL_FIELDS
from channels_app.models import Channel, InboundEvent
from core.config_audit import do_record_change, snapshot


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
    do_record_change(instance=channel)
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
    before = snapshot(channel)
    channel.name = name
    channel.address = address
    channel.is_active = is_active
    channel.credentials = {**channel.credentials, **updates}
    # Keys the form does not manage (IMAP sync state, ...) are kept as they are.
    channel.config = {**channel.config, **(config_updates or {})}
    channel.save()
    channel.teams.set(list(teams))
    do_record_change(instance=channel, before=before)
    transaction.on_commit(partial(channel_cache.forget, channel.pk))
    return channel


def do_store_inbound_event(
    *, channel: Channel, provider: str, dedup_key: str, content_type: str, headers: dict, body: bytes
) -> InboundEvent | None:
    """Insert the raw delivery; a duplicate returns None. Processing is queued once the row commits.

    One statement, committed on its own when no transaction is open: this is the whole cost of
    acknowledging a webhook, so it takes one round trip to PostgreSQL instead of the ORM's four
    (BEGIN, INSERT, a savepoint for the duplicate case, COMMIT).
    """
    from channels_app.tasks import enqueue_inbound

    dedup_key, content_type = dedup_key[:255], content_type[:255]
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENT, [channel.pk, provider, dedup_key, content_type, json.dumps(headers), body]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    event = InboundEvent(
        pk=row[0],
        received_at=row[1],
        channel=channel,
        provider=provider,
        dedup_key=dedup_key,
        content_type=content_type,
        headers=headers,
        body=body,
    )
    transaction.on_commit(lambda: enqueue_inbound(event.pk))
    return event


_INSERT_EVENT = f"""
    INSERT INTO {InboundEvent._meta.db_table}
        (channel_id, provider, dedup_key, content_type, headers, body, status, attempts, error, received_at)
    VALUES (%s, %s, %s, %s, %s::jsonb, %s, '{InboundStatus.PENDING}', 0, '', statement_timestamp())
    ON CONFLICT (channel_id, dedup_key) DO NOTHING
    RETURNING id, received_at
"""  # noqa: S608 (table name and status come from the model, every value is a parameter)
