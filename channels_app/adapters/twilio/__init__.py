"""Twilio Programmable Messaging: SMS/MMS and WhatsApp webhooks in, the Messages API out.

Docs: https://www.twilio.com/docs/messaging/guides/webhook-request (inbound parameters),
https://www.twilio.com/docs/messaging/guides/track-outbound-message-status (status callbacks),
https://www.twilio.com/docs/usage/webhooks/webhooks-security (X-Twilio-Signature),
https://www.twilio.com/docs/messaging/api/message-resource (sending).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from channels_app.adapters.base import (
    Adapter,
    AdapterError,
    Ignored,
    MediaSource,
    SignatureError,
    register,
)
from channels_app.adapters.http import base_url, request
from channels_app.adapters.twilio.account import fetch_account
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind
from channels_app.normalized import Attachment, NormalizedMessage, ParsedItem, Sender, StatusUpdate
from channels_app.outbound_models import OutboundStatus

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WHATSAPP_PREFIX = "whatsapp:"
# Twilio accepts at most 10 media per MMS/WhatsApp message; a larger NumMedia is not Twilio talking.
MAX_MEDIA = 10
E164 = re.compile(r"^\+[1-9]\d{5,14}$")
# Short codes and alphanumeric sender ids reach SMS numbers too; they are stable ids, not E.164.
SHORT_SENDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .-]{1,14}$")

STATUSES = {
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.READ,
    "undelivered": OutboundStatus.FAILED,
    "failed": OutboundStatus.FAILED,
    "canceled": OutboundStatus.FAILED,
}
# Steps before "sent" carry nothing the outbound row does not already say.
EARLY_STATUSES = ("queued", "accepted", "scheduled", "sending")
INBOUND_STATUSES = ("received", "receiving")


def form_params(body: bytes) -> list[tuple[str, str]]:
    """The form fields of a Twilio request, blank values included (they are part of the signature)."""
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the URL followed by every name+value, sorted by name."""
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given and with the default port toggled: Twilio signs whichever form it was given."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port is None and default:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    return [url, urlunsplit(other)]


def public_url(request: HttpRequest) -> str:
    # Behind a TLS-terminating proxy Django sees http://internal-host; Twilio signed the public URL.
    return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()


def _fields(body: bytes) -> dict[str, str]:
    if b"\x00" in body:
        raise AdapterError("body contains NUL bytes", permanent=True)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError(f"body is not UTF-8: {exc}", permanent=True) from exc
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdapterError(f"body is not a form-encoded Twilio request: {exc}", permanent=True) from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # Twilio never repeats a name; the first one wins if someone does
    return fields


