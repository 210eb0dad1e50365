"""The customer profile shows only the part of a history the viewer may open (issue 14, finding 1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from profiles.models import CustomerEvent, TimelineEntry, TimelineKind
from profiles.selectors_profile import profile_page
from profiles.timeline import event_entries
from tickets.models import Conversation
from tickets.visibility import visibility_for

from .visibility_world import (
    HIDDEN_COMMENT,
    HIDDEN_REPLY,
    HIDDEN_SUBJECT,
    VISIBLE_COMMENT,
    VISIBLE_MESSAGE,
    VISIBLE_SUBJECT,
    build_world,
    csat,
    open_conversation,
    say,
    survey_answer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(make_user):
    w = build_world(make_user)
    survey = csat()
    at = timezone.now()
    survey_answer(survey, w.anna, 1, HIDDEN_COMMENT, w.hidden, at=at - timedelta(minutes=30))
    survey_answer(survey, w.anna, 5, VISIBLE_COMMENT, w.visible, at=at - timedelta(minutes=20))
    event = CustomerEvent.objects.create(
        customer=w.anna, name="order_placed", occurred_at=at - timedelta(minutes=10)
    )
    TimelineEntry.objects.bulk_create(event_entries([event]))
    return w


def page_of(user, customer) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("customer_profile", kwargs={"pk": customer.pk}))
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, name: str) -> int:
    return int(re.search(rf'data-figure="{name}">(\d+)<', html).group(1))


def test_an_agent_of_another_team_sees_nothing_of_the_hidden_conversation(scene):
    html = page_of(scene.agent_ru, scene.anna)

    assert HIDDEN_SUBJECT not in html
    assert HIDDEN_REPLY not in html and "I want my money back" not in html
    assert HIDDEN_COMMENT not in html
    assert reverse("conversation_detail", kwargs={"pk": scene.hidden.pk}) not in html
    assert f'data-conversation-id="{scene.hidden.pk}"' not in html
    assert scene.messenger.name not in html
    # The figures count only what the agent may open: one conversation, one message.
    assert figure(html, "conversations") == 1
    assert figure(html, "open") == 1
    assert figure(html, "messages") == 1


def test_the_same_agent_sees_their_own_teams_conversation_and_untied_entries(scene):
    html = page_of(scene.agent_ru, scene.anna)

    assert VISIBLE_SUBJECT in html and VISIBLE_MESSAGE in html and VISIBLE_COMMENT in html
    assert reverse("conversation_detail", kwargs={"pk": scene.visible.pk}) in html
    # A purchase is tied to no conversation: whoever may see the customer sees it.
    assert "order_placed" in html


def test_the_selector_scopes_every_list_and_figure(scene):
    page = profile_page(scene.anna, viewer=visibility_for(scene.agent_ru))

    assert [c.pk for c in page.conversations] == [scene.visible.pk]
    assert page.figures.conversations == 1 and page.figures.messages == 1
    assert {e.conversation_id for e in page.timeline.entries} == {scene.visible.pk, None}
    kinds = {e.kind for e in page.timeline.entries}
    assert TimelineKind.EVENT in kinds and TimelineKind.SURVEY_ANSWER in kinds
    assert [r.comment for r in page.surveys] == [VISIBLE_COMMENT]
    assert [r.comment for r in page.latest_scores] == [VISIBLE_COMMENT]


@pytest.mark.parametrize("who", ["agent_en", "all_access", "manager"])
def test_those_who_may_open_the_conversation_still_see_it(scene, who):
    user = getattr(scene, who)
    html = page_of(user, scene.anna)
    assert HIDDEN_SUBJECT in html and HIDDEN_REPLY in html
    assert reverse("conversation_detail", kwargs={"pk": scene.hidden.pk}) in html
    expected = 1 if who == "agent_en" else 2
    assert figure(html, "conversations") == expected


def test_all_access_and_managers_see_every_figure(scene):
    for user in (scene.all_access, scene.manager):
        page = profile_page(scene.anna, viewer=visibility_for(user))
        assert page.figures.conversations == 2 and page.figures.messages == 3
        assert {c.pk for c in page.conversations} == {scene.visible.pk, scene.hidden.pk}
        assert {r.comment for r in page.surveys} == {VISIBLE_COMMENT, HIDDEN_COMMENT}


def test_older_timeline_pages_are_scoped_too(scene):
    # Push the hidden conversation's entries onto the second page.
    for n in range(60):
        say(scene.visible, f"chatter {n}", at=timezone.now() + timedelta(seconds=n))
    client = Client()
    client.force_login(scene.agent_ru)
    first = client.get(reverse("customer_profile", kwargs={"pk": scene.anna.pk})).content.decode()
    cursor = re.search(r'hx-get="[^"]*/timeline/\?before=([^"]+)"', first).group(1)
    older = client.get(
        reverse("customer_timeline", kwargs={"pk": scene.anna.pk}), {"before": cursor}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert VISIBLE_MESSAGE in older
    assert HIDDEN_REPLY not in older and HIDDEN_SUBJECT not in older


def test_profile_queries_stay_bounded_however_much_is_hidden(scene):
    def count() -> int:
        client = Client()
        client.force_login(scene.agent_ru)
        url = reverse("customer_profile", kwargs={"pk": scene.anna.pk})
        client.get(url)  # warm the session and permission caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    now = timezone.now()
    for n in range(15):
        for channel in (scene.telegram, scene.messenger):
            conversation = open_conversation(scene.anna, channel, f"More {channel.pk}-{n}", at=now)
            say(conversation, f"more {n}", at=now, new=True)
    assert Conversation.objects.filter(customer=scene.anna).count() == 32
    assert count() == before <= 20
