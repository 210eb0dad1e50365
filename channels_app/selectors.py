from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from channels_app.connect_checks import Connection
from channels_app.models import Channel, InboundEvent, InboundStatus, MessageTemplate, OutboundMessage
from channels_app.outbound_models import OutboundStatus

SUCCESSFUL_SENDS = (OutboundStatus.SENT, OutboundStatus.DELIVERED, OutboundStatus.READ)


@dataclass(frozen=True)
class LastError:
    at: datetime
    reason: str
    inbound: bool  # True: a delivery we could not read; False: a message we could not send


@dataclass(frozen=True)
class ChannelHealth:
    connection: Connection
    last_inbound_at: datetime | None
    last_sent_at: datetime | None
    last_error: LastError | None


def _latest(queryset: QuerySet, field: str, order: str) -> Subquery:
    # The primary key breaks ties, so a failure's time and reason always come from the same row.
    return Subquery(queryset.filter(channel=OuterRef("pk")).order_by(order, "-pk").values(field)[:1])


def _with_health(queryset: QuerySet[Channel]) -> QuerySet[Channel]:
    """Each channel's latest traffic and failures, as subqueries of the one channel query.

    The orderings follow the indexes there are: newest by primary key for all traffic of a channel,
    and the (status, time) indexes for failures, which are few.
    """
    failed_in = InboundEvent.objects.filter(status=InboundStatus.FAILED)
    failed_out = OutboundMessage.objects.filter(status=OutboundStatus.FAILED)
    sent = OutboundMessage.objects.filter(status__in=SUCCESSFUL_SENDS)
    return queryset.annotate(
        last_inbound_at=_latest(InboundEvent.objects.all(), "received_at", "-pk"),
        last_sent_at=_latest(sent.annotate(at=Coalesce("status_at", "created_at")), "at", "-pk"),
        failed_in_at=_latest(failed_in, "received_at", "-received_at"),
        failed_in_error=_latest(failed_in, "error", "-received_at"),
        failed_out_at=_latest(
            failed_out.annotate(at=Coalesce("status_at", "created_at")), "at", "-created_at"
        ),
        failed_out_error=_latest(failed_out, "error", "-created_at"),
    )


def health_of(channel: Any) -> ChannelHealth:
    """The health of a channel read through `_with_health` (the annotations are its fields)."""
    errors = [
        LastError(at=at, reason=reason or "", inbound=inbound)
        for at, reason, inbound in (
            (channel.failed_in_at, channel.failed_in_error, True),
            (channel.failed_out_at, channel.failed_out_error, False),
        )
        if at is not None
    ]
    return ChannelHealth(
        connection=Connection.of(channel),
        last_inbound_at=channel.last_inbound_at,
        last_sent_at=channel.last_sent_at,
        last_error=max(errors, key=lambda error: error.at) if errors else None,
    )


def channels_for_settings() -> list[Channel]:
    """Every channel with its conversation count, teams and health (`channel.health`): two queries."""
    channels: list[Any] = list(
        _with_health(Channel.objects.annotate(conversation_count=Count("conversations", distinct=True)))
        .prefetch_related("teams")
        .order_by("kind", "name")
    )
    for channel in channels:
        channel.health = health_of(channel)
    return channels


def channel_for_settings(channel_id: int) -> tuple[Channel, ChannelHealth] | None:
    channel = _with_health(Channel.objects.filter(pk=channel_id)).first()
    return None if channel is None else (channel, health_of(channel))


def active_templates(channel: Channel) -> list[MessageTemplate]:
    return list(MessageTemplate.objects.filter(channel=channel, is_active=True).order_by("name", "language"))
