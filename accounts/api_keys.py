"""API keys for the company's own systems: creation, `Authorization: Bearer` authentication, throttling.

A key is `<prefix>.<secret>`. The prefix is public (it is shown in the settings list and finds the
row); only a hash of the whole key is stored, so a leaked database does not leak working keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey, User
from core.config_audit import do_record_change, snapshot

# SHA-256 rather than a slow password hash: the secret is 256 random bits, so there is nothing to
# brute-force, and a slow hash would cost every single API request. The scheme tag leaves room to
# change algorithms later without guessing what a stored hash is.
HASH_SCHEME = "sha256"
PREFIX_BYTES = 6  # 12 hex characters: the width of ApiKey.prefix
SECRET_BYTES = 32
# last_used_at is a hint for admins ("is this key still in use?"); minute precision is plenty, and a
# write per request would turn every API call into a row update on a hot row.
TOUCH_INTERVAL = timedelta(minutes=1)
DEFAULT_RATE = "600/min"

_PREFIX = re.compile(r"[0-9a-f]{1,12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")


def hash_key(plaintext: str) -> str:
    return f"{HASH_SCHEME}${hashlib.sha256(plaintext.encode()).hexdigest()}"


def do_create_api_key(*, name: str, created_by: User | None = None) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which exists only in this return value: show it once."""
    for _attempt in range(5):
        prefix = secrets.token_hex(PREFIX_BYTES)
        plaintext = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name[:120], prefix=prefix, key_hash=hash_key(plaintext), created_by=created_by
                )
                do_record_change(instance=key)
        except IntegrityError:
            continue  # 48-bit prefixes practically never collide, but a collision must not fail creation
        return key, plaintext
    raise RuntimeError("could not find a free API key prefix")


@transaction.atomic
def do_revoke_api_key(*, key: ApiKey) -> ApiKey:
    before = snapshot(key)
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    do_record_change(instance=key, before=before)
    return key


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_INTERVAL:
        return
    # Conditional, so concurrent requests on several workers still write the row about once a minute.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <prefix>.<secret>`.

    The request's user is AnonymousUser and `request.auth` is the ApiKey: a key stands for a system,
    not a person, so it must never inherit its creator's permissions in the product UI.
    """

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[AnonymousUser, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != self.keyword.lower():
            raise AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
        prefix, dot, secret = credentials.strip().partition(".")
        if not dot or not _PREFIX.fullmatch(prefix) or not _SECRET.fullmatch(secret):
            raise AuthenticationFailed("Malformed API key: expected '<prefix>.<secret>'.")
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.key_hash, hash_key(f"{prefix}.{secret}")):
            raise AuthenticationFailed("Invalid API key.")
        if key.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.")
        _touch(key)
        return AnonymousUser(), key

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 when credentials are missing.
        return f'{self.keyword} realm="api"'


class HasApiKey(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key, counted in fixed windows with an atomic cache increment.

    DRF's stock throttles keep every request's timestamp in one cache value and rewrite it on each
    request (read-modify-write, so concurrent requests undercount, and the value grows with the rate).
    A counter per window is one atomic INCR in Redis. Override the rate with
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"].
    """

    scope = "api_key"

    def __init__(self) -> None:
        super().__init__()
        self._wait = 0.0

    def get_rate(self) -> str | None:
        # Read per request rather than at import, so settings overrides (and tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, DEFAULT_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        # The random prefix, not the row id: ids are reused when a test database is recreated.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = f"{key}:{int(now // self.duration)}"
        self.cache.add(window, 0, self.duration + 1)
        try:
            count = self.cache.incr(window)
        except ValueError:  # the window expired between add and incr
            self.cache.set(window, 1, self.duration + 1)
            count = 1
        self._wait = self.duration - now % self.duration
        return count <= self.num_requests

    def wait(self) -> float:
        return self._wait
