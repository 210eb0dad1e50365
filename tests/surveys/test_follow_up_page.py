"""Closing the loop from the conversation page of a detractor follow-up."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from surveys.invitation_models import FollowUp, FollowUpOutcome
from surveys.models import SurveyResponse
from tickets.models import Conversation, ConversationStatus

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def care():
    return Team.objects.create(name="Care")


@pytest.fixture
def loop(care):
    survey = f.survey(name="Support NPS")
    person = f.customer("Grumpy Gus")
    response = SurveyResponse.objects.create(
        survey=survey,
        customer=person,
        score=2,
        comment="Nobody answered for a week",
        created_at=timezone.now(),
    )
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=person,
        channel=f.sms_channel(),
        team=care,
        subject="Follow up",
        created_at=now,
        last_activity_at=now,
    )
    return FollowUp.objects.create(response=response, conversation=conversation)


@pytest.fixture
def care_agent(make_user, care):
    return make_user(Role.AGENT, teams=[care])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def close_url(loop) -> str:
    return reverse("follow_up_close", args=[loop.pk])


def test_conversation_page_shows_the_answer_and_the_form(loop, care_agent):
    page = client_for(care_agent).get(reverse("conversation_detail", args=[loop.conversation_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="follow-up-panel"' in html
    assert "Nobody answered for a week" in html
    assert reverse("survey_detail", args=[loop.response.survey_id]) in html
    assert 'data-testid="close-loop-form"' in html


def test_other_conversations_have_no_panel(loop, care_agent, care):
    now = timezone.now()
    plain = Conversation.objects.create(
        customer=loop.response.customer,
        channel=loop.conversation.channel,
        team=care,
        created_at=now,
        last_activity_at=now,
    )
    html = client_for(care_agent).get(reverse("conversation_detail", args=[plain.pk])).content.decode()
    assert 'data-testid="follow-up-panel"' not in html


def test_close_the_loop(loop, care_agent):
    response = client_for(care_agent).post(
        close_url(loop),
        {"outcome": FollowUpOutcome.RESOLVED, "note": "Called her, refunded."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    loop.refresh_from_db()
    assert loop.closed_by == care_agent and loop.outcome == FollowUpOutcome.RESOLVED
    assert loop.note == "Called her, refunded." and loop.closed_at is not None
    assert loop.conversation.status == ConversationStatus.RESOLVED
    html = response.content.decode()
    assert 'data-testid="follow-up-closed"' in html and care_agent.display_name in html
    assert "Contacted, problem solved" in html and "<html" not in html


def test_outcome_is_required(loop, care_agent):
    response = client_for(care_agent).post(close_url(loop), {"note": "?"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="close-loop-error"' in response.content.decode()
    loop.refresh_from_db()
    assert loop.closed_at is None


def test_without_htmx_it_redirects_back(loop, care_agent):
    response = client_for(care_agent).post(close_url(loop), {"outcome": FollowUpOutcome.NO_ACTION})
    assert response.status_code == 302
    assert response["Location"] == reverse("conversation_detail", args=[loop.conversation_id])


def test_outsiders_get_404(loop, make_user):
    outsider = make_user(Role.AGENT, teams=[Team.objects.create(name="Sales")])
    response = client_for(outsider).post(close_url(loop), {"outcome": FollowUpOutcome.RESOLVED})
    assert response.status_code == 404
    loop.refresh_from_db()
    assert loop.closed_at is None
    assert client_for(outsider).post(reverse("follow_up_close", args=[999999]), {}).status_code == 404


def test_anonymous_is_sent_to_login(loop, client):
    response = client.post(close_url(loop), {"outcome": FollowUpOutcome.RESOLVED})
    assert response.status_code == 302 and "login" in response["Location"]


def test_closing_twice_says_so(loop, care_agent):
    client = client_for(care_agent)
    client.post(close_url(loop), {"outcome": FollowUpOutcome.RESOLVED}, HTTP_HX_REQUEST="true")
    again = client.post(close_url(loop), {"outcome": FollowUpOutcome.UNRESOLVED}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    loop.refresh_from_db()
    assert loop.outcome == FollowUpOutcome.RESOLVED