def _status_of(fields: dict[str, str]) -> str:
    return (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()


def _is_status_callback(fields: dict[str, str]) -> bool:
    status = _status_of(fields)
    return bool(status) and status not in INBOUND_STATUSES


def _address(raw: str, channel, where: str) -> tuple[str, str]:
    """(identity kind, normalized value) of a From/To address on this channel."""
    value = raw.strip()
    whatsapp = value.lower().startswith(WHATSAPP_PREFIX)
    if channel.kind == ChannelKind.WHATSAPP:
        if not whatsapp:
            raise AdapterError(f"{where} {raw[:40]!r} is not a whatsapp: address", permanent=True)
        number = value[len(WHATSAPP_PREFIX) :]
        if not E164.match(number):
            raise AdapterError(f"{where} {raw[:40]!r} is not a WhatsApp number", permanent=True)
        return IdentityKind.WHATSAPP, number
    if whatsapp:
        raise AdapterError(
            f"{where} {raw[:40]!r} is a WhatsApp address but this is an SMS channel; "
            "connect the number as a WhatsApp channel",
            permanent=True,
        )
    if E164.match(value) or SHORT_SENDER.match(value):
        return IdentityKind.PHONE, value
    raise AdapterError(f"{where} {raw[:40]!r} is not a phone number or sender id", permanent=True)


def _attachments(fields: dict[str, str]) -> list[Attachment]:
    try:
        count = int(fields.get("NumMedia") or 0)
    except ValueError as exc:
        raise AdapterError(f"NumMedia {fields['NumMedia'][:20]!r} is not a number", permanent=True) from exc
    if not 0 <= count <= MAX_MEDIA:
        raise AdapterError(f"NumMedia {count} is outside 0..{MAX_MEDIA}", permanent=True)
    found = []
    for index in range(count):
        url = fields.get(f"MediaUrl{index}", "").strip()
        if not url:
            continue
        content_type = fields.get(f"MediaContentType{index}", "").strip()
        extension = (mimetypes.guess_extension(content_type) if content_type else None) or ".bin"
        found.append(
            Attachment(
                filename=f"media-{index + 1}{extension}",
                content_type=content_type,
                size=0,  # Twilio does not say; the media fetcher learns it
                url=url,
            )
        )
    return found


def _location(fields: dict[str, str]) -> dict[str, Any] | None:
    if not fields.get("Latitude") or not fields.get("Longitude"):
        return None
    try:
        latitude, longitude = float(fields["Latitude"]), float(fields["Longitude"])
    except ValueError as exc:
        raise AdapterError("Latitude/Longitude are not numbers", permanent=True) from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AdapterError("Latitude/Longitude are out of range", permanent=True)
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for source, key in (("Label", "label"), ("Address", "address")):
        if fields.get(source):
            location[key] = fields[source]
    return location


def _message(fields: dict[str, str], channel) -> NormalizedMessage:
    sid = fields.get("MessageSid") or fields.get("SmsMessageSid") or fields.get("SmsSid") or ""
    if not sid:
        raise AdapterError("inbound message: missing 'MessageSid'", permanent=True)
    if not fields.get("From"):
        raise AdapterError("inbound message: missing 'From'", permanent=True)
    kind, value = _address(fields["From"], channel, "From")
    text = fields.get("Body", "")
    metadata: dict[str, Any] = {"to": fields.get("To", "")}
    for source, key in (
        ("MessagingServiceSid", "messaging_service_sid"),
        ("NumSegments", "num_segments"),
        ("WaId", "wa_id"),
        ("MessageType", "message_type"),
    ):
        if fields.get(source):
            metadata[key] = fields[source]
    if fields.get("Forwarded") == "true":
        metadata["forwarded"] = True
    location = _location(fields)
    if location:
        metadata["location"] = location
        where = [location.get("label", ""), f"{location['latitude']}, {location['longitude']}"]
        text = text or "📍 " + " ".join(part for part in where if part)
    payload = fields.get("ButtonPayload", "")
    if payload or fields.get("ButtonText"):
        # Same shape as a Telegram callback, so survey answers and automations read both alike.
        metadata.update({"button": True, "callback_data": payload or fields.get("ButtonText", "")})
        text = fields.get("ButtonText") or text or payload
    replied = fields.get("OriginalRepliedMessageSid", "")
    return NormalizedMessage(
        sender=Sender(kind=kind, value=value, display=fields.get("ProfileName", "")),
        provider_message_id=sid,
        text=text,
        attachments=_attachments(fields),
        in_reply_to=[replied] if replied else [],
        metadata=metadata,
    )


def _status(fields: dict[str, str]) -> StatusUpdate:
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = _status_of(fields)
    if not sid:
        raise AdapterError("status callback: missing 'MessageSid'", permanent=True)
    if status in EARLY_STATUSES:
        raise Ignored(f"status {status!r} comes before sent; nothing to record")
    if status not in STATUSES:
        raise AdapterError(f"status callback: unknown MessageStatus {status[:40]!r}", permanent=True)
    error = ""
    if STATUSES[status] == OutboundStatus.FAILED:
        code = fields.get("ErrorCode", "")
        detail = fields.get("ErrorMessage", "")
        error = f"Twilio {status}" + (f", error {code}" if code else "") + (f": {detail}" if detail else "")
    return StatusUpdate(provider_message_id=sid, status=STATUSES[status], error=error)


def _refusal(exc: AdapterError) -> AdapterError:
    """Twilio's own words ("code", "message") out of an error answer, keeping permanent vs temporary."""
    text = str(exc)
    code = re.search(r'"code"\s*:\s*(\d+)', text)
    message = re.search(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
    if not code and not message:
        return exc
    words = json.loads(f'"{message.group(1)}"') if message else ""
    summary = f"Twilio error {code.group(1) if code else '?'}: {words}".rstrip(": ")
    return AdapterError(f"{summary} ({text[:120]})", permanent=exc.permanent)


@register
class TwilioAdapter(Adapter):
    provider = "twilio"
    channel_kinds = (ChannelKind.SMS, ChannelKind.WHATSAPP)
    kept_headers = ("X-Twilio-Signature", "I-Twilio-Idempotency-Token", "Content-Type")
    media_hosts = ("api.twilio.com", ".twiliocdn.com")

    def verify(self, request: HttpRequest, channel) -> None:
        if not channel.credentials.get("auth_token") or not channel.credentials.get("account_sid"):
            raise SignatureError("channel has no Twilio account SID and auth token configured")
        given = request.headers.get("X-Twilio-Signature", "")
        if not given:
            raise SignatureError("missing X-Twilio-Signature")
        params = form_params(request.body)
        token = channel.secret("auth_token")
        if not any(
            hmac.compare_digest(given.encode(), signature(token, url, params).encode())
            for url in _url_variants(public_url(request))
        ):
            raise SignatureError("X-Twilio-Signature mismatch")
        # A valid signature from another account of ours must not feed this channel.
        account = next((value for name, value in params if name == "AccountSid"), "")
        if not hmac.compare_digest(account.encode(), channel.secret("account_sid").encode()):
            raise SignatureError("AccountSid does not belong to this channel")

    def dedup_key(self, request: HttpRequest) -> str:
        try:
            fields = _fields(request.body)
        except AdapterError:
            return super().dedup_key(request)
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        if not sid:
            return super().dedup_key(request)
        if _is_status_callback(fields):
            # One row per status, so each is kept once and a late "sent" still arrives (and is ignored).
            return f"status:{sid}:{_status_of(fields)}"
        return f"message:{sid}"

    def acknowledge(self, request: HttpRequest) -> HttpResponse:
        # Empty TwiML: anything else would make Twilio answer the customer on our behalf.
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")

    def parse(self, event, channel) -> list[ParsedItem]:
        fields = _fields(bytes(event.body))
        if _is_status_callback(fields):
            return [_status(fields)]
        return [_message(fields, channel)]

    def resolve_media(self, reference: str, channel) -> MediaSource:
        # Media URLs may require HTTP basic auth ("Enforce HTTP Auth on Media URLs").
        return MediaSource(url=reference, auth=(channel.secret("account_sid"), channel.secret("auth_token")))

    def check_connection(self, channel, *, webhook_url: str) -> str:
        # Twilio's webhook addresses are set per number in its console; only the credentials are checked.
        return fetch_account(channel.secret("account_sid"), channel.secret("auth_token"))

    def send(self, outbound, channel) -> str:
        account_sid = channel.secret("account_sid")
        whatsapp = channel.kind == ChannelKind.WHATSAPP
        prefix = WHATSAPP_PREFIX if whatsapp else ""
        recipient = outbound.recipient.removeprefix(WHATSAPP_PREFIX)
        form: dict[str, str | list[str]] = {"To": prefix + recipient}
        service = channel.config.get("messaging_service_sid")
        if service:
            form["MessagingServiceSid"] = str(service)
        elif channel.address:
            form["From"] = prefix + channel.address.removeprefix(WHATSAPP_PREFIX)
        else:
            raise AdapterError("the channel has no sending number or messaging_service_sid", permanent=True)
        payload = outbound.payload
        template = payload.get("template")
        if whatsapp and isinstance(template, dict):
            content_sid = template.get("content_sid") or template.get("name")
            if not content_sid:
                raise AdapterError("template without content_sid", permanent=True)
            form["ContentSid"] = str(content_sid)
            if template.get("variables"):
                form["ContentVariables"] = json.dumps(template["variables"], ensure_ascii=False)
        else:
            text = str(payload.get("text") or "")
            media = [str(item["url"]) for item in payload.get("attachments") or [] if item.get("url")]
            if not text and not media:
                raise AdapterError("nothing to send: the message has no text", permanent=True)
            if text:
                form["Body"] = text
            if media:
                # Twilio fetches each MediaUrl itself; the parameter repeats once per file.
                form["MediaUrl"] = media
        if channel.webhook_url:
            form["StatusCallback"] = channel.webhook_url
        try:
            response = request(
                "POST",
                f"{base_url('twilio')}/2010-04-01/Accounts/{account_sid}/Messages.json",
                data=form,
                auth=(account_sid, channel.secret("auth_token")),
            )
        except AdapterError as exc:
            raise _refusal(exc) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str) or not sid:
            # Twilio may have accepted it: a retry could send it twice, so this is not retried.
            raise AdapterError(f"Twilio answered without a sid: {response.text[:300]}", permanent=True)
        return sid
