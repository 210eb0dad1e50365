"""Email channels: inbound MIME by webhook (raw, or from an email service provider), IMAP or import;
outbound over SMTP.

Raw MIME: POST /webhooks/email/<channel_id>/ with Content-Type message/rfc822 and the X-CXM-Timestamp /
X-CXM-Signature headers of the API channel, keyed with the channel's inbound webhook secret.

ESPs post to the same URL; which one is recognised by the shape of the post (channels_app/email/esp.py):
- Mailgun routes (forward with or without the MIME option): a form signed with the webhook signing key,
  kept here as the inbound webhook secret.
- SendGrid Inbound Parse (default parsed fields, or "Send Raw") and Postmark's inbound JSON: HTTP Basic auth
  that the admin writes into the webhook URL, checked against the channel's inbound basic auth.
A post that carries the whole mail (Mailgun's body-mime, SendGrid's raw email field) is stored as that MIME,
byte for byte. Parsed fields and Postmark's JSON are stored as they came and turned into MIME by the worker
with django-anymail's inbound views, so the stored event can be replayed after a fix.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import warnings
from email import policy
from email.encoders import encode_base64
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

from channels_app.adapters.api import check_signed_request
from channels_app.adapters.base import Adapter, AdapterError, SignatureError, register
from channels_app.email import esp, mailgun
from channels_app.email.parse import message_ids, parse_mail
from channels_app.email.smtp import build_reply, send
from channels_app.kinds import ChannelKind

MIME_TYPE = "message/rfc822"
# The field that holds the whole mail, for the ESPs that can post one.
_MIME_FIELDS = {esp.MAILGUN: mailgun.MIME_FIELD, esp.SENDGRID: "email"}


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
        try:
            kind = esp.recognise(request)
        except esp.UnknownShape as exc:
            raise SignatureError(str(exc)) from exc
        if kind:
            esp.verify(request, channel, kind)
            return
        if not channel.credentials.get("inbound_webhook_secret"):
            raise SignatureError("channel has no inbound webhook secret configured")
        check_signed_request(request, channel.secret("inbound_webhook_secret"))

    def stored_body(self, request: HttpRequest) -> tuple[bytes, str]:
        kind = esp.recognise(request)
        if not kind:
            return request.body, MIME_TYPE
        field = _MIME_FIELDS.get(kind)
        mime = mailgun.form_field(request, field) if field else None
        if mime is not None:
            return mime, MIME_TYPE
        # Parsed fields and JSON are kept as they came, with the full content type: a form cannot be read
        # again without its boundary parameter.
        return request.body, str(request.META.get("CONTENT_TYPE") or request.content_type or "")

    def dedup_key(self, request: HttpRequest) -> str:
        body, content_type = self.stored_body(request)
        if content_type == MIME_TYPE:
            return dedup_key_for(body)
        return esp.dedup_key(request, esp.recognise(request)) or "sha256:" + hashlib.sha256(body).hexdigest()

    def parse(self, event, channel) -> list:
        body = bytes(event.body)
        if event.content_type and event.content_type != MIME_TYPE:
            body = mime_from_esp(body, event.content_type)
        return [parse_mail(body)]

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
        if payload.get("html"):
            _use_html(message, str(payload["html"]))
        for name, value in (payload.get("headers") or {}).items():
            if name in _PAYLOAD_HEADERS:
                message[name] = str(value)
        for item in payload.get("attachments") or []:
            maintype, _, subtype = str(item.get("content_type") or "application/octet-stream").partition("/")
            message.add_attachment(
                _attachment_bytes(item),
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=str(item.get("filename") or "attachment"),
            )
        password = channel.secret("smtp_password") if channel.credentials.get("smtp_password") else ""
        send(message, config=channel.config, password=password)
        return str(message["Message-ID"])


# Headers a payload may set (survey invitations: RFC 2369/8058 unsubscribe); the rest are ours to write.
_PAYLOAD_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"})


def _use_html(message: Message, html: str) -> None:
    """A designed HTML body instead of the one build_reply derives from the text."""
    for part in message.walk():
        if part.get_content_type() == "text/html":
            part.set_content(html, subtype="html")  # type: ignore[attr-defined]
            return


def _attachment_bytes(item: dict[str, Any]) -> bytes:
    """Mail carries the file itself, read from our storage under the name the reply put in the payload
    (the signed link is for providers that fetch)."""
    name = str(item.get("storage_name") or "")
    # An erased customer's files are deleted from storage while their reply may still wait to be sent.
    if not name or not default_storage.exists(name):
        raise AdapterError(f"attachment {item.get('id')} is no longer stored", permanent=True)
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise AdapterError(f"attachment {item.get('id')} could not be read: {exc}", permanent=False) from exc


def mime_from_esp(body: bytes, content_type: str) -> bytes:
    """An ESP's stored form or JSON as MIME, through django-anymail's inbound views."""
    request = ASGIRequest(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "query_string": b"",
            "headers": [
                (b"content-type", content_type.encode("latin-1", "replace")),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        io.BytesIO(body),
    )
    try:
        kind = esp.recognise(request)
    except esp.UnknownShape as exc:
        raise AdapterError(f"not a mail: {exc}", permanent=True) from exc
    if not kind:
        raise AdapterError(f"neither MIME nor a known ESP post, but {content_type[:60]}", permanent=True)
    event_data: Any = request
    if kind == esp.POSTMARK:
        event_data = _postmark_object(body)
    try:
        message = _anymail_view(kind).esp_to_anymail_event(event_data).message
        if message.get("Message-ID") is None:
            # Stable across replays, which a hash of the generated MIME (random boundaries) is not.
            message["Message-ID"] = f"<{hashlib.sha256(body).hexdigest()[:40]}@generated.cxm>"
        return _as_bytes(message)
    except Exception as exc:  # the ESP's data through anymail's code: whatever breaks becomes the reason
        raise AdapterError(
            f"could not read this {esp.NAMES[kind]} post as a mail: {type(exc).__name__}: {exc}",
            permanent=True,
        ) from exc


def _postmark_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AdapterError(f"Postmark post that is not JSON: {exc}", permanent=True) from exc
    if not isinstance(data, dict) or not any(key in data for key in esp.POSTMARK_KEYS):
        raise AdapterError(
            "not a Postmark inbound message (a JSON object with FromFull, MessageID or RawEmail): is another "
            "Postmark webhook pointed at this URL?",
            permanent=True,
        )
    return data


@functools.cache
def _anymail_view(kind: str) -> Any:
    from anymail.exceptions import AnymailWarning
    from anymail.webhooks.mailgun import MailgunInboundWebhookView
    from anymail.webhooks.postmark import PostmarkInboundWebhookView
    from anymail.webhooks.sendgrid import SendGridInboundWebhookView

    # Only the conversion is used: requests were authenticated by esp.verify, so anymail's warnings about
    # its own webhook auth (and about SendGrid's support status) do not apply.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailWarning)
        if kind == esp.MAILGUN:
            # Required by the constructor, never used: anymail's validate_request is not called.
            return MailgunInboundWebhookView(webhook_signing_key="not-used")
        return SendGridInboundWebhookView() if kind == esp.SENDGRID else PostmarkInboundWebhookView()


def _as_bytes(message: Message) -> bytes:
    for part in message.walk():
        # anymail sets decoded attachment bytes without a transfer encoding; written like that, their line
        # ends would be rewritten (a PNG's \r\n becomes \n). base64 keeps them byte for byte.
        if part.get_content_maintype() not in ("multipart", "message", "text") and (
            "Content-Transfer-Encoding" not in part
        ):
            encode_base64(part)
    # Headers the ESP passed on are written as they came; an 8-bit one (some ESPs hand those on decoded)
    # cannot be written as ASCII, and is then written as UTF-8, which parse_mail reads.
    try:
        return message.as_bytes(policy=policy.default.clone(refold_source="none"))
    except UnicodeEncodeError:
        return message.as_bytes(policy=policy.default.clone(refold_source="none", utf8=True))
