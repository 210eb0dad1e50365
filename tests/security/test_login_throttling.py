"""Finding 8: wrong passwords without end, then the right one, used to sign in (app and Django admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from tests.conftest import PASSWORD

LIMIT = settings.AXES_FAILURE_LIMIT
APP_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def attempt(client: Client, url: str, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [APP_LOGIN, ADMIN_LOGIN])
def test_the_right_password_is_refused_after_too_many_wrong_ones(db, make_user, url):
    user = make_user(Role.ADMIN)
    client = Client()
    for _ in range(LIMIT):
        attempt(client, url, user.username, "wrong password")

    response = attempt(client, url, user.username, PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert 'data-testid="locked-out"' in page
    assert "Try again in 15 minutes" in page
    assert response["Retry-After"] == str(15 * 60)


def test_the_account_stays_locked_from_another_address(db, make_user):
    user = make_user()
    for _ in range(LIMIT):
        attempt(Client(), APP_LOGIN, user.username, "wrong password", ip="203.0.113.7")

    response = attempt(Client(), APP_LOGIN, user.username, PASSWORD, ip="198.51.100.20")

    assert response.status_code == 429


def test_one_address_is_locked_across_usernames(db, make_user):
    victim = make_user()
    client = Client()
    for n in range(LIMIT):
        attempt(client, APP_LOGIN, f"guess{n}", "wrong password", ip="203.0.113.9")

    response = attempt(client, APP_LOGIN, victim.username, PASSWORD, ip="203.0.113.9")
    assert response.status_code == 429
    assert not signed_in(client)

    # The same account from another address is not locked: only the address is.
    other = Client()
    assert attempt(other, APP_LOGIN, victim.username, PASSWORD, ip="198.51.100.30").status_code == 302
    assert signed_in(other)


def test_the_lock_ends_after_the_cool_off(db, make_user):
    user = make_user()
    client = Client()
    for _ in range(LIMIT):
        attempt(client, APP_LOGIN, user.username, "wrong password")
    assert attempt(client, APP_LOGIN, user.username, PASSWORD).status_code == 429

    # Move the recorded failures back past the cool-off instead of waiting it out.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    response = attempt(client, APP_LOGIN, user.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_a_successful_login_clears_only_that_accounts_failures(db, make_user):
    user, other = make_user(), make_user()
    client = Client()
    for _ in range(LIMIT - 2):
        attempt(client, APP_LOGIN, user.username, "wrong password", ip="198.51.100.1")
    attempt(client, APP_LOGIN, other.username, "wrong password", ip="198.51.100.1")

    assert attempt(client, APP_LOGIN, user.username, PASSWORD, ip="198.51.100.1").status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    # Another account's failures from the same address still count against the address.
    assert AccessAttempt.objects.filter(username=other.username).exists()

    # So the account gets its full budget again.
    fresh = Client()
    for _ in range(LIMIT - 1):
        attempt(fresh, APP_LOGIN, user.username, "wrong password", ip="198.51.100.2")
    assert attempt(fresh, APP_LOGIN, user.username, PASSWORD, ip="198.51.100.2").status_code == 302


def test_the_lockout_page_is_translated(db, make_user):
    user = make_user()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"
    for _ in range(LIMIT):
        attempt(client, APP_LOGIN, user.username, "wrong password")
    response = attempt(client, APP_LOGIN, user.username, PASSWORD)
    assert response.status_code == 429
    assert 'lang="pl"' in response.content.decode()
