"""Finding 8: a TOTP second factor with recovery codes, for the app login and the Django admin."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.roles import Role
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
SECURITY = "/settings/security/"


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def password_login(client: Client, user, url: str = LOGIN, **extra):
    return client.post(url, {"username": user.username, "password": PASSWORD, **extra})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def enable_second_factor(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Through the pages, as a user would: start, read the secret, confirm with a code."""
    assert client.post(f"{SECURITY}setup/").status_code == 302
    page = client.get(SECURITY).content.decode()
    assert "<svg" in page and 'data-testid="totp-secret"' in page
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(f"{SECURITY}confirm/", {"code": totp_code(device)})
    assert response.status_code == 200
    codes = re.findall(r"data-recovery-code>([a-z2-7]{4}-[a-z2-7]{4})<", response.content.decode())
    device.refresh_from_db()
    return device, codes


@pytest.fixture
def user_with_factor(make_user):
    user = make_user(Role.ADMIN)
    client = Client()
    client.force_login(user)
    device, codes = enable_second_factor(client)
    return user, device, codes


def test_setup_shows_qr_and_secret_then_ten_recovery_codes_once(db, make_user):
    user = make_user()
    client = Client()
    client.force_login(user)
    assert 'data-testid="start-setup"' in client.get(SECURITY).content.decode()

    device, codes = enable_second_factor(client)

    assert device.confirmed and device.user == user
    secret = device.config_url.split("secret=")[1].split("&")[0]
    assert device.config_url.startswith("otpauth://totp/CXM%3A") and len(secret) == 32
    assert len(codes) == 10 == len(set(codes))
    page = client.get(SECURITY).content.decode()
    assert "10 recovery codes left" in page
    assert not any(code in page for code in codes)  # shown once, never again


def test_a_wrong_code_does_not_turn_it_on(db, make_user):
    client = Client()
    client.force_login(make_user())
    client.post(f"{SECURITY}setup/")
    response = client.post(f"{SECURITY}confirm/", {"code": "000000"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_login_asks_for_the_code_after_the_password(db, user_with_factor):
    user, device, _ = user_with_factor
    client = Client()

    response = password_login(client, user, next="/inbox/")
    assert response.status_code == 302 and not signed_in(client)
    prompt = client.get(LOGIN)
    assert 'data-testid="login-code-form"' in prompt.content.decode()
    assert client.get("/inbox/").status_code == 302  # nothing is open yet

    wrong = client.post(LOGIN, {"code": "123456"})
    assert wrong.status_code == 400 and not signed_in(client)
    # django-otp makes the next try wait a moment after a wrong one; don't wait in a test.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

    response = client.post(LOGIN, {"code": totp_code(device, steps_ahead=1)})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert signed_in(client)
    assert client.get("/inbox/").status_code == 200


def test_the_admin_login_asks_for_the_same_code(db, user_with_factor):
    user, device, _ = user_with_factor
    client = Client()

    response = password_login(client, user, url="/admin/login/")
    assert response.status_code == 302 and not signed_in(client)
    assert client.get("/admin/").status_code == 302

    response = client.post("/admin/login/", {"code": totp_code(device, steps_ahead=1)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(db, user_with_factor):
    user, _, codes = user_with_factor
    first = Client()
    password_login(first, user)
    assert first.post(LOGIN, {"code": codes[0].upper()}).status_code == 302
    assert signed_in(first)
    assert StaticToken.objects.filter(device__user=user).count() == 9

    second = Client()
    password_login(second, user)
    assert second.post(LOGIN, {"code": codes[0]}).status_code == 400
    assert not signed_in(second)


def test_new_recovery_codes_replace_the_old_ones(db, user_with_factor):
    user, _, codes = user_with_factor
    client = Client()
    password_login(client, user)
    client.post(LOGIN, {"code": codes[0]})
    response = client.post(f"{SECURITY}recovery-codes/")
    new_codes = re.findall(r"data-recovery-code>([a-z2-7-]{9})<", response.content.decode())
    assert len(new_codes) == 10
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {code.replace("-", "") for code in new_codes}
    assert mfa.verify_second_factor(user=user, code=new_codes[0]) is not None


def test_wrong_codes_lock_the_account_like_wrong_passwords(db, user_with_factor, settings):
    user, device, _ = user_with_factor
    client = Client()
    password_login(client, user)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"code": "000000"})
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = client.post(LOGIN, {"code": totp_code(device, steps_ahead=1)})
    assert response.status_code == 429
    assert not signed_in(client)


def test_a_session_that_skipped_the_code_is_ended(db, user_with_factor):
    user, _, _ = user_with_factor
    client = Client()
    client.force_login(user)  # any way in other than the code step
    assert client.get("/inbox/").status_code == 302
    assert not signed_in(client)


def test_the_role_policy_sends_users_without_a_factor_to_set_one_up(db, make_user):
    admin, agent = make_user(Role.ADMIN), make_user(Role.AGENT)
    admin_client = Client()
    admin_client.force_login(admin)
    assert admin_client.post(f"{SECURITY}policy/", {"roles": ["agent"]}).status_code == 302
    assert mfa.required_roles() == {"agent"}

    client = Client()
    response = password_login(client, agent)
    assert response.status_code == 302 and signed_in(client)
    for path in ("/inbox/", "/customers/", "/surveys/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == SECURITY, path
    htmx = client.get("/inbox/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == SECURITY
    assert 'data-testid="setup-required"' in client.get(SECURITY).content.decode()

    enable_second_factor(client)
    assert client.get("/inbox/").status_code == 200

    # Managers are not required: they sign in as before.
    manager_client = Client()
    password_login(manager_client, make_user(Role.MANAGER))
    assert manager_client.get("/inbox/").status_code == 200


def test_only_admins_set_the_policy(db, agent_client):
    assert agent_client.post(f"{SECURITY}policy/", {"roles": ["agent"]}).status_code == 403
    assert mfa.required_roles() == set()


def test_adding_the_factor_ends_the_users_other_sessions(db, make_user):
    user = make_user()
    elsewhere, here = Client(), Client()
    password_login(elsewhere, user)
    password_login(here, user)
    assert elsewhere.get("/inbox/").status_code == 200
    key_before = here.session.session_key

    enable_second_factor(here)

    assert elsewhere.get("/inbox/").status_code == 302
    assert not signed_in(elsewhere)
    assert here.get("/inbox/").status_code == 200
    assert here.session.session_key != key_before


def test_removing_the_factor_needs_a_code_or_the_password_and_ends_other_sessions(db, user_with_factor):
    user, _, codes = user_with_factor
    elsewhere, here = Client(), Client()
    for client, code in ((elsewhere, codes[0]), (here, codes[1])):
        password_login(client, user)
        client.post(LOGIN, {"code": code})
        assert client.get("/inbox/").status_code == 200
    key_before = here.session.session_key

    refused = here.post(f"{SECURITY}remove/", {"code": "000000", "password": "not it"})
    assert refused.status_code == 400
    assert mfa.has_second_factor(user)

    assert here.post(f"{SECURITY}remove/", {"password": PASSWORD}).status_code == 302
    assert not mfa.has_second_factor(user)
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert elsewhere.get("/inbox/").status_code == 302
    assert here.get("/inbox/").status_code == 200
    assert here.session.session_key != key_before

    # And the next login asks for the password only.
    again = Client()
    assert password_login(again, user).status_code == 302 and signed_in(again)
