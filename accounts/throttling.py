"""Login throttling: what a locked-out visitor sees.

django-axes counts failures per account and per client address (settings: AXES_*); the address comes from
core.proxies.client_ip, so TRUSTED_PROXIES applies to login throttling like to every limit.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    # Every failure during a lock-out restarts the cool-off, so the wait counts from now.
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    retry_at = timezone.now() + cool_off if cool_off else None
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "retry_at": retry_at},
        status=429,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
