"""What every webhook front door does before storing a delivery: find the adapter, answer handshakes,
refuse what is too large or not signed. No database writes happen here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from channels_app.adapters.base import Adapter, SignatureError
from channels_app.demo import refuses_inbound
from channels_app.models import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """A verified delivery, ready to be stored as an InboundEvent."""

    channel: Channel
    provider: str
    dedup_key: str
    content_type: str
    headers: dict[str, str]
    body: bytes


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def too_large(content_length: str | None) -> bool:
    """Larger deliveries are refused before they are read; providers document far smaller limits."""
    try:
        return int(content_length or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    except ValueError:
        return True


def check_delivery(
    request: HttpRequest, *, adapter: Adapter | None, channel: Channel | None
) -> Delivery | HttpResponse:
    """The delivery to store, or the answer to give instead (404, 405, 413, 403, a handshake)."""
    if adapter is None:
        return error(404, "unknown provider")
    if channel is None or channel.kind not in adapter.channel_kinds:
        return error(404, "unknown channel")
    if refuses_inbound(channel):
        # 403 with the reason, so whoever wires a provider to a demo channel sees why nothing arrives.
        return error(403, "demo channel: inbound webhooks are off until an admin turns them on")
    if request.method == "GET":
        response = adapter.handshake(request, channel)
        return response if response is not None else error(405, "POST only")
    if request.method != "POST":
        return error(405, "POST only")
    if too_large(request.headers.get("Content-Length")):
        return error(413, "body too large")
    try:
        adapter.verify(request, channel)
    except SignatureError as exc:
        logger.warning("rejected %s webhook for channel %s: %s", adapter.provider, channel.pk, exc)
        return error(exc.status, exc.public_reason)
    body, content_type = adapter.stored_body(request)
    return Delivery(
        channel=channel,
        provider=adapter.provider,
        dedup_key=adapter.dedup_key(request)[:255],
        content_type=content_type[:255],
        headers={name: request.headers[name] for name in adapter.kept_headers if name in request.headers},
        body=body,
    )
