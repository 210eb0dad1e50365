"""Which email service provider (ESP) an inbound webhook post comes from, and whether it is authentic.

Mailgun signs its form (timestamp, token, signature: see mailgun.py) with the webhook signing key, kept as
the channel's inbound webhook secret. SendGrid's Inbound Parse and Postmark's inbound webhook sign nothing
we could check, so the admin puts a user and password into the webhook URL
(https://user:password@host/webhooks/email/<id>/), the ESP sends them as HTTP Basic auth, and they are
compared with the channel's inbound_basic_auth ("user:password"). A post in none of these shapes is raw
MIME, signed like the API channel. For posts that do not carry the whole mail, dedup_key reads the mail's
Message-ID from the ESP's parsed fields.

Pure computation on the request and the channel: this runs in the ASGI event loop.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from email.parser import HeaderParser
from typing import TYPE_CHECKING, Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from channels_app.adapters.base import SignatureError
from channels_app.email import mailgun
from channels_app.email.parse import message_ids

if TYPE_CHECKING:
    from channels_app.models import Channel

MAILGUN = "mailgun"
SENDGRID = "sendgrid"
POSTMARK = "postmark"
NAMES = {MAILGUN: "Mailgun", SENDGRID: "SendGrid", POSTMARK: "Postmark"}
POSTMARK_KEYS = ("FromFull", "MessageID", "RawEmail")
_MAILGUN_FIELDS = frozenset({"timestamp", "token", "signature"})
_JSON_OBJECT_START = re.compile(rb"\s*\{")


class UnknownShape(ValueError):
    """A form that no ESP we know posts, or one that cannot be read as a form at all."""


def recognise(request: HttpRequest) -> str:
    """MAILGUN, SENDGRID or POSTMARK, or "" for anything else (raw MIME). UnknownShape for other forms."""
    if mailgun.is_form(request):
        fields = _form_fields(request)
        if fields >= _MAILGUN_FIELDS:
            return MAILGUN
        if "envelope" in fields and ("email" in fields or "headers" in fields):
            return SENDGRID
        raise UnknownShape(
            "a form that is neither Mailgun's (timestamp, token, signature) nor SendGrid Inbound Parse's "
            "(envelope with email or headers)"
        )
    # Postmark is the only ESP here that posts JSON. Any JSON post is taken as Postmark's, so that an
    # authenticated delivery whose shape is off is still kept, and fails in the worker with its reason.
    if (request.content_type or "").endswith(("/json", "+json")) or postmark_payload(request.body):
        return POSTMARK
    return ""


def postmark_payload(body: bytes) -> dict[str, Any] | None:
    """The body as Postmark's inbound object (one with FromFull, MessageID or RawEmail), or None."""
    if not _JSON_OBJECT_START.match(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) and any(key in data for key in POSTMARK_KEYS) else None


def verify(request: HttpRequest, channel: Channel, esp: str) -> None:
    """Raise SignatureError unless this post from `esp` is authentic for the channel."""
    if esp == MAILGUN:
        if not channel.credentials.get("inbound_webhook_secret"):
            raise SignatureError("channel has no inbound webhook secret (Mailgun signing key) configured")
        mailgun.verify(request, channel.secret("inbound_webhook_secret"))
        return
    if not channel.credentials.get("inbound_basic_auth"):
        raise SignatureError(f"channel has no inbound basic auth configured for {NAMES[esp]}")
    given = basic_auth(request)
    if given is None:
        raise SignatureError(f"{NAMES[esp]} post without basic auth in the webhook URL")
    if not hmac.compare_digest(given, channel.secret("inbound_basic_auth").encode("utf-8")):
        raise SignatureError(f"{NAMES[esp]} basic auth mismatch")


def dedup_key(request: HttpRequest, esp: str) -> str:
    """What identifies the mail in an ESP's parsed fields: message-id:<…>, else postmark:<Postmark's own
    id>, else "". Never raises: odd input only means no key."""
    postmark: dict[str, Any] = {}
    try:
        if esp == MAILGUN:
            pairs = json.loads(request.POST.get("message-headers") or "[]")
            value = next((str(v) for n, v in pairs if str(n).lower() == "message-id"), "")
        elif esp == SENDGRID:
            value = str(
                HeaderParser().parsestr(request.POST.get("headers") or "", headersonly=True)["Message-ID"]
            )
        else:
            postmark = postmark_payload(request.body) or {}
            raw = postmark.get("RawEmail")
            headers = [(h.get("Name"), h.get("Value")) for h in postmark.get("Headers") or []]
            if isinstance(raw, str):
                headers = HeaderParser().parsestr(raw[:200_000], headersonly=True).items()
            value = next((str(v) for n, v in headers if str(n).lower() == "message-id"), "")
    except (ValueError, TypeError, AttributeError, KeyError):
        return ""
    found = message_ids(value)
    if found:
        return f"message-id:{found[0][:200]}"
    postmark_id = postmark.get("MessageID")
    return f"postmark:{postmark_id[:200]}" if isinstance(postmark_id, str) and postmark_id else ""


def basic_auth(request: HttpRequest) -> bytes | None:
    """The "user:password" bytes of an HTTP Basic Authorization header, or None."""
    scheme, _, data = str(request.META.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
    if scheme.lower() != "basic" or not data.strip():
        return None
    try:
        return base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _form_fields(request: HttpRequest) -> set[str]:
    # Read the raw bytes before request.POST parses the form, so they stay available for the MIME field.
    _ = request.body
    try:
        return set(request.POST.keys())
    except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, BadRequest, ValueError) as exc:
        raise UnknownShape(f"unreadable form: {exc}") from exc
