"""Provider webhooks through Django: verify the raw request, store it, acknowledge. Nothing else.

Under ASGI with PostgreSQL the same checks run in `channels_app.webhook_asgi` instead, which stores
concurrent deliveries together; this view serves WSGI and the test client.
"""

from __future__ import annotations

import logging

from django.db import Error as DatabaseFailure
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from channels_app.adapters.base import get_adapter
from channels_app.channel_cache import active_channel
from channels_app.services import do_store_inbound_event
from channels_app.webhook_checks import Delivery, check_delivery, error

logger = logging.getLogger(__name__)


@csrf_exempt
def receive(request: HttpRequest, provider: str, channel_id: int) -> HttpResponse:
    adapter = get_adapter(provider)
    try:
        channel = active_channel(channel_id) if adapter is not None else None
    except DatabaseFailure:
        # A 500 is final for some providers (Twilio); a 503 makes them all deliver it again later.
        logger.exception("could not read channel %s for a %s webhook", channel_id, provider)
        return error(503, "temporarily unavailable")
    outcome = check_delivery(request, adapter=adapter, channel=channel)
    if not isinstance(outcome, Delivery):
        return outcome
    try:
        do_store_inbound_event(
            channel=outcome.channel,
            provider=outcome.provider,
            dedup_key=outcome.dedup_key,
            content_type=outcome.content_type,
            headers=outcome.headers,
            body=outcome.body,
        )
    except DatabaseFailure:
        # Not stored means not acknowledged: a 5xx makes the provider deliver it again later.
        logger.exception("could not store %s webhook for channel %s", provider, channel_id)
        return error(503, "temporarily unavailable")
    assert adapter is not None  # a Delivery implies both
    return adapter.acknowledge(request)
