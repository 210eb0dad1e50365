"""Provider webhooks: verify the raw request, store it, acknowledge. Nothing else happens here."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from channels_app.adapters.base import SignatureError, get_adapter
from channels_app.channel_cache import active_channel
from channels_app.services import do_store_inbound_event

logger = logging.getLogger(__name__)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
def receive(request: HttpRequest, provider: str, channel_id: int) -> HttpResponse:
    adapter = get_adapter(provider)
    if adapter is None:
        return _error(404, "unknown provider")
    channel = active_channel(channel_id)
    if channel is None or channel.kind not in adapter.channel_kinds:
        return _error(404, "unknown channel")

    if request.method == "GET":
        response = adapter.handshake(request, channel)
        return response if response is not None else _error(405, "POST only")
    if request.method != "POST":
        return _error(405, "POST only")
    # Larger deliveries are refused before they are read; providers document far smaller limits.
    if int(request.headers.get("Content-Length") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _error(413, "body too large")

    try:
        adapter.verify(request, channel)
    except SignatureError as exc:
        logger.warning("rejected %s webhook for channel %s: %s", provider, channel.pk, exc)
        return _error(403, "invalid signature")

    body, content_type = adapter.stored_body(request)
    try:
        do_store_inbound_event(
            channel=channel,
            provider=provider,
            dedup_key=adapter.dedup_key(request),
            content_type=content_type,
            headers={name: request.headers[name] for name in adapter.kept_headers if name in request.headers},
            body=body,
        )
    except DatabaseError:
        # Not stored means not acknowledged: a 5xx makes the provider deliver it again later.
        logger.exception("could not store %s webhook for channel %s", provider, channel.pk)
        return _error(503, "temporarily unavailable")
    return adapter.acknowledge(request)
