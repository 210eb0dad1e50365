from __future__ import annotations

from django.db.models import Count, QuerySet

from channels_app.models import Channel


def channels_for_settings() -> QuerySet[Channel]:
    return Channel.objects.annotate(
        conversation_count=Count("conversations", distinct=True)
    ).prefetch_related("teams")
