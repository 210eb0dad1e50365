"""The reply POST accepts only the channels the reply form offers this user (issue 14, finding 3)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from channels_app.models import OutboundMessage
from tickets.models import Message
from tickets.selectors_conversation import customer_identities, reply_channels

from .visibility_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(make_user):
    return build_world(make_user)


def post_reply(user, conversation, channel, *, htmx: bool = True):
    client = Client()
    client.force_login(user)
    last = Message.objects.filter(conversation=conversation).order_by("-created_at", "-id").first()
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("conversation_reply", kwargs={"pk": conversation.pk}),
        {"channel": channel.pk, "text": "We are on it.", "last_seen_message_id": last.pk},
        headers=headers,
    )


def test_another_teams_channel_is_refused_and_nothing_is_sent(scene):
    response = post_reply(scene.agent_ru, scene.visible, scene.messenger, htmx=False)
    assert response.status_code == 400
    # htmx gets the reply box back with the error (htmx swaps only a 2xx answer).
    response = post_reply(scene.agent_ru, scene.visible, scene.messenger)
    assert 'data-testid="reply-error"' in response.content.decode()

    assert not OutboundMessage.objects.exists()
    assert not Message.objects.filter(conversation=scene.visible, body="We are on it.").exists()


def test_the_form_does_not_offer_another_teams_channel(scene):
    client = Client()
    client.force_login(scene.agent_ru)
    html = client.get(reverse("conversation_detail", kwargs={"pk": scene.visible.pk})).content.decode()
    assert f'<option value="{scene.telegram.pk}"' in html
    assert f'<option value="{scene.messenger.pk}"' not in html
    options = reply_channels(scene.agent_ru, scene.visible, customer_identities(scene.visible))
    assert [row.channel for row in options] == [scene.telegram]
    # The channel-dependent part of the reply box answers nothing for it either.
    part = client.get(
        reverse("conversation_reply_options", kwargs={"pk": scene.visible.pk}),
        {"channel": scene.messenger.pk},
    )
    assert part.content == b""


def test_own_teams_channel_still_sends(scene):
    response = post_reply(scene.agent_ru, scene.visible, scene.telegram)
    assert response.status_code == 200
    assert OutboundMessage.objects.get().channel == scene.telegram


def test_a_conversation_routed_to_the_agent_replies_through_its_own_channel(scene):
    # Assigned to the RU agent, on EN's channel: its own channel is the way back to the customer.
    scene.hidden.assignee = scene.agent_ru
    scene.hidden.save(update_fields=["assignee"])
    options = reply_channels(scene.agent_ru, scene.hidden, customer_identities(scene.hidden))
    assert [row.channel for row in options] == [scene.messenger, scene.telegram]


@pytest.mark.parametrize("who", ["all_access", "manager"])
def test_all_access_and_managers_may_use_any_channel(scene, who):
    response = post_reply(getattr(scene, who), scene.visible, scene.messenger)
    assert response.status_code == 200
    assert OutboundMessage.objects.get().channel == scene.messenger
