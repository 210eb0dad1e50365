from __future__ import annotations

from django.db.models import Count, QuerySet

from channels_app.models import Channel, MessageTemplate


def channels_for_settings() -> QuerySet[Channel]:
    return Channel.objects.annotate(
        conversation_count=Count("conversations", distinct=True)
    ).prefetch_related("teams")


def active_templates(channel: Channel) -> list[MessageTemplate]:
    return list(MessageTemplate.objects.filter(channel=channel, is_active=True).order_by("name", "language"))
