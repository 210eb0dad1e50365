"""The generic API channel: a documented JSON format for custom sources (apps, shops, bots).

Inbound: POST /webhooks/api/<channel_id>/ with headers
    X-CXM-Timestamp: <unix seconds>
    X-CXM-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" keyed with the signing secret>
and a body of one event or {"events": [...]} (see docs/adding-a-channel.md for the fields).
Outbound: the same envelope, signed the same way, POSTed to the channel's config["callback_url"].
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.http import HttpRequest

from channels_app.adapters.base import Adapter, AdapterError, SignatureError, register
from channels_app.adapters.http import request
from channels_app.adapters.payloads import (
    from_iso,
    get_dict,
    get_list,
    get_str,
    load_json_object,
    require_str,
)
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind
from channels_app.normalized import Attachment, NormalizedMessage, ParsedItem, Sender, StatusUpdate
from channels_app.outbound_models import OutboundStatus

MAX_CLOCK_SKEW_S = 300
MAX_EVENTS = 100


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_signed_request(request: HttpRequest, secret: str) -> None:
    """Raise SignatureError unless X-CXM-Timestamp/X-CXM-Signature sign this raw body with `secret`.
    Shared by every channel that accepts our own signed format (API events, raw MIME mail)."""
    timestamp = request.headers.get("X-CXM-Timestamp", "")
    given = request.headers.get("X-CXM-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise SignatureError("missing or stale X-CXM-Timestamp")
    if not hmac.compare_digest(given.encode(), sign(secret, timestamp, request.body).encode()):
        raise SignatureError("signature mismatch")


def _message(item: dict[str, Any]) -> NormalizedMessage:
    sender = get_dict(item, "sender")
    sender_id = require_str(sender, "id", "message.sender")
    attachments = [
        Attachment(
            filename=get_str(a, "filename") or "attachment",
            content_type=get_str(a, "content_type"),
            size=int(get_str(a, "size") or 0),
            url=get_str(a, "url") or None,
        )
        for a in get_list(item, "attachments")
        if isinstance(a, dict)
    ]
    return NormalizedMessage(
        sender=Sender(kind=IdentityKind.EXTERNAL_ID, value=sender_id, display=get_str(sender, "name")),
        provider_message_id=require_str(item, "id", "message"),
        text=get_str(item, "text"),
        sent_at=from_iso(item.get("sent_at")),
        attachments=attachments,
        thread_id=get_str(item, "thread_id"),
        metadata={"email": get_str(sender, "email"), "phone": get_str(sender, "phone")},
    )


def _status(item: dict[str, Any]) -> StatusUpdate:
    status = require_str(item, "status", "status")
    if status not in OutboundStatus.values or status == OutboundStatus.QUEUED:
        raise AdapterError(f"status: unknown value {status!r}", permanent=True)
    return StatusUpdate(
        provider_message_id=require_str(item, "message_id", "status"),
        status=status,
        at=from_iso(item.get("at")),
        error=get_str(item, "error"),
    )


@register
class ApiAdapter(Adapter):
    provider = "api"
    channel_kinds = (ChannelKind.API,)
    kept_headers = ("X-CXM-Timestamp", "X-CXM-Signature", "Content-Type")

    def verify(self, request: HttpRequest, channel) -> None:
        if not channel.credentials.get("signing_secret"):
            raise SignatureError("channel has no signing secret configured")
        check_signed_request(request, channel.secret("signing_secret"))

    def parse(self, event, channel) -> list[ParsedItem]:
        data = load_json_object(bytes(event.body))
        items = get_list(data, "events") if "events" in data else [data]
        if not items or len(items) > MAX_EVENTS:
            raise AdapterError(f"expected 1 to {MAX_EVENTS} events, got {len(items)}", permanent=True)
        parsed: list[ParsedItem] = []
        for item in items:
            if not isinstance(item, dict):
                raise AdapterError("every event must be a JSON object", permanent=True)
            kind = get_str(item, "type")
            if kind == "message":
                parsed.append(_message(item))
            elif kind == "status":
                parsed.append(_status(item))
            else:
                raise AdapterError(f"unknown event type {kind!r}", permanent=True)
        return parsed

    def send(self, outbound, channel) -> str:
        url = channel.config.get("callback_url")
        if not url:
            raise AdapterError("the API channel has no callback_url configured", permanent=True)
        message_id = f"out-{outbound.pk}"
        body = json.dumps(
            {"type": "message", "id": message_id, "recipient": outbound.recipient, **outbound.payload},
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        request(
            "POST",
            url,
            # The callback is the customer's own server: its answer is not shown to agents.
            quote_answer=False,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-CXM-Timestamp": timestamp,
                "X-CXM-Signature": sign(channel.secret("signing_secret"), timestamp, body),
            },
        )
        return message_id
