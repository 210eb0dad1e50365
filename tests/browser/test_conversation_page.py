"""The conversation page in real Chromium against the real ASGI server: a reply through another channel of
the same customer, and an HTML mail whose scripts never run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.models import OutboundMessage
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.browser.conftest import screenshot_path
from tests.browser.session import sign_in
from tests.workers import wait_until
from tickets.models import Conversation, Direction, InternalNote, Label, Message

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOT = screenshot_path("browser-conversation.png")

# Stored as-is, bypassing the inbound sanitizer: the page must hold even against a row written some other
# way. postMessage crosses origins, so a script that ran inside the frame would be seen by the parent.
HOSTILE_MAIL = """
<p>Hello, the invoice you sent has the wrong VAT number. Could you correct it?</p>
<p>Thanks,<br>Anna</p>
<script>window.parent.pwned = 1; parent.postMessage("pwned", "*");</script>
<img src="x" onerror="parent.postMessage('pwned', '*')">
<svg onload="parent.postMessage('pwned', '*')"></svg>
<a href="javascript:parent.postMessage('pwned','*')">details</a>
<img src="https://example.invalid/pixel.gif" alt="">
"""


def build(agent) -> Conversation:
    now = timezone.now().replace(microsecond=0)
    team = Team.objects.create(name="Support")
    agent.teams.add(team)
    email = do_create_channel(kind="email", name="Support mailbox", address="help@acme.test", teams=[team])
    telegram = do_create_channel(kind="telegram", name="Acme Bot", teams=[team])
    do_create_channel(kind="sms", name="Acme SMS", teams=[team])
    anna = Customer.objects.create(name="Anna Kowalska", company="Kowalska Consulting", location="Kraków")
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna@kowalska.pl", verified=True)
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="501234567")
    Identity.objects.create(customer=anna, kind=IdentityKind.PHONE, value="+48601234567")
    conv = Conversation.objects.create(
        customer=anna,
        channel=email,
        subject="Invoice for March",
        created_at=now - timedelta(hours=3),
        last_activity_at=now - timedelta(minutes=20),
    )
    Message.objects.create(
        conversation=conv,
        channel=email,
        direction=Direction.INBOUND,
        subject="Invoice for March",
        body="Hello, the invoice you sent has the wrong VAT number.",
        html=HOSTILE_MAIL,
        created_at=now - timedelta(hours=3),
    )
    Message.objects.create(
        conversation=conv,
        channel=email,
        direction=Direction.OUTBOUND,
        author=agent,
        body="Sorry about that, Anna — which VAT number should it show?",
        created_at=now - timedelta(hours=2),
    )
    note = InternalNote.objects.create(
        conversation=conv, author=agent, body="Finance must reissue; ask @marta."
    )
    # created_at is auto_now_add: move it between the messages it was written among.
    InternalNote.objects.filter(pk=note.pk).update(created_at=now - timedelta(minutes=90))
    Message.objects.create(
        conversation=conv,
        channel=telegram,
        direction=Direction.INBOUND,
        body="PL5260250995, thanks! Writing here, easier on the phone.",
        created_at=now - timedelta(minutes=20),
    )
    old = Conversation.objects.create(
        customer=anna, channel=telegram, subject="Order 1042", created_at=now - timedelta(days=9),
        last_activity_at=now - timedelta(days=9), status="resolved",
    )  # fmt: skip
    survey = Survey.objects.create(kind=SurveyKind.NPS, name="After support")
    SurveyResponse.objects.create(
        survey=survey, customer=anna, conversation=old, channel=telegram, score=9, created_at=now
    )
    conv.labels.add(Label.objects.create(name="Billing", color="amber"))
    return conv


def test_reply_through_another_channel_and_mail_scripts_never_run(server, page, make_user):
    from playwright.sync_api import expect

    agent = make_user(Role.AGENT, first_name="Marta", last_name="Nowak", username="marta")
    conv = build(agent)
    sign_in(page, server, agent)
    page.add_init_script("window.__messages = []; addEventListener('message', e => __messages.push(e.data));")

    page.goto(f"{server}/inbox/{conv.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice for March")
    thread = page.get_by_test_id("thread")
    expect(thread.get_by_test_id("message")).to_have_count(3)
    expect(thread.get_by_test_id("note")).to_contain_text("Finance must reissue")
    # The last inbound message came through Telegram: that is the default way back.
    expect(page.get_by_test_id("reply-channel").locator("option:checked")).to_contain_text("Acme Bot")

    # The mail frame: sandboxed, and nothing in it ran.
    frame = page.locator("iframe.mail-iframe")
    expect(frame).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox")
    # Once the frame's body is there its scripts would have run: no fixed wait needed.
    expect(page.frame_locator("iframe.mail-iframe").locator("body")).to_contain_text("wrong VAT number")
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("window.__messages") == []

    # Reply by SMS instead: the segment count follows the text.
    page.get_by_test_id("reply-channel").select_option(label="SMS · Acme SMS → +48601234567")
    text = "Corrected invoice is on its way to anna@kowalska.pl."
    page.get_by_test_id("reply-text").fill(text)
    counter = page.get_by_test_id("sms-counter")
    expect(counter).to_be_visible()
    expect(counter).to_have_attribute("data-segments", "1")
    expect(counter).to_have_attribute("data-encoding", "GSM-7")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("reply-sent")).to_be_visible()
    expect(thread.get_by_test_id("message")).to_have_count(4)
    expect(thread.get_by_test_id("message").last).to_contain_text(text)
    expect(thread.get_by_test_id("message").last).to_have_attribute("data-channel-kind", "sms")

    outbound = OutboundMessage.objects.select_related("channel", "message").get()
    assert outbound.channel.kind == "sms"
    assert outbound.recipient == "+48601234567"
    assert outbound.message.author == agent and outbound.payload["text"] == text

    # "Show images" swaps in a frame that may load https images; still no script ran.
    page.get_by_test_id("show-images").click()
    expect(page.get_by_test_id("show-images")).to_have_count(0)
    assert page.evaluate("window.__messages") == []

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOT))


def test_keyboard_shortcuts_reply_note_assign_and_resolve(server, page, make_user):
    from playwright.sync_api import expect

    agent = make_user(Role.AGENT, first_name="Marta", last_name="Nowak", username="marta")
    conv = build(agent)
    sign_in(page, server, agent)
    page.goto(f"{server}/inbox/{conv.pk}/")
    page.locator("body").click(position={"x": 5, "y": 5})

    page.keyboard.press("r")
    expect(page.get_by_test_id("reply-text")).to_be_focused()
    page.get_by_test_id("reply-text").blur()
    page.keyboard.press("n")
    expect(page.get_by_test_id("note-body")).to_be_focused()
    page.get_by_test_id("note-body").blur()

    page.keyboard.press("a")
    expect(page.get_by_test_id("assignee").locator("option:checked")).to_contain_text("Marta")
    page.keyboard.press("e")
    expect(page.get_by_test_id("status-resolved")).to_have_attribute("aria-pressed", "true")
    conv.refresh_from_db()
    assert (conv.assignee_id, conv.status) == (agent.pk, "resolved")

    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts-help")).to_contain_text("Write an internal note")


def test_an_assignment_notice_becomes_a_desktop_notification_while_the_tab_is_hidden(server, page, make_user):
    from playwright.sync_api import expect

    from core import realtime

    agent = make_user(Role.AGENT, first_name="Marta", last_name="Nowak", username="marta")
    sign_in(page, server, agent)
    # A stand-in for the browser's Notification API (granted) and a tab in the background.
    page.add_init_script(
        """
        window.__shown = [];
        window.Notification = function (title, options) { window.__shown.push([title, options.tag]); };
        window.Notification.permission = "granted";
        Object.defineProperty(document, "hidden", { get: () => true });
        """
    )
    page.goto(f"{server}/inbox/")
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "connected")
    realtime.publish_now(
        [realtime.user_group(agent.pk)],
        realtime.SYSTEM_NOTICE,
        {"level": "info", "text": "New conversation assigned to you", "url": "/inbox/42/"},
    )
    wait_until(lambda: page.evaluate("window.__shown.length === 1"), 60)
    assert page.evaluate("window.__shown") == [["New conversation assigned to you", "/inbox/42/"]]
