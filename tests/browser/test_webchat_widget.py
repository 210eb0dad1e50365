"""The web chat widget in real Chromium, embedded in a page of another site, against a real ASGI server
and a real Celery worker: visitor message in, agent reply out, history after a reload."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections

from accounts.roles import Role
from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from channels_app.webchat.identity import user_hash
from profiles.models import IdentityKind
from tests.browser.asgi_server import asgi_server
from tests.browser.other_site import host_site
from tests.conftest import PASSWORD
from tests.workers import free_port, wait_until
from tickets.models import Direction, Message
from tickets.replies import do_send_reply

pytestmark = [pytest.mark.browser, pytest.mark.integration]
IDENTITY_SECRET = "browser-identity-secret-0123456789"

# The host page styles buttons, text areas and everything else aggressively: none of it may reach the
# widget inside its shadow root.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<style>
  * {{ font-family: Georgia, serif !important; }}
  body {{ margin: 0; padding: 40px; background: #f4efe6; color: #3b2f2f; }}
  button {{ background: #ff00aa !important; border: 5px dashed lime !important; }}
  textarea, .panel, .launcher {{ display: none !important; }}
</style></head>
<body>
  <h1>Example shop</h1>
  <p>Handmade ceramics, shipped across Europe.</p>
  <button type="button">Add to basket</button>
  {identify}
  <script src="{script_url}" data-channel="{channel_id}" async></script>
</body></html>
"""


def in_thread(function, **kwargs):
    """Services publish to the channel layer through async_to_sync, which refuses to run in this thread:
    Playwright's event loop lives here."""

    def run():
        try:
            return function(**kwargs)
        finally:
            connections.close_all()  # the thread's own connection would keep the test database open

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def page_html(base: str, channel_id: int, identify: str = "") -> str:
    return HOST_PAGE.format(script_url=f"{base}/widget/chat.js", channel_id=channel_id, identify=identify)


def test_visitor_chats_gets_a_live_reply_and_keeps_history(stack, page, agent, tmp_path):
    from playwright.sync_api import expect

    log, base = tmp_path / "services.log", stack
    # The host page's address is only known once it listens; the origin list is set right after.
    channel = do_create_channel(kind="webchat", name="Shop chat")
    with host_site(page_html(base, channel.pk)) as site:
        channel.config = {"allowed_origins": [site]}
        channel.save()
        page.goto(site)

        launcher = page.get_by_role("button", name="Open chat")
        expect(launcher).to_be_visible()
        launcher.click()
        panel = page.get_by_role("dialog", name="Chat with us")
        expect(panel).to_be_visible()
        box = page.get_by_role("textbox", name="Message")
        expect(box).to_be_focused()
        expect(panel.get_by_text("Send us a message and we will reply here.")).to_be_visible()

        box.fill("Hello! Do you ship to Kraków?")
        box.press("Enter")
        expect(panel.get_by_test_id("message-in")).to_contain_text("Do you ship to Kraków?")
        wait_until(
            lambda: Message.objects.filter(direction=Direction.INBOUND).exists(),
            60,
            lambda: f"{list(InboundEvent.objects.values('status', 'error'))}\n{log.read_text()}",
        )
        message = Message.objects.select_related("conversation__customer").get()
        assert message.body == "Hello! Do you ship to Kraków?"
        assert message.channel_id == channel.pk
        assert InboundEvent.objects.get().status == InboundStatus.DONE
        identity = message.conversation.customer.identities.get()
        assert identity.kind == IdentityKind.WEBCHAT

        agent.first_name = "Marta"
        agent.save()
        in_thread(
            do_send_reply,
            conversation=message.conversation,
            author=agent,
            channel=channel,
            text="Yes, in 2 to 3 days.",
        )
        reply = panel.get_by_test_id("message-out")
        expect(reply).to_contain_text("Yes, in 2 to 3 days.", timeout=30_000)
        expect(reply).to_contain_text("Marta")
        wait_until(
            lambda: OutboundMessage.objects.filter(status=OutboundStatus.SENT).exists(), 30, log.read_text
        )

        # The shadow root keeps the host page's "hide every textarea" and pink buttons out.
        send = page.get_by_role("button", name="Send")
        assert send.evaluate("b => getComputedStyle(b).borderStyle") != "dashed"
        assert "Georgia" not in box.evaluate("t => getComputedStyle(t).fontFamily")
        page.screenshot(path=str(tmp_path / "open.png"))

        page.reload()
        panel = page.get_by_role("dialog", name="Chat with us")
        expect(panel).to_be_visible()  # it was open before the reload
        expect(panel.get_by_test_id("message-in")).to_contain_text("Do you ship to Kraków?")
        expect(panel.get_by_test_id("message-out")).to_contain_text("Yes, in 2 to 3 days.")

        box = page.get_by_role("textbox", name="Message")
        box.focus()
        box.press("Escape")
        expect(panel).to_be_hidden()
        expect(page.get_by_role("button", name="Open chat")).to_be_focused()
        # Left open for the screenshot the fixture takes at teardown.
        page.get_by_role("button", name="Open chat").click()
        expect(panel).to_be_visible()


