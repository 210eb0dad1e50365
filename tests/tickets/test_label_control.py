"""The label control on the conversation page: there before any label exists; managers and admins
create labels from it, agents are told who can."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.models import Channel
from profiles.models import Customer
from tickets.models import Conversation, Label

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


@pytest.fixture
def conversation(team):
    channel = Channel.objects.create(kind="telegram", name="Acme Bot")
    channel.teams.add(team)
    now = timezone.now()
    return Conversation.objects.create(
        customer=Customer.objects.create(name="Anna"), channel=channel, subject="Parcel",
        created_at=now, last_activity_at=now,
    )  # fmt: skip


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, conversation) -> str:
    return (
        client_for(user).get(reverse("conversation_detail", kwargs={"pk": conversation.pk})).content.decode()
    )


def create(user, conversation, name, color="teal"):
    return client_for(user).post(
        reverse("conversation_label_create", kwargs={"pk": conversation.pk}),
        {"name": name, "color": color},
        HTTP_HX_REQUEST="true",
    )


def test_with_no_labels_an_agent_sees_the_control_and_who_can_create(make_user, team, conversation):
    agent = make_user(Role.AGENT, teams=[team])
    html = page(agent, conversation)
    assert 'data-testid="labels"' in html
    assert 'data-testid="label-hint"' in html
    assert 'data-testid="label-create"' not in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_create_a_label_from_the_conversation(make_user, conversation, role):
    boss = make_user(role)
    html = page(boss, conversation)
    assert 'data-testid="label-create"' in html and 'data-testid="label-hint"' not in html

    response = create(boss, conversation, "  Return   request ")
    assert response.status_code == 200
    label = Label.objects.get()
    assert (label.name, label.color) == ("Return request", "teal")
    assert list(conversation.labels.all()) == [label]
    assert f'data-label-id="{label.pk}"' in response.content.decode()

    # The same name in other letters is the same label, not a second one.
    other = Conversation.objects.create(
        customer=conversation.customer, channel=conversation.channel, subject="Other",
        created_at=timezone.now(), last_activity_at=timezone.now(),
    )  # fmt: skip
    create(boss, other, "RETURN REQUEST", color="not-a-colour")
    assert Label.objects.count() == 1 and list(other.labels.all()) == [label]

    response = create(boss, conversation, "   ")
    assert 'data-testid="controls-error"' in response.content.decode()
    assert Label.objects.count() == 1


def test_an_agent_cannot_create_labels(make_user, team, conversation):
    agent = make_user(Role.AGENT, teams=[team])
    response = client_for(agent).post(
        reverse("conversation_label_create", kwargs={"pk": conversation.pk}), {"name": "Sneaky"}
    )
    assert response.status_code == 403
    assert not Label.objects.exists()
    outsider = make_user(Role.AGENT, teams=[Team.objects.create(name="Sales")])
    assert create(outsider, conversation, "x").status_code == 404


def test_existing_labels_are_offered_and_the_control_costs_no_query_per_label(make_user, team, conversation):
    manager = make_user(Role.MANAGER)
    client = client_for(manager)
    url = reverse("conversation_detail", kwargs={"pk": conversation.pk})
    Label.objects.create(name="VIP")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx.captured_queries)

    few = count()
    Label.objects.bulk_create([Label(name=f"label {n}") for n in range(30)])
    assert count() == few
    html = client.get(url).content.decode()
    assert 'data-testid="label-add"' in html and "label 29" in html and 'data-testid="label-create"' in html
