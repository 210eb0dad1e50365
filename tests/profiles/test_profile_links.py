"""The profile's links to conversations open the conversation page, and true/false attributes read as
words in the agent's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from channels_app.models import Channel
from profiles.models import AttributeDefinition, AttributeType, Customer
from profiles.timeline import record_message
from tickets.models import Conversation, Direction, Message

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CONVERSATION_HREF = re.compile(r'href="(/inbox/[^"]+)"')  # the conversation links, not the nav's


def client_for(user, language: str = "") -> Client:
    if language:
        user.language = language
        user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def add_conversation(customer: Customer, channel: Channel, subject: str, at: datetime) -> Conversation:
    conv = Conversation.objects.create(
        customer=customer, channel=channel, subject=subject, created_at=at, last_activity_at=at
    )
    message = Message.objects.create(
        conversation=conv, channel=channel, direction=Direction.INBOUND, body=subject, created_at=at
    )
    record_message(message, new_conversation=True)
    return conv


@pytest.fixture
def channel(db):
    return Channel.objects.create(kind="telegram", name="Acme Bot")


def test_profile_links_open_the_conversation_page(make_user, channel):
    manager = make_user(Role.MANAGER)
    anna = Customer.objects.create(name="Anna Kowalska")
    first = add_conversation(anna, channel, "Order 1042", T0)
    second = add_conversation(anna, channel, "Invoice question", T0 + timedelta(hours=1))
    client = client_for(manager)

    html = client.get(reverse("customer_profile", kwargs={"pk": anna.pk})).content.decode()
    hrefs = CONVERSATION_HREF.findall(html)
    expected = {reverse("conversation_detail", kwargs={"pk": c.pk}) for c in (first, second)}
    # Each conversation in the list and in the journey (opened + message entries) links to its page.
    assert set(hrefs) == expected
    assert hrefs.count(reverse("conversation_detail", kwargs={"pk": first.pk})) >= 2
    assert "?conversation=" not in html
    for conv in (first, second):
        response = client.get(reverse("conversation_detail", kwargs={"pk": conv.pk}))
        assert response.status_code == 200
        assert f'data-conversation-id="{conv.pk}"' in response.content.decode()
        assert conv.subject in response.content.decode()

    # The journey's later pages link the same way.
    fragment = client.get(
        reverse("customer_timeline", kwargs={"pk": anna.pk}), headers={"HX-Request": "true"}
    ).content.decode()
    assert set(CONVERSATION_HREF.findall(fragment)) == expected


def test_profile_query_count_does_not_grow_with_conversation_links(make_user, channel):
    manager = make_user(Role.MANAGER)
    client = client_for(manager)
    anna = Customer.objects.create(name="Anna Kowalska")
    add_conversation(anna, channel, "first", T0)
    url = reverse("customer_profile", kwargs={"pk": anna.pk})
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(1, 25):
        add_conversation(anna, channel, f"conversation {n}", T0 + timedelta(minutes=n))
    assert count() == few


@pytest.mark.parametrize(
    ("language", "yes", "no"), [("en", "Yes", "No"), ("pl", "Tak", "Nie"), ("ru", "Да", "Нет")]
)
def test_true_false_attributes_read_as_words(make_user, channel, language, yes, no):
    AttributeDefinition.objects.create(key="vip", label="VIP", type=AttributeType.BOOLEAN)
    AttributeDefinition.objects.create(key="newsletter", label="Newsletter", type=AttributeType.BOOLEAN)
    # "demo" has no definition (set by an integration, or its definition was deleted): still a yes.
    anna = Customer.objects.create(
        name="Anna", attributes={"vip": True, "newsletter": False, "demo": True, "code": "True story"}
    )
    conv = add_conversation(anna, channel, "Hello", T0)
    client = client_for(make_user(Role.MANAGER), language)

    html = client.get(reverse("customer_profile", kwargs={"pk": anna.pk})).content.decode()
    values = dict(
        re.findall(r'data-attribute="(\w+)">[^<]*</dt>\s*<dd data-attribute-type="\w+">([^<]*)</dd>', html)
    )
    assert values == {"vip": yes, "newsletter": no, "demo": yes, "code": "True story"}
    assert ">True<" not in html and ">False<" not in html

    # The conversation's customer panel reads them the same way.
    panel = client.get(reverse("conversation_detail", kwargs={"pk": conv.pk})).content.decode()
    panel = panel.split('data-testid="customer-attributes"')[1].split("</dl>")[0]
    assert f"<dd>{yes}</dd>" in panel and f"<dd>{no}</dd>" in panel
    assert "True</dd>" not in panel.replace("True story", "") and "False" not in panel
