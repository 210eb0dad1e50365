"""A long thread opens on its newest messages; older ones load on demand and stay on live refresh."""

# Fixtures shared with test_conversation_page are imported, then named as test parameters.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets.models import Conversation, Direction, InternalNote, Message
from tickets.selectors_conversation import THREAD_PAGE

from .test_conversation_page import (  # noqa: F401 (fixtures)
    agent,
    channels,
    client_for,
    customer,
    outsider,
    say,
    team,
    url,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TOTAL = 2 * THREAD_PAGE + 20


@pytest.fixture
def long_conversation(channels, customer, agent):
    start = timezone.now() - timedelta(days=2)
    conv = Conversation.objects.create(
        customer=customer, channel=channels["email"], subject="Long", created_at=start, last_activity_at=start
    )
    for n in range(TOTAL):
        at = start + timedelta(minutes=n)
        direction = Direction.INBOUND if n % 2 == 0 else Direction.OUTBOUND
        say(conv, f"body {n}", direction=direction, author=None if n % 2 == 0 else agent, at=at)
        if n % 10 == 5:
            note = InternalNote.objects.create(conversation=conv, author=agent, body=f"note {n}")
            InternalNote.objects.filter(pk=note.pk).update(created_at=at)  # auto_now_add ignores `at`
    return conv


def bodies(html: str) -> list[str]:
    return re.findall(r"(?:body|note) \d+", html)


def earlier_link(html: str) -> str | None:
    match = re.search(r'hx-get="([^"]*part=earlier[^"]*)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_page_opens_on_the_newest_messages_with_their_notes(agent, long_conversation):
    html = client_for(agent).get(url("conversation_detail", long_conversation)).content.decode()
    shown = bodies(html)
    newest = [f"body {n}" for n in range(TOTAL - THREAD_PAGE, TOTAL)]
    assert [b for b in shown if b.startswith("body")] == newest
    # Notes of the shown stretch only, in place between the messages they were written after.
    assert [b for b in shown if b.startswith("note")] == [
        f"note {n}" for n in range(TOTAL - THREAD_PAGE, TOTAL) if n % 10 == 5
    ]
    last_note = max(n for n in range(TOTAL) if n % 10 == 5)
    assert shown.index(f"note {last_note}") == shown.index(f"body {last_note}") + 1
    assert earlier_link(html) is not None


def test_earlier_pages_walk_back_to_the_first_message(agent, long_conversation):
    client = client_for(agent)
    html = client.get(url("conversation_detail", long_conversation)).content.decode()
    seen = bodies(html)
    pages = 1
    while (link := earlier_link(html)) is not None:
        html = client.get(link, **HTMX).content.decode()
        assert "<ol" not in html  # a fragment of list items, prepended in place of the button
        seen = bodies(html) + seen
        pages += 1
    assert pages == 3
    expected = []
    for n in range(TOTAL):
        expected.append(f"body {n}")
        if n % 10 == 5:
            expected.append(f"note {n}")
    assert seen == expected


def test_live_refresh_keeps_what_was_loaded(agent, long_conversation):
    client = client_for(agent)
    oldest_loaded = Message.objects.filter(conversation=long_conversation).order_by("created_at", "id")[10]
    say(long_conversation, "body 999")
    html = client.get(
        url("conversation_detail", long_conversation) + f"?part=thread&since={oldest_loaded.pk}", **HTMX
    ).content.decode()
    shown = [b for b in bodies(html) if b.startswith("body")]
    assert shown[0] == "body 10" and shown[-1] == "body 999"
    assert len(shown) == TOTAL - 10 + 1
    assert earlier_link(html) is not None


def test_query_count_is_the_same_for_every_page(agent, long_conversation):
    client = client_for(agent)
    first = client.get(url("conversation_detail", long_conversation)).content.decode()
    link = earlier_link(first)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(link, **HTMX).content.decode()
        counts.append(len(ctx.captured_queries))
        link = earlier_link(html)
    assert counts[0] == counts[1]


def test_earlier_needs_a_message_of_this_conversation(agent, outsider, long_conversation, channels, customer):
    now = timezone.now()
    other = Conversation.objects.create(
        customer=customer, channel=channels["sms"], subject="Other", created_at=now, last_activity_at=now
    )
    foreign = say(other, "elsewhere")
    base = url("conversation_detail", long_conversation) + "?part=earlier&before="
    assert client_for(agent).get(base + str(foreign.pk), **HTMX).status_code == 404
    assert client_for(agent).get(base + "nope", **HTMX).status_code == 404
    mine = Message.objects.filter(conversation=long_conversation).latest("created_at")
    assert client_for(outsider).get(base + str(mine.pk), **HTMX).status_code == 404
