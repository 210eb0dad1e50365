"""The customer profile page in real Chromium against the real ASGI server (uvicorn, websockets included):
a journey across channels in order, a merge accepted and undone, a note added, older entries loaded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import (
    AttributeDefinition,
    AttributeType,
    Customer,
    CustomerEvent,
    Identity,
    IdentityKind,
    MergeLog,
    Tag,
    TimelineEntry,
    TimelineKind,
)
from profiles.services import do_add_note, do_suggest_merge
from profiles.timeline import (
    event_entries,
    record_conversation_resolved,
    record_message,
    record_survey_answer,
)
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.browser.conftest import screenshot_path
from tests.browser.session import sign_in
from tickets.models import Conversation, ConversationStatus, Direction, Message

pytestmark = [pytest.mark.browser, pytest.mark.integration]
SCREENSHOT = screenshot_path("browser-profile.png")


def talk(conv: Conversation, text: str, *, at, direction=Direction.INBOUND, new=False) -> Message:
    message = Message.objects.create(
        conversation=conv, channel=conv.channel, direction=direction, body=text, created_at=at
    )
    record_message(message, new_conversation=new)
    conv.last_activity_at = at
    conv.save(update_fields=["last_activity_at"])
    return message


def build_people(agent: User) -> tuple[Customer, Customer]:
    """Anna, who wrote on Telegram and by email, and a WhatsApp profile that is probably her too."""
    now = timezone.now().replace(second=0, microsecond=0)
    # The agent's team owns the channels: the journey shows only conversations the viewer may open.
    support = Team.objects.create(name="Support")
    support.members.add(agent)
    telegram = do_create_channel(kind="telegram", name="Acme Bot", teams=[support])
    email = do_create_channel(kind="email", name="Support mailbox", teams=[support])
    whatsapp = do_create_channel(kind="whatsapp", name="Acme WhatsApp", teams=[support])

    anna = Customer.objects.create(
        name="Anna Kowalska",
        company="Kowalska Consulting",
        location="Kraków, Poland",
        locale="pl",
        timezone="Europe/Warsaw",
        last_seen_at=now - timedelta(minutes=25),
        attributes={"plan": "Business", "seats": 12, "renewal": "2027-01-31", "vip": True},
        consent={
            "email": {"status": "granted", "at": (now - timedelta(days=40)).isoformat(), "source": "signup"},
            "sms": {
                "status": "withdrawn",
                "at": (now - timedelta(days=9)).isoformat(),
                "source": "reply STOP",
            },
        },
    )
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type=AttributeType.CHOICE, choices=["Starter", "Business"]
    )
    AttributeDefinition.objects.create(key="seats", label="Seats", type=AttributeType.NUMBER)
    AttributeDefinition.objects.create(key="renewal", label="Renewal", type=AttributeType.DATE)
    AttributeDefinition.objects.create(key="vip", label="VIP", type=AttributeType.BOOLEAN)
    anna.tags.add(Tag.objects.create(name="Key account", color="indigo"))
    anna.tags.add(Tag.objects.create(name="Renewal Q1", color="amber"))
    Identity.objects.create(
        customer=anna, kind=IdentityKind.TELEGRAM, value="501234567", display="Anna K", verified=True
    )
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna@kowalska.pl", verified=True)
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna.kowalska@gmail.com")
    Identity.objects.create(customer=anna, kind=IdentityKind.PHONE, value="+48601234567")

    start = now - timedelta(days=3)
    chat = Conversation.objects.create(
        customer=anna, channel=telegram, subject="Order 1042", created_at=start, last_activity_at=start
    )
    talk(chat, "Hi! My order 1042 has not arrived yet. Can you check?", at=start, new=True)
    talk(
        chat,
        "Sorry for the wait, Anna. It left our warehouse today; tracking: PL-88412.",
        at=start + timedelta(minutes=7),
        direction=Direction.OUTBOUND,
    )
    talk(chat, "Great, thank you!", at=start + timedelta(minutes=9))
    chat.status = ConversationStatus.RESOLVED
    chat.resolved_at = start + timedelta(minutes=12)
    chat.save()
    record_conversation_resolved(chat, at=start + timedelta(minutes=12))
    survey = Survey.objects.create(kind=SurveyKind.NPS, name="After support")
    answer = SurveyResponse.objects.create(
        survey=survey,
        customer=anna,
        conversation=chat,
        channel=telegram,
        score=9,
        comment="Quick and friendly.",
        created_at=start + timedelta(minutes=30),
    )
    record_survey_answer(answer)
    event = CustomerEvent.objects.create(
        customer=anna,
        name="order_delivered",
        client_event_id="shop-1042-delivered",
        occurred_at=now - timedelta(days=1, hours=2),
    )
    TimelineEntry.objects.bulk_create(event_entries([event]))
    mail = Conversation.objects.create(
        customer=anna,
        channel=email,
        subject="Invoice for March",
        created_at=now - timedelta(hours=3),
        last_activity_at=now - timedelta(hours=3),
    )
    talk(
        mail, "Could you resend the March invoice with our VAT number?", at=now - timedelta(hours=3), new=True
    )
    do_add_note(customer=anna, author=agent, body="Prefers Telegram; call only after 10:00.")

    other = Customer.objects.create(name="Ania K.", last_seen_at=now - timedelta(days=2))
    Identity.objects.create(customer=other, kind=IdentityKind.WHATSAPP, value="+48601234567")
    wa = Conversation.objects.create(
        customer=other,
        channel=whatsapp,
        subject="",
        created_at=now - timedelta(days=2),
        last_activity_at=now - timedelta(days=2),
    )
    talk(wa, "Hello, is the Business plan billed yearly?", at=now - timedelta(days=2), new=True)
    do_suggest_merge(
        customer=anna,
        other=other,
        evidence={"kind": "phone", "value": "+48601234567", "source": "signature", "verified": False},
    )
    return anna, other


def save_screenshot(page) -> None:
    """The whole page for docs/img. The viewport grows to the page's height for the shot, so the
    sticky, viewport-high sidebar runs down the whole image instead of stopping at 720 px."""
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    page.screenshot(path=str(SCREENSHOT))
    page.set_viewport_size({"width": 1280, "height": 720})


def entry_ids(page) -> list[int]:
    return [
        int(pk)
        for pk in page.locator("[data-entry-id]").evaluate_all("els => els.map(e => e.dataset.entryId)")
    ]


def newest_first(customer: Customer) -> list[int]:
    return list(
        TimelineEntry.objects.filter(customer=customer)
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )


def test_profile_shows_the_journey_and_a_merge_can_be_accepted_and_undone(server, page, make_user):
    from playwright.sync_api import expect

    agent = make_user(Role.AGENT, first_name="Marta", last_name="Nowak")
    anna, _other = build_people(agent)
    sign_in(page, server, agent)

    page.goto(f"{server}/customers/")
    page.get_by_role("link", name="Anna Kowalska").click()
    page.wait_for_url(f"{server}/customers/{anna.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anna Kowalska")
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "connected")

    # The journey: every channel in one list, newest first.
    timeline = page.get_by_test_id("timeline-list")
    assert entry_ids(page) == newest_first(anna)
    kinds = timeline.locator("li.tl-entry").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == [
        "message",
        "conversation_opened",
        "event",
        "survey_answer",
        "conversation_resolved",
        "message",
        "message",
        "message",
        "conversation_opened",
    ]
    channels = timeline.locator("li.tl-entry[data-channel]").evaluate_all(
        "els => els.map(e => e.dataset.channel)"
    )
    assert channels[:2] == ["email", "email"] and set(channels[2:]) == {"telegram"}
    expect(timeline.locator("li.tl-entry").first).to_contain_text("March invoice")
    expect(timeline.locator('li[data-kind="event"]')).to_contain_text("order_delivered")
    expect(timeline.locator('li[data-kind="conversation_resolved"]')).to_contain_text("Order 1042")
    expect(timeline).not_to_contain_text("billed yearly")  # the other profile's message
    identities = page.get_by_test_id("identities")
    expect(identities).not_to_contain_text("WhatsApp")

    # A note, added without leaving the page; the field is ready for the next one.
    box = page.get_by_role("textbox", name="New note")
    box.fill("Asked for the invoice again; sent by email.")
    box.press("Control+Enter")
    notes = page.get_by_test_id("note-list").locator("li")
    expect(notes.first).to_contain_text("Asked for the invoice again")
    expect(notes.first).to_contain_text("Marta Nowak")
    expect(page.get_by_role("textbox", name="New note")).to_be_focused()
    expect(page.get_by_role("textbox", name="New note")).to_have_value("")

    suggestion = page.get_by_test_id("suggestions")
    expect(suggestion).to_contain_text("Ania K.")
    expect(suggestion).to_contain_text("+48601234567")
    save_screenshot(page)

    # Accept: the other profile's identities and journey move here.
    suggestion.get_by_role("button", name="Merge profiles").click()
    page.wait_for_url(re.compile(rf"/customers/{anna.pk}/\?merged="))
    banner = page.get_by_test_id("merge-banner")
    expect(banner).to_contain_text("Ania K.")
    expect(identities).to_contain_text("WhatsApp")
    expect(identities.locator('[data-identity="+48601234567"]').first).to_be_visible()
    expect(timeline).to_contain_text("billed yearly")
    expect(timeline.locator('li[data-kind="merge"]')).to_have_count(1)
    expect(page.get_by_test_id("suggestions")).to_have_count(0)
    assert entry_ids(page) == newest_first(anna)
    expect(page.get_by_test_id("merges").get_by_role("button", name="Undo merge")).to_be_visible()

    # Undo, from the banner: everything that came with the merge leaves again.
    banner.get_by_role("button", name="Undo merge").click()
    page.wait_for_url(f"{server}/customers/{anna.pk}/")
    expect(page.get_by_test_id("toasts")).to_contain_text("Merge undone")
    expect(page.get_by_test_id("merge-banner")).to_have_count(0)
    expect(page.get_by_test_id("identities")).not_to_contain_text("WhatsApp")
    expect(page.get_by_test_id("timeline-list")).not_to_contain_text("billed yearly")
    expect(page.get_by_test_id("timeline-list").locator('li[data-kind="merge"]')).to_have_count(0)
    expect(page.get_by_test_id("suggestions")).to_contain_text("Ania K.")  # open again
    assert MergeLog.objects.get().undone_at is not None
    assert entry_ids(page) == newest_first(anna)


def test_older_entries_load_in_place_and_take_the_focus(server, page, make_user):
    from playwright.sync_api import expect

    agent = make_user(Role.AGENT)
    customer = Customer.objects.create(name="Long history")
    now = timezone.now()
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            customer=customer,
            occurred_at=now - timedelta(minutes=n // 3),  # threes share a minute: ties across pages
            kind=TimelineKind.EVENT,
            summary=f"step_{n}",
        )
        for n in range(130)
    )
    sign_in(page, server, agent)
    page.goto(f"{server}/customers/{customer.pk}/")
    rows = page.get_by_test_id("timeline-list").locator("li.tl-entry")
    expect(rows).to_have_count(50)

    older = page.get_by_test_id("timeline-older")
    older.focus()
    older.press("Enter")
    expect(rows).to_have_count(100)
    expect(rows.nth(50)).to_be_focused()
    page.get_by_test_id("timeline-older").click()
    expect(rows).to_have_count(130)
    expect(page.get_by_test_id("timeline-end")).to_be_visible()
    expect(page.get_by_test_id("timeline-older")).to_have_count(0)
    assert entry_ids(page) == newest_first(customer)
    assert page.url == f"{server}/customers/{customer.pk}/"
