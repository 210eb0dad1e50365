"""Survey pages show answers, names and links only from conversations the viewer may open (finding 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from profiles.models import Customer
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import new_token
from tickets.models import Conversation

from .visibility_world import HIDDEN_COMMENT, VISIBLE_COMMENT, build_world, csat, survey_answer

pytestmark = pytest.mark.django_db

WIDGET_COMMENT = "Answered on the website widget"
HIDDEN_NAME = "Harriet Hidden-Customer"


@pytest.fixture
def scene(make_user):
    w = build_world(make_user)
    w.survey = csat()
    at = timezone.now()
    harriet = Customer.objects.create(name=HIDDEN_NAME)
    hidden_conversation = Conversation.objects.create(
        customer=harriet, channel=w.messenger, subject="EN order", created_at=at, last_activity_at=at
    )
    w.hidden_answer = survey_answer(w.survey, harriet, 1, HIDDEN_COMMENT, hidden_conversation, at=at)
    w.visible_answer = survey_answer(w.survey, w.anna, 5, VISIBLE_COMMENT, w.visible, at=at)
    w.widget_answer = survey_answer(w.survey, None, 4, WIDGET_COMMENT, at=at)
    # The detractor's follow-up is EN team work.
    follow_up_conversation = Conversation.objects.create(
        customer=harriet,
        channel=w.messenger,
        team=w.en,
        subject="Follow up",
        created_at=at,
        last_activity_at=at,
    )
    w.loop = FollowUp.objects.create(response=w.hidden_answer, conversation=follow_up_conversation)
    for person, conversation in ((harriet, hidden_conversation), (w.anna, w.visible)):
        Invitation.objects.create(
            survey=w.survey,
            customer=person,
            conversation=conversation,
            token=new_token(),
            medium=Medium.MESSENGER if conversation.channel_id == w.messenger.pk else Medium.TELEGRAM,
            trigger=TriggerKind.RESOLVED,
            status=InvitationStatus.ANSWERED,
            sent_at=at,
            expires_at=at + timedelta(days=7),
        )
    w.hidden_conversation = hidden_conversation
    return w


def detail(user, survey):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("survey_detail", args=[survey.pk]))
    assert response.status_code == 200
    return response


def test_agent_of_another_team_sees_no_comment_name_or_link_of_a_hidden_conversation(scene):
    response = detail(scene.agent_ru, scene.survey)
    html = response.content.decode()

    assert HIDDEN_COMMENT not in html and HIDDEN_NAME not in html
    assert reverse("conversation_detail", args=[scene.hidden_conversation.pk]) not in html
    assert reverse("conversation_detail", args=[scene.loop.conversation_id]) not in html
    assert {a.pk for a in response.context["answers"]} == {scene.widget_answer.pk, scene.visible_answer.pk}
    assert response.context["open_loops"] == []
    assert {i.conversation_id for i in response.context["send_log"]} == {scene.visible.pk}
    # Answers tied to no conversation are shown to anyone who may view surveys.
    assert WIDGET_COMMENT in html and VISIBLE_COMMENT in html


def test_agent_counts_tell_nothing_of_hidden_answers(scene):
    summary = detail(scene.agent_ru, scene.survey).context["summary"]
    assert summary.count == 2
    assert summary.detractors == 0
    assert dict((score, n) for score, n, _ in summary.distribution)[1] == 0
    assert summary.invitations[InvitationStatus.ANSWERED] == 1

    client = Client()
    client.force_login(scene.agent_ru)
    listed = client.get(reverse("survey_list")).context["surveys"]
    row = next(s for s in listed if s.pk == scene.survey.pk)
    assert row.response_count == 2 and row.open_loops == 0 and row.invitation_count == 1


def test_the_team_of_the_follow_up_sees_the_loop(scene):
    response = detail(scene.agent_en, scene.survey)
    assert response.context["open_loops"] == [scene.loop]
    assert HIDDEN_COMMENT in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "all_access"])
def test_managers_and_all_access_see_everything_and_global_figures(scene, who):
    response = detail(getattr(scene, who), scene.survey)
    html = response.content.decode()
    assert HIDDEN_COMMENT in html and HIDDEN_NAME in html and VISIBLE_COMMENT in html
    assert response.context["summary"].count == 3
    assert response.context["open_loops"] == [scene.loop]
    assert len(response.context["send_log"]) == 2
