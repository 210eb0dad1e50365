"""The authorization matrix: every route of the URL resolver, called as every role.

Each route's parameters name an object of team EN; the expectations (matrix_expectations.py) say what
each role must get. Beyond the status code, a page the RU agent may open must not carry anything of the
EN conversation (its subject, messages, notes, survey comment): a profile, a search or a survey page
that summarizes hidden conversations is as much a leak as the conversation page itself.
"""

from __future__ import annotations

import pytest
from django.http import HttpResponse

from accounts.models import ApiKey
from tests.security import matrix_expectations as expected
from tests.security.params import values_for
from tests.security.routes import (
    DENIALS,
    METHOD,
    OK,
    UNAUTHENTICATED,
    Route,
    admin_routes,
    app_routes,
    call,
    check_resolves,
    outcome,
)
from tests.security.world import ROLES, SECRET, World

pytestmark = pytest.mark.django_db

APP_ROUTES = {route.key: route for route in app_routes()}
ADMIN_ROUTES = {route.key: route for route in admin_routes()}
OTHER_TEAM = "agent_other_team"
# The admin site lets in active staff and nobody else, whatever their role or permissions: the admin,
# the strongest role without staff status, an agent holding an extra permission, and a stranger.
ADMIN_ROLES = ("admin", "manager", "agent_all_access", "anonymous")


@pytest.fixture(scope="module")
def world(matrix_world) -> World:
    return matrix_world


def _url(route: Route, world: World) -> str:
    url = route.url(values_for(route.key, route.params, world))
    check_resolves(route, url)
    return url


