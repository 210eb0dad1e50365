"""The dashboards in Chromium on seeded data: every view opens, filters and the range change without a
reload and land in the URL, a number drills into its conversations and on into one conversation, the
export downloads, and an open overview picks up new numbers when the socket says something changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from accounts.services import do_create_user
from core import realtime
from tests.analytics import reporting_builders as rb
from tests.analytics.test_views_dashboards import build_workspace
from tests.browser.conftest import screenshot_path
from tests.browser.session import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TABS = (
    ("dashboards", "/dashboards/"),
    ("surveys", "/dashboards/surveys/"),
    ("operations", "/dashboards/operations/"),
    ("people", "/dashboards/people/"),
    ("journey", "/dashboards/journey/"),
    ("loop", "/dashboards/closed-loop/"),
    ("me", "/dashboards/me/"),
)


def test_a_manager_filters_drills_down_and_exports(server, page):
    from playwright.sync_api import expect

    base = server
    ws = build_workspace()
    manager = do_create_user(username="mona", password=None, role=Role.MANAGER, first_name="Mona")
    sign_in(page, base, manager)

    page.goto(f"{base}/dashboards/?tz=UTC")
    expect(page.get_by_test_id("headline-created").get_by_test_id("headline-value")).to_have_text("4")
    page.evaluate("window.__sameDocument = true")

    # The range and a filter change through htmx: new numbers, the URL follows, no reload.
    page.get_by_test_id("filter-range").select_option("today")
    expect(page).to_have_url(re.compile(r"range=today"))
    expect(page.get_by_test_id("headline-created").get_by_test_id("headline-value")).to_have_text("0")
    page.get_by_test_id("filter-range").select_option("30d")
    expect(page.get_by_test_id("headline-created").get_by_test_id("headline-value")).to_have_text("4")
    page.get_by_test_id("filter-channel").select_option(str(ws.sms.pk))
    expect(page).to_have_url(re.compile(rf"channel={ws.sms.pk}"))
    expect(page.get_by_test_id("headline-created").get_by_test_id("headline-value")).to_have_text("2")
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(screenshot_path("dashboard-overview-filtered.png")), full_page=True)

    # Every view opens with the filters kept.
    for key, path in TABS:
        page.goto(f"{base}{path}?tz=UTC")
        expect(page.get_by_test_id("dashboard-numbers")).to_be_visible()
        if key in ("dashboards", "operations", "surveys"):
            page.screenshot(path=str(screenshot_path(f"dashboard-{key}.png")), full_page=False)

    # Drill: a bar of the volume table, its list, then one conversation.
    page.goto(f"{base}/dashboards/operations/?tz=UTC")
    page.get_by_test_id("ops-created").locator("a").click()
    expect(page.get_by_test_id("drill-count")).to_have_attribute("data-count", "4")
    expect(page.get_by_test_id("drill-row")).to_have_count(4)
    page.get_by_test_id("drill-conversation").first.click()
    expect(page).to_have_url(re.compile(r"/inbox/\d+/$"))

    # Export from the filtered view.
    page.goto(f"{base}/dashboards/?range=7d&tz=UTC")
    with page.expect_download() as download:
        page.get_by_test_id("export-export_conversations-csv").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_an_open_overview_refreshes_when_the_socket_says_numbers_moved(server, page):
    from playwright.sync_api import expect

    base = server
    ws = build_workspace()
    manager = do_create_user(username="milo", password=None, role=Role.MANAGER)
    sign_in(page, base, manager)
    page.goto(f"{base}/dashboards/?range=30d&tz=UTC")
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "connected", timeout=60_000)
    value = page.get_by_test_id("headline-created").get_by_test_id("headline-value")
    expect(value).to_have_text("4")
    page.evaluate("window.__sameDocument = true")

    conv = rb.conversation(ws.sms, timezone.now() - timedelta(minutes=5), team=ws.red)
    rb.inbound(conv, conv.created_at)
    call_command("rebuild_reporting", verbosity=0)
    realtime.publish_now(
        [realtime.role_group(Role.MANAGER)], "dashboards.changed", {"kind": "answers", "count": 1}
    )
    expect(value).to_have_text("5", timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_the_dashboards_fit_the_screen_in_each_language(server, page, language):
    from playwright.sync_api import expect

    base = server
    build_workspace()
    manager = do_create_user(username=f"lang-{language}", password=None, role=Role.MANAGER, language=language)
    sign_in(page, base, manager)
    for key, path in TABS[:3]:
        page.goto(f"{base}{path}?tz=UTC")
        expect(page.get_by_test_id("dashboard-numbers")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px too wide in {language}"
        page.screenshot(path=str(screenshot_path(f"dashboard-{key}-{language}.png")))
