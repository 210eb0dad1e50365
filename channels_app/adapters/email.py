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
from email.parser import BytesHeaderParser

from django.http import HttpRequest

from channels_app.adapters.api import check_signed_request
from channels_app.adapters.base import Adapter, AdapterError, SignatureError, register
from channels_app.email import mailgun
from channels_app.email.parse import message_ids, parse_mail
from channels_app.email.smtp import build_reply, send
from channels_app.kinds import ChannelKind

MIME_TYPE = "message/rfc822"


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
        if mailgun.is_form(request):
            mailgun.verify(request, secret)
        else:
            check_signed_request(request, secret)

    def stored_body(self, request: HttpRequest) -> tuple[bytes, str]:
        if not mailgun.is_form(request):
            return request.body, MIME_TYPE
        mime = mailgun.mime_bytes(request)
        # A route without the MIME option posts parsed fields: kept as they came, and parse() says why
        # they cannot be read, rather than refusing a signed delivery and losing the mail.
        return (mime, MIME_TYPE) if mime is not None else (request.body, request.content_type or "")

    def dedup_key(self, request: HttpRequest) -> str:
        return dedup_key_for(self.stored_body(request)[0])

    def parse(self, event, channel) -> list:
        if event.content_type and event.content_type != MIME_TYPE:
            raise AdapterError(
                f"not a MIME mail but {event.content_type[:60]}: a Mailgun route must forward with the MIME "
                f"option (…/mime) so that the body-mime field is sent",
                permanent=True,
            )
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
