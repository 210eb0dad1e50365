from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import do_create_user

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session", autouse=True)
def _fresh_redis_database():
    """Under xdist each test process owns one Redis database number (see settings); start it empty so
    no task or flag from an earlier run leaks in. A plain `pytest` run may share the developer's own
    database, which is left alone."""
    import os

    from core.redis import get_redis

    client = get_redis()
    if client is not None and os.environ.get("PYTEST_XDIST_WORKER"):
        client.flushdb()


@pytest.fixture
def fresh_survey_rates():
    """A full budget on the public survey endpoints: the counts are per minute and outlive a test."""
    from surveys import public_rate

    public_rate.reset_counts()
    yield
    public_rate.reset_counts()


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(role: str = Role.AGENT, *, teams: list[Team] | None = None, **extra) -> User:
        n = next(counter)
        user = do_create_user(
            username=extra.pop("username", f"{role}{n}"), password=PASSWORD, role=role, **extra
        )
        if teams:
            user.teams.set(teams)
        return user

    return make


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent(make_user) -> User:
    return make_user(Role.AGENT)


@pytest.fixture
def manager(make_user) -> User:
    return make_user(Role.MANAGER)


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def agent_client(agent) -> Client:
    return _client_for(agent)


@pytest.fixture
def manager_client(manager) -> Client:
    return _client_for(manager)


@pytest.fixture
def admin_client_(admin_user) -> Client:
    return _client_for(admin_user)


def run_async(coroutine_function, *args):
    """Run a coroutine to completion on a fresh loop in its own thread.

    The browser tests keep Playwright's event loop alive in the main thread for the whole session, and
    asyncio refuses to start a second loop there. Unlike asyncio.run, tasks the test left behind (a
    consumer still reading from the channel layer) are cancelled with a bounded wait: a task that
    swallows its cancellation must not hang the whole suite.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    def run():
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(coroutine_function(*args))
        finally:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                loop.run_until_complete(asyncio.wait(leftovers, timeout=5))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(autouse=True)
def _no_real_providers(settings):
    """No test talks to a real provider: calls fail to connect unless the test started a stub."""
    settings.PROVIDER_BASE_URLS = {name: f"http://127.0.0.1:9/{name}" for name in settings.PROVIDER_BASE_URLS}


# Stub servers (HTTP, SMTP, IMAP) listen on loopback, which the outbound guard refuses unless allowed;
# tests of the guard itself clear this.
LOOPBACK_STUBS = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _stubs_on_loopback(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = LOOPBACK_STUBS


@pytest.fixture(autouse=True)
def _fresh_webchat_limits():
    """Web chat counts live in Redis for up to an hour, keyed by channel ids that a new test database
    hands out again: each test starts with a full budget."""
    import contextlib

    import redis

    from channels_app.webchat import throttle

    with contextlib.suppress(redis.RedisError):  # a test without Redis has no counts to forget
        throttle.reset()


@pytest.fixture
def provider_stub(settings):
    """Start a stub server for a provider and point the app's base URL for it there."""
    from tests.stubs.server import StubServer

    started: list[StubServer] = []

    def start(provider: str) -> StubServer:
        stub = StubServer().start()
        started.append(stub)
        settings.PROVIDER_BASE_URLS = {**settings.PROVIDER_BASE_URLS, provider: stub.url}
        return stub

    yield start
    for stub in started:
        stub.stop()


@pytest.fixture(autouse=True)
def _forget_cached_channels():
    """Webhook processes remember channels for a few seconds; each test starts from the database."""
    from channels_app import channel_cache

    channel_cache.forget()
    yield
    channel_cache.forget()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer object. The Redis layer keeps one receive lock per object,
    bound to the loop that took it; a test that ends while a receive holds it (its loop is closed
    with the receive cancelled) would otherwise leave the next test a lock from a dead loop."""
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def domain_events_seen():
    """Every domain event delivered during the test, in order (subscribed to the whole catalogue)."""
    from core import events

    seen: list[events.DomainEvent] = []
    types = [entry.event_type for entry in events.catalogue()]
    for event_type in types:
        events.subscribe(event_type, seen.append)
    yield seen
    for event_type in types:
        events.unsubscribe(event_type, seen.append)
