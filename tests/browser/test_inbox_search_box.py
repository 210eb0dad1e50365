"""The inbox's search box: `/` puts the cursor in it from anywhere on the page, Enter searches."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.browser.session import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_slash_focuses_the_inbox_search_and_enter_opens_the_results(live_server, page, make_user):
    sign_in(page, live_server.url, make_user(Role.AGENT))
    page.goto(f"{live_server.url}/inbox/?status=open")
    box = page.locator('[data-testid="inbox-search"] input[name="q"]')
    assert box.is_visible()

    page.locator("body").press("/")
    assert box.evaluate("(el) => el === document.activeElement")
    assert box.input_value() == ""  # the key itself is not typed into the box

    box.fill("zamówienie 50931")
    with page.expect_navigation():
        box.press("Enter")
    assert "/inbox/search/?q=zam" in page.url and "status=open" in page.url
    assert page.get_by_test_id("search-input").input_value() == "zamówienie 50931"
    assert page.locator('[data-nav="inbox"]').get_attribute("aria-current") == "page"
