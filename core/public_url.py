"""The address that links handed to people and providers start with.

An install behind a proxy sets PUBLIC_BASE_URL and every link uses it: the proxy's scheme and host are
the only ones the outside world can reach. A development server started without it is reached at
whatever address it was started on (another port, a LAN address, a tunnel), so pages that show an
address to copy take it from the request they answer instead of a default that may be wrong.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base_url(request: HttpRequest | None = None) -> str:
    """Scheme and host without a trailing slash, e.g. ``https://cx.example.com``.

    Without a request (mail, tasks, provider callbacks built in a worker) the configured address is
    the only one there is.
    """
    if request is None or settings.PUBLIC_BASE_URL_EXPLICIT:
        return settings.PUBLIC_BASE_URL.rstrip("/")
    return request.build_absolute_uri("/").rstrip("/")