def _body(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _matches(cell: expected.Cell, got: str) -> bool:
    return got in cell if isinstance(cell, frozenset) else got == cell


def test_every_route_has_an_expectation():
    missing = sorted(set(APP_ROUTES) - set(expected.ROUTES))
    stale = sorted(set(expected.ROUTES) - set(APP_ROUTES))
    assert not missing, (
        "routes without an authorization expectation (add a row to tests/security/matrix_expectations.py "
        f"saying what each role gets): {missing}"
    )
    assert not stale, f"expectations for routes that no longer exist: {stale}"


# Rows without a route (and routes without a row) fail test_every_route_has_an_expectation.
@pytest.mark.parametrize("key", sorted(set(expected.ROUTES) & set(APP_ROUTES)))
def test_route(world, key):
    route, expect = APP_ROUTES[key], expected.ROUTES[key]
    url = _url(route, world) + (f"?{expect.query}" if expect.query else "")
    other_method = "POST" if expect.method == "GET" else "GET"
    wrong = []
    for role, cell in zip(ROLES, expect.cells, strict=True):
        response = call(world, role, expect.method, url)
        got = outcome(response)
        if not _matches(cell, got):
            wrong.append(f"{role}: {expect.method} got {got} ({response.status_code}), expected {cell}")
        elif role == OTHER_TEAM and got == OK and not expect.public and SECRET in _body(response):
            wrong.append(f"{role}: {expect.method} shows the EN conversation's content (a {SECRET} text)")
        # The other method is no way around a refusal, and never a crash.
        again = outcome(call(world, role, other_method, url))
        if again.startswith("5") or (got in DENIALS and again not in DENIALS | {METHOD}):
            wrong.append(f"{role}: {other_method} got {again} where {expect.method} got {got}")
    assert not wrong, f"{url} ({key}):\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("key", sorted(ADMIN_ROUTES))
def test_admin_route(world, key):
    route = ADMIN_ROUTES[key]
    values = {"url": "matrix-nowhere/"} if route.params == ["url"] else None
    url = route.url(values) if values else _url(route, world)
    wrong = []
    for role in ADMIN_ROLES:
        if key in expected.ADMIN_PUBLIC:
            cell = expected.ADMIN_PUBLIC[key]
        else:
            cell = expected.STAFF_CELL if role == "admin" else expected.NON_STAFF_CELL
        # GET only: the admin's own wrapper refuses non-staff before any view runs, whatever the method.
        got = outcome(call(world, role, "GET", url))
        if got not in cell:
            wrong.append(f"{role}: GET got {got}, expected one of {sorted(cell)}")
    assert not wrong, f"{url} ({key}):\n  " + "\n  ".join(wrong)


def test_the_markers_do_show_where_they_may(world):
    """The leak check is only worth something if the EN agent does see the SECRET texts on these pages."""
    pages = [
        f"/inbox/{world.conversation_en.pk}/",
        f"/customers/{world.customer.pk}/",
        f"/surveys/{world.survey.pk}/",
        "/inbox/search/?q=question",
    ]
    for url in pages:
        response = call(world, "agent", "GET", url)
        assert response.status_code == 200 and SECRET in _body(response), url


def test_a_reply_cannot_leave_through_another_teams_channel(world):
    """The EN agent may reply on the EN conversation, but only through a channel of their own teams."""
    from tickets.models import Message

    url = f"/inbox/{world.conversation_en.pk}/reply/"
    data = {"text": "Through the wrong door", "channel": str(world.channel_ru.pk), "force": "1"}
    response = call(world, "agent", "POST", url, data=data)
    sent = Message.objects.filter(body="Through the wrong door").exists()
    assert not sent and response.status_code in (400, 403, 404), response.status_code
    # The same reply through the conversation's own channel goes out: the refusal is about the channel.
    ok = call(world, "agent", "POST", url, data={**data, "channel": str(world.channel_en.pk)})
    assert ok.status_code in (200, 302), ok.status_code


# --- REST endpoints × API keys ---------------------------------------------------------------------------


def test_every_rest_endpoint_is_in_the_api_key_matrix():
    rest = {key for key in APP_ROUTES if key.startswith("api/")}
    assert rest == set(expected.API_KEY_ROUTES), (
        f"REST endpoints missing from API_KEY_ROUTES: {sorted(rest - set(expected.API_KEY_ROUTES))}; "
        f"stale: {sorted(set(expected.API_KEY_ROUTES) - rest)}"
    )


@pytest.mark.parametrize("key", sorted(expected.API_KEY_ROUTES))
def test_rest_endpoint_with_each_kind_of_key(world, key):
    route = APP_ROUTES[key]
    method, _scope = expected.API_KEY_ROUTES[key]
    url = _url(route, world)
    prefix = world.api_key.prefix
    credentials = {
        "no key": (None, UNAUTHENTICATED),
        "another scheme": (f"Token {world.api_key_plaintext}", UNAUTHENTICATED),
        "malformed key": ("Bearer not-a-key", UNAUTHENTICATED),
        "wrong secret": (f"Bearer {prefix}.{'x' * 43}", UNAUTHENTICATED),
        "revoked key": (f"Bearer {world.revoked_key_plaintext}", UNAUTHENTICATED),
        # Past authentication: the empty request is then a validation error (400) or a page of answers.
        "valid key": (f"Bearer {world.api_key_plaintext}", OK),
    }
    wrong = []
    for name, (header, want) in credentials.items():
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        if method == "POST":
            extra |= {"data": "{}", "content_type": "application/json"}
        response = call(world, "anonymous", method, url, **extra)
        if outcome(response) != want:
            wrong.append(f"{name}: got {response.status_code}, expected {want}")
    assert not wrong, f"{method} {url}:\n  " + "\n  ".join(wrong)


def test_api_keys_have_no_scopes_the_matrix_does_not_know():
    """Keys grant every endpoint today. A scope field on ApiKey needs a scope per endpoint in
    API_KEY_ROUTES, and then cells here: a key without the scope gets 403, a key with it gets through."""
    names = [field.name for field in ApiKey._meta.get_fields()]
    scope_fields = [name for name in names if "scope" in name or "permission" in name]
    scoped = {key: scope for key, (_method, scope) in expected.API_KEY_ROUTES.items() if scope}
    assert not scope_fields or scoped, (
        f"ApiKey has {scope_fields}: name the scope each endpoint needs in API_KEY_ROUTES and test both"
    )
