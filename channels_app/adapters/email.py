"""Email channels: inbound MIME by webhook (raw, or Mailgun's "forward with MIME"), IMAP or import;
outbound over SMTP.

Raw MIME: POST /webhooks/email/<channel_id>/ with Content-Type message/rfc822 and the X-CXM-Timestamp /
X-CXM-Signature headers of the API channel, keyed with the channel's inbound webhook secret.
Mailgun: a route forwarding to the same URL with the MIME option posts a
multipart form with timestamp, token, signature (HMAC-SHA256 of timestamp+token with the webhook signing
key, kept here as the inbound webhook secret) and body-mime.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from email.parser import BytesHeaderParser

from django.http import HttpRequest

from channels_app.adapters.api import MAX_CLOCK_SKEW_S, check_signed_request
from channels_app.adapters.base import Adapter, AdapterError, SignatureError, register
from channels_app.email.parse import message_ids, parse_mail
from channels_app.email.smtp import build_reply, send
from channels_app.kinds import ChannelKind

MIME_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


def _is_mailgun(request: HttpRequest) -> bool:
    return (request.content_type or "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    )


def _mailgun_mime(request: HttpRequest) -> bytes:
    value = request.POST.get("body-mime")
    if value is None:
        raise SignatureError("Mailgun delivery without body-mime: route it with the MIME (…/mime) option")
    return value.encode("utf-8", "surrogateescape")


def dedup_key_for(raw: bytes) -> str:
    headers = BytesHeaderParser().parsebytes(raw[:200_000], headersonly=True)
    found = message_ids(str(headers.get("Message-ID") or ""))
    if found:
        return f"message-id:{found[0][:200]}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@register
class EmailAdapter(Adapter):
    provider = "email"
    channel_kinds = (ChannelKind.EMAIL,)

    def verify(self, request: HttpRequest, channel) -> None:
        if not channel.credentials.get("inbound_webhook_secret"):
            raise SignatureError("channel has no inbound webhook secret configured")
        secret = channel.secret("inbound_webhook_secret")
        # Read the raw bytes before anything parses the form, so they stay available.
        _ = request.body
        if not _is_mailgun(request):
            check_signed_request(request, secret)
            return
        timestamp = request.POST.get("timestamp", "")
        token = request.POST.get("token", "")
        given = request.POST.get("signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise SignatureError("missing or stale Mailgun timestamp")
        expected = hmac.new(secret.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not token or not hmac.compare_digest(given.encode(), expected.encode()):
            raise SignatureError("Mailgun signature mismatch")
        _mailgun_mime(request)

    def stored_body(self, request: HttpRequest) -> tuple[bytes, str]:
        if _is_mailgun(request):
            return _mailgun_mime(request), "message/rfc822"
        return request.body, "message/rfc822"

    def dedup_key(self, request: HttpRequest) -> str:
        return dedup_key_for(self.stored_body(request)[0])

    def parse(self, event, channel) -> list:
        return [parse_mail(bytes(event.body))]

    def send(self, outbound, channel) -> str:
        payload = outbound.payload
        if not channel.address:
            raise AdapterError("the email channel has no address to send from", permanent=True)
        message = build_reply(
            from_address=channel.address,
            from_name=channel.config.get("from_name") or channel.name,
            to=outbound.recipient,
            subject=payload.get("subject") or "",
            text=payload.get("text") or "",
            in_reply_to=payload.get("in_reply_to") or "",
            references=list(payload.get("references") or []),
        )
        password = channel.secret("smtp_password") if channel.credentials.get("smtp_password") else ""
        send(message, config=channel.config, password=password)
        return str(message["Message-ID"])
