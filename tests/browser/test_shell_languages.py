from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAV = {
    "en": {"inbox": "Inbox", "customers": "Customers", "dashboards": "Dashboards", "settings": "Settings"},
    "pl": {"inbox": "Skrzynka", "customers": "Klienci", "dashboards": "Pulpity", "settings": "Ustawienia"},
    "ru": {"inbox": "Входящие", "customers": "Клиенты", "dashboards": "Дашборды", "settings": "Настройки"},
}


def _assert_nav(page, language: str) -> None:
    assert page.locator("html").get_attribute("lang") == language
    for key, label in NAV[language].items():
        assert page.locator(f'[data-nav="{key}"]').inner_text().strip() == label


def test_admin_logs_in_and_switches_language_to_polish_and_russian(live_server, page, make_user):
    make_user(Role.ADMIN, username="ola")
    page.goto(f"{live_server.url}/inbox/")
    assert "/accounts/login/" in page.url

    page.fill("input[name=username]", "ola")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    _assert_nav(page, "en")

    for language in ("pl", "ru"):
        switcher = page.locator('[data-testid="language-switcher"] select[name="language"]')
        with page.expect_navigation():
            switcher.select_option(language)
        assert page.url == f"{live_server.url}/inbox/"
        _assert_nav(page, language)

    # The choice is remembered on the account, so it follows the user to a fresh browser session.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "ola")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()
    _assert_nav(page, "ru")
