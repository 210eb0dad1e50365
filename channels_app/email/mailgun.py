"""Mailgun's inbound routes: a form with timestamp, token and signature, and with the MIME option (…/mime)
the whole mail in body-mime (without it, parsed fields that the worker reads through anymail).

The signature is hex HMAC-SHA256 of timestamp + token, keyed with the webhook signing key. It covers
nothing of the mail, so one observed (timestamp, token, signature) would carry any other mail for as long
as the timestamp is fresh: each token is remembered in Redis for that window and a second use is refused,
as Mailgun's "Securing Webhooks" advises. The mail itself
is read from the raw request bytes rather than request.POST: Django decodes form fields as UTF-8 and would
replace the bytes of an 8-bit KOI8-R or windows-1251 mail with U+FFFD before our charset guessing sees them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import unquote_to_bytes

import redis
from django.http import HttpRequest

from channels_app.adapters.api import MAX_CLOCK_SKEW_S
from channels_app.adapters.base import SignatureError
from core.redis import get_redis

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MIME_FIELD = "body-mime"
_PART_NAME = re.compile(rb'^content-disposition:[^\r\n]*;\s*name="([^"]*)"', re.IGNORECASE | re.MULTILINE)


class TokenReused(SignatureError):
    public_reason = "Mailgun token already used"


class ReplayCheckUnavailable(SignatureError):
    # Not the sender's fault: Mailgun retries a 503, by then signed with a fresh token.
    status = 503
    public_reason = "temporarily unavailable"


def is_form(request: HttpRequest) -> bool:
    return (request.content_type or "").startswith(FORM_TYPES)


def verify(request: HttpRequest, secret: str) -> None:
    """Raise SignatureError unless the form carries a fresh signature made with this signing key."""
    # Read the raw bytes before request.POST parses the form, so they stay available.
    _ = request.body
    timestamp = request.POST.get("timestamp", "")
    token = request.POST.get("token", "")
    given = request.POST.get("signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise SignatureError("missing or stale Mailgun timestamp")
    expected = hmac.new(secret.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureError("Mailgun signature mismatch")
    remember_token(expected, int(timestamp))


def remember_token(signature: str, timestamp: int) -> None:
    """Record a verified signature once; raise TokenReused when it was seen before.

    Keyed by the signature rather than the bare token, so it is per signing key, and kept until the
    timestamp can no longer pass the freshness check (after that the check above refuses it anyway).
    """
    ttl = max(1, int(timestamp + MAX_CLOCK_SKEW_S - time.time()) + 1)
    try:
        first_use = get_redis().set(f"mailgun:token:{signature}", b"1", nx=True, ex=ttl)
    except redis.RedisError as exc:
        raise ReplayCheckUnavailable(f"cannot record the Mailgun token: {exc}") from exc
    if not first_use:
        raise TokenReused("Mailgun token was used before (a replayed signature)")


def form_field(request: HttpRequest, name: str) -> bytes | None:
    """One form field's bytes exactly as sent (multipart or urlencoded), or None when it is absent: Mailgun's
    body-mime, or SendGrid's "Send Raw" email field, which has the same 8-bit problem."""
    if (request.content_type or "").startswith("multipart/form-data"):
        boundary = str((request.content_params or {}).get("boundary") or "").strip('"')
        found = _multipart_field(request.body, boundary.encode("latin-1"), name) if boundary else None
    else:
        found = _urlencoded_field(request.body, name)
    if found is None and name in request.POST:
        found = request.POST[name].encode("utf-8")
    return found


def _multipart_field(body: bytes, boundary: bytes, name: str) -> bytes | None:
    # RFC 7578: parts are separated by CRLF "--boundary"; each has headers, a blank line, then the value.
    for part in body.split(b"--" + boundary)[1:]:
        head, separator, value = part.partition(b"\r\n\r\n")
        if not separator:
            head, separator, value = part.partition(b"\n\n")
        match = _PART_NAME.search(head)
        if separator and match and match.group(1).decode("latin-1") == name:
            return value[:-2] if value.endswith(b"\r\n") else value.removesuffix(b"\n")
    return None


def _urlencoded_field(body: bytes, name: str) -> bytes | None:
    wanted = name.encode()
    for pair in body.split(b"&"):
        key, _, value = pair.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) == wanted:
            return unquote_to_bytes(value.replace(b"+", b" "))
    return None
