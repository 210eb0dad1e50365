"""Every HTTP route of the project, read from the URL resolver, and how to call each one as each role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.security.world import World

ADMIN_PREFIX = "admin/"
_PATH_PARAM = re.compile(r"(?<!\?P)<(?:\w+:)?(\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    key: str  # the route as the resolver spells it, e.g. "inbox/<int:pk>/reply/"
    callback: Any

    @property
    def params(self) -> list[str]:
        return _PATH_PARAM.findall(self.key) + _REGEX_PARAM.findall(self.key)

    def url(self, values: dict[str, str]) -> str:
        path = _REGEX_PARAM.sub(lambda m: values[m.group(1)], self.key)
        path = _PATH_PARAM.sub(lambda m: values[m.group(1)], path)
        return "/" + path.replace("^", "").replace("$", "")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield Route(prefix + str(pattern.pattern), pattern.callback)


def all_routes() -> list[Route]:
    """Every route, once (the same route string reached twice would be one entry)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        seen.setdefault(route.key, route)
    return list(seen.values())


def app_routes() -> list[Route]:
    return [route for route in all_routes() if not route.key.startswith(ADMIN_PREFIX)]


def admin_routes() -> list[Route]:
    return [route for route in all_routes() if route.key.startswith(ADMIN_PREFIX)]


# --- Outcomes -------------------------------------------------------------------------------------

OK = "ok"  # past authorization: a page, a redirect elsewhere, or a validation error (200/201/204/302/400/409)
LOGIN = "login"  # 302 to the login page with ?next=
ADMIN_LOGIN = "admin_login"  # 302 to the Django admin's login page
UNAUTHENTICATED = "401"
FORBIDDEN = "403"
NOT_FOUND = "404"
METHOD = "405"
DENIALS = frozenset({LOGIN, ADMIN_LOGIN, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND})


def outcome(response: HttpResponse) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith(reverse(settings.LOGIN_URL) + "?next="):
            return LOGIN
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        return OK
    if code in (401, 403, 404, 405) or code >= 500:
        return str(code)
    return OK


def call(world: World, role: str, method: str, url: str, **extra: Any) -> HttpResponse:
    """One request as `role`, in a savepoint that is rolled back: every cell sees the same workspace
    (a cell that logs out, deletes or erases takes nothing away from the next one)."""
    client = Client(raise_request_exception=False)
    session = world.sessions.get(role)
    if session is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    with transaction.atomic():
        response = client.get(url, **extra) if method == "GET" else client.post(url, **extra)
        transaction.set_rollback(True)
    return response


def check_resolves(route: Route, url: str) -> None:
    """The URL built for a route must reach that route's view, or the cell would test something else."""
    match = resolve(url)
    assert match.func == route.callback, f"{url} resolves to {match.func}, not the view of {route.key}"
