"""Content-Security-Policy on every response Django renders.

Scripts run only from our own origin or with this request's nonce, so markup that slips past the
sanitizer (a customer's mail, a survey answer, a name) cannot run code in an agent's session. Styles
may still be inline (templates use style attributes); scripts may not, inline handlers included.

The web chat and survey widget scripts are embedded on other sites: there the host page's policy
applies, not this one. The mail frame's document carries its own, stricter policy in a meta tag, on top
of this one, which a srcdoc frame inherits: hence remote images (https:) are allowed here, and the
frame decides whether a mail may show them.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

HEADER = "Content-Security-Policy"


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def _origins(request: HttpRequest) -> tuple[str, list[str]]:
    """Extra sources for scripts and fetches, and the websocket origins of this host."""
    extra = []
    public = urlsplit(settings.PUBLIC_BASE_URL)
    if settings.PUBLIC_BASE_URL_EXPLICIT and public.netloc:
        # Snippets and previews point at the public address, which may differ from the one in use.
        extra.append(f"{public.scheme}://{public.netloc}")
    try:
        host = request.get_host()
    except DisallowedHost:
        return " ".join(extra), []
    return " ".join(extra), [f"ws://{host}", f"wss://{host}"]


def policy(request: HttpRequest, nonce: str, *, framed: bool = False) -> str:
    extra, sockets = _origins(request)
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}' {extra}".rstrip(),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "font-src 'self' data:",
        " ".join(["connect-src 'self'", *sockets, extra]).rstrip(),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    if not framed:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> None:
        request.csp_nonce = new_nonce()  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # A view with its own policy (downloads served with `sandbox`) keeps it.
        if HEADER in response:
            return response
        nonce = getattr(request, "csp_nonce", None) or new_nonce()
        # A view that lets itself be framed says so the way Django's clickjacking protection expects.
        framed = bool(getattr(response, "xframe_options_exempt", False))
        response[HEADER] = policy(request, nonce, framed=framed)
        return response


def nonce(request: HttpRequest) -> dict[str, str]:
    """Template context: `csp_nonce` for `<script nonce=…>` (django-htmx's tags read it too)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


# Documents that hold untrusted markup and need no script at all: no scripts, no plugins, no framing,
# and `sandbox` so that even opened on their own they run in an opaque origin without our cookies.
STRICT = (
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox allow-popups"
)


def strict_policy(view):
    """Decorate a view whose response shows untrusted content (a mail) with the STRICT policy."""
    from functools import wraps

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response[HEADER] = STRICT
        return response

    return wrapped
