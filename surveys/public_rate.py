"""Per-client-IP request budgets for the public survey endpoints (answer pages, share links, widget).

One fixed one-minute window per (bucket, IP) in Redis; embedded mode without Redis (or a Redis that is
down) counts in this process instead, which is weaker but keeps a single-process install protected.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from core.proxies import client_address
from core.redis import get_redis

logger = logging.getLogger(__name__)
WINDOW = 60

_local_lock = threading.Lock()
_local_counts: dict[str, int] = {}


def client_ip(request: HttpRequest) -> str:
    # X-Forwarded-For counts only from a proxy in TRUSTED_PROXIES, so a client cannot pick its own budget
    # by forging the header, and clients behind the proxy do not share the proxy's.
    return client_address(request)


def _window() -> int:
    return int(time.time()) // WINDOW


def seconds_left() -> int:
    return WINDOW - int(time.time()) % WINDOW or 1


def _count_locally(key: str) -> int:
    with _local_lock:
        if len(_local_counts) > 50_000:
            # Keys of past windows are never read again; dropping everything costs one window of leniency.
            _local_counts.clear()
        _local_counts[key] = _local_counts.get(key, 0) + 1
        return _local_counts[key]


def _count(key: str) -> int:
    client = get_redis()
    if client is not None:
        try:
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW * 2)
            return int(pipe.execute()[0])
        except Exception:  # Redis down: answering customers matters more than exact counting
            logger.warning("survey rate limit: Redis unavailable, counting in process", exc_info=True)
    return _count_locally(key)


def check_public_rate(request: HttpRequest, bucket: str, limit: int | None = None) -> bool:
    """Count this request against the client's budget in `bucket`; False once over the limit.

    `limit` defaults to settings.SURVEY_PUBLIC_RATE_PER_MINUTE. Each call counts, so call it once per
    request, before doing any work.
    """
    allowed = settings.SURVEY_PUBLIC_RATE_PER_MINUTE if limit is None else limit
    key = f"cxm:survey-rate:{bucket}:{client_ip(request)}:{_window()}"
    return _count(key) <= allowed


def too_many_requests(request: HttpRequest, *, language: str = "", as_json: bool = False) -> HttpResponse:
    """The 429 answer: a translated page (or JSON for scripts) with Retry-After."""
    retry = seconds_left()
    with translation.override(language or translation.get_language() or "en"):
        message = _("Too many requests from your network. Please wait a minute and try again.")
        if as_json:
            response: HttpResponse = JsonResponse(
                {"error": "rate_limited", "message": message, "retry_after": retry}, status=429
            )
        else:
            html = render_to_string(
                "surveys/public/message.html",
                {
                    "title": _("Please wait a moment"),
                    "message": message,
                    "language": translation.get_language(),
                },
            )
            response = HttpResponse(html, status=429)
    response["Retry-After"] = str(retry)
    response["Cache-Control"] = "no-store"
    return response


def reset_counts() -> None:
    """Forget every count, in this process and in Redis (tests; an operator after an incident)."""
    with _local_lock:
        _local_counts.clear()
    client = get_redis()
    if client is not None:
        keys = list(client.scan_iter("cxm:survey-rate:*"))
        if keys:
            client.delete(*keys)
