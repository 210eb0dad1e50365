"""Logging out in one tab ends the live updates of the user's other tabs at once: their socket is closed
by the server (4401), and a message that a colleague's open inbox shows never reaches them."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import Customer
from tests.browser.session import serve_static, sign_in
from tests.workers import wait_until
from tickets import events
from tickets.models import Conversation, Direction, Message

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Watches the page's own socket: its close code, and every message.created the page is given.
WATCH = """() => {
  window.__closeCode = null;
  window.__received = [];
  window.cxm.socket.addEventListener("close", (event) => { window.__closeCode = event.code; });
  window.cxm.on("message.created", (payload) => window.__received.push(payload.preview));
}"""


def open_live_inbox(page, base: str):
    from playwright.sync_api import expect

    page.goto(f"{base}/inbox/")
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "connected")
    expect(page.get_by_test_id("inbox-row")).to_have_count(1)


def test_logout_in_another_tab_stops_live_updates_in_this_one(server, page, chromium_browser, make_user):
    from playwright.sync_api import expect

    base = server
    team = Team.objects.create(name="Support")
    agent = make_user(Role.AGENT, teams=[team], username="marta")
    colleague = make_user(Role.AGENT, teams=[team], username="piotr")
    channel = do_create_channel(kind="email", name="Support mailbox")
    channel.teams.set([team])
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=Customer.objects.create(name="Anna Kowalska"),
        channel=channel,
        created_at=now,
        last_activity_at=now,
    )

    sign_in(page, base, agent)
    # The app sends a closed-out tab to the login page; answering that navigation with 204 keeps this
    # tab on the inbox, so what it would have shown can be checked.
    page.route(re.compile(r"/accounts/login/"), lambda route: route.fulfill(status=204, body=""))
    open_live_inbox(page, base)
    page.evaluate(WATCH)

    watcher_context = chromium_browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    try:
        watcher = watcher_context.new_page()
        sign_in(watcher, base, colleague)
        open_live_inbox(watcher, base)
        watcher.evaluate(WATCH)

        other_tab = page.context.new_page()
        other_tab.route(re.compile(r"/static/"), serve_static)
        other_tab.goto(f"{base}/inbox/")
        other_tab.get_by_test_id("logout-form").get_by_role("button").click()
        other_tab.wait_for_url(re.compile(r"/accounts/login/"))

        # First the socket: the server closed it, and the page does not open another.
        # evaluate, not wait_for_function: its polling runs eval, which the app's CSP refuses.
        wait_until(lambda: page.evaluate("window.__closeCode !== null"), 60)
        assert page.evaluate("window.__closeCode") == 4401
        expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "offline")

        text = "Private: my card ends in 4242"
        message = Message.objects.create(
            conversation=conversation,
            channel=channel,
            direction=Direction.INBOUND,
            body=text,
            created_at=timezone.now(),
        )
        events.notify_message_created(message, new_conversation=False)

        # The colleague's inbox proves the event went out and renders; only then look at this tab.
        wait_until(lambda: watcher.evaluate("window.__received.length > 0"), 60)
        expect(watcher.get_by_test_id("inbox-row").first).to_contain_text(text)
        assert page.evaluate("window.__received") == []
        expect(page.get_by_test_id("inbox-row").first).not_to_contain_text(text)
        assert page.evaluate("window.cxm.socket") is None
        assert page.url == f"{base}/inbox/"
    finally:
        watcher_context.close()