def test_signed_visitor_is_recognised_and_foreign_sites_are_refused(stack, page, tmp_path):
    from playwright.sync_api import expect

    base = stack
    channel = do_create_channel(
        kind="webchat", name="Shop chat", credentials={"identity_secret": IDENTITY_SECRET}
    )
    identify = (
        "<script>window.cxmChat = {userId: 'customer-17', "
        f"userHash: '{user_hash(IDENTITY_SECRET, 'customer-17')}', name: 'Ada Nowak'}};</script>"
    )
    with host_site(page_html(base, channel.pk, identify)) as site:
        channel.config = {"allowed_origins": [site]}
        channel.save()
        page.goto(site)
        page.get_by_role("button", name="Open chat").click()
        box = page.get_by_role("textbox", name="Message")
        box.fill("Signed in question")
        box.press("Enter")
        wait_until(lambda: Message.objects.exists(), 60, (tmp_path / "services.log").read_text)
        kinds = set(Message.objects.get().conversation.customer.identities.values_list("kind", flat=True))
        assert kinds == {IdentityKind.EXTERNAL_ID, IdentityKind.WEBCHAT}

        # The same page on a site that is not on the list gets no widget at all.
        channel.config = {"allowed_origins": ["https://elsewhere.example"]}
        channel.save()
        page.evaluate("localStorage.clear(); sessionStorage.clear()")
        with page.expect_websocket() as opened:
            page.reload()
        opened.value.wait_for_event("close")
        expect(page.locator("#cxm-chat")).to_have_count(0)


def test_channel_page_offers_the_snippet_to_copy(live_server, page, make_user):
    from playwright.sync_api import expect

    make_user(Role.ADMIN, username="ola")
    channel = do_create_channel(
        kind="webchat",
        name="Shop chat",
        config={"allowed_origins": ["https://shop.example.com"]},
        credentials={"identity_secret": IDENTITY_SECRET},
    )
    page.goto(f"{live_server.url}/settings/channels/{channel.pk}/")
    page.fill("input[name=username]", "ola")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    section = page.get_by_test_id("webchat-snippet")
    expect(section.get_by_test_id("webchat-snippet-code")).to_have_text(
        f'<script src="{live_server.url}/widget/chat.js" data-channel="{channel.pk}" async></script>'
    )
    expect(section.get_by_test_id("webchat-origins")).to_contain_text("https://shop.example.com")
    section.get_by_test_id("webchat-snippet-code").scroll_into_view_if_needed()


def test_widget_reconnects_and_sends_what_was_typed_while_offline(transactional_db, page, tmp_path):
    from playwright.sync_api import expect

    log, port = tmp_path / "services.log", free_port()
    base = f"http://127.0.0.1:{port}"
    channel = do_create_channel(kind="webchat", name="Shop chat")
    with host_site(page_html(base, channel.pk)) as site:
        with asgi_server(port=port, redis_url=settings.REDIS_URL, log=log):
            page.goto(site)
            page.get_by_role("button", name="Open chat").click()
            panel = page.get_by_role("dialog", name="Chat with us")
            expect(panel.get_by_test_id("status")).to_be_empty()

        # The server went away (a deploy, a dropped network): the widget says so and keeps what is typed.
        expect(panel.get_by_test_id("status")).to_have_text("Connection lost. Reconnecting…", timeout=30_000)
        box = page.get_by_role("textbox", name="Message")
        box.fill("Typed while offline")
        box.press("Enter")
        expect(panel.get_by_test_id("message-in")).to_contain_text("Sending…")
        assert not InboundEvent.objects.exists()

        with asgi_server(port=port, redis_url=settings.REDIS_URL, log=log):
            expect(panel.get_by_test_id("status")).to_be_empty(timeout=30_000)
            expect(panel.get_by_test_id("message-in")).not_to_contain_text("Sending…")
            wait_until(lambda: InboundEvent.objects.exists(), 60, log.read_text)
            assert json.loads(bytes(InboundEvent.objects.get().body))["text"] == "Typed while offline"
            # After a reload the message is shown once, from the server's history (it is still pending).
            page.reload()
            panel = page.get_by_role("dialog", name="Chat with us")
            expect(panel.get_by_test_id("message-in")).to_have_count(1)
            expect(panel.get_by_test_id("message-in")).not_to_contain_text("Sending…")
            assert InboundEvent.objects.count() == 1
