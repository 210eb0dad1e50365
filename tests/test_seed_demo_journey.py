"""The demo workspace tells a whole story: journeys, service levels, survey invitations, closed loops."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Count, F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.markers import demo_customers, demo_users
from cxm.demo.services import do_seed_demo
from profiles.models import CustomerEvent, TimelineEntry, TimelineKind
from profiles.selectors_profile import lifetime_figures
from surveys.models import FollowUp, FollowUpOutcome, Invitation, InvitationStatus, SurveyResponse
from surveys.selectors import open_loops
from tickets.canned import render_canned
from tickets.models import CannedResponse, Conversation, ConversationStatus, Message, SlaPolicy
from tickets.sla import breach_counts, sla_state
from tickets.sla_badge import sla_badge
from tickets.visibility import visibility_for

pytestmark = pytest.mark.django_db

CUSTOMERS = 40


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded() -> dict[str, int]:
    return do_seed_demo(customers=CUSTOMERS)


def _by_customer(queryset, field: str = "customer_id") -> Counter:
    return Counter(dict(queryset.values_list(field).annotate(n=Count("pk")).values_list(field, "n")))


def test_every_journey_holds_messages_conversations_events_and_answers(seeded):
    customers = list(demo_customers())
    entries = TimelineEntry.objects.filter(customer__in=customers)
    kinds = {
        kind: _by_customer(entries.filter(kind=kind))
        for kind in (
            TimelineKind.MESSAGE,
            TimelineKind.CONVERSATION_OPENED,
            TimelineKind.CONVERSATION_RESOLVED,
            TimelineKind.SURVEY_ANSWER,
            TimelineKind.EVENT,
        )
    }
    conversations = Conversation.objects.filter(customer__in=customers)
    resolved = _by_customer(conversations.filter(status=ConversationStatus.RESOLVED))
    answers = _by_customer(SurveyResponse.objects.filter(customer__in=customers))
    events = _by_customer(CustomerEvent.objects.filter(customer__in=customers))
    answered = 0
    everything = visibility_for(demo_users().filter(role=Role.MANAGER).first())
    for customer in customers:
        figures = lifetime_figures(customer, viewer=everything)
        # The figures at the top of the profile and the journey below them count the same things.
        assert figures.messages > 0 and kinds[TimelineKind.MESSAGE][customer.pk] == figures.messages
        assert kinds[TimelineKind.CONVERSATION_OPENED][customer.pk] == figures.conversations > 0
        assert kinds[TimelineKind.CONVERSATION_RESOLVED][customer.pk] == resolved[customer.pk]
        assert kinds[TimelineKind.SURVEY_ANSWER][customer.pk] == answers[customer.pk]
        assert kinds[TimelineKind.EVENT][customer.pk] == events[customer.pk] > 0
        answered += answers[customer.pk] > 0
    assert answered >= CUSTOMERS // 4

    now = timezone.now()
    assert not entries.filter(occurred_at__gt=now).exists()
    # Nothing on a journey happens before the person was first seen, signed up included.
    assert not entries.filter(occurred_at__lt=F("customer__created_at")).exists()
    # Each row points at what it stands for, as the pipeline's rows do.
    assert not entries.filter(kind=TimelineKind.MESSAGE, message=None).exists()
    assert not entries.filter(kind=TimelineKind.SURVEY_ANSWER, survey_response=None).exists()
    assert not entries.filter(kind=TimelineKind.EVENT, event=None).exists()
    assert entries.filter(kind=TimelineKind.MESSAGE, data__direction="out").exists()

    names = set(CustomerEvent.objects.filter(customer__in=customers).values_list("name", flat=True))
    assert {"signed_up", "order_placed", "order_delivered", "cart_abandoned"} <= names
    assert _by_customer(CustomerEvent.objects.filter(name="signed_up", customer__in=customers)) == Counter(
        {c.pk: 1 for c in customers}
    )


def test_profile_page_shows_the_journey_to_a_demo_user(seeded):
    manager = demo_users().filter(role=Role.MANAGER).first()
    client = Client()
    # Through the login form, as a person signs in (the throttling backend wants the request).
    signed_in = client.post(reverse("login"), {"username": manager.username, "password": data.DEMO_PASSWORD})
    assert signed_in.status_code == 302, signed_in.content[:500]
    customer = demo_customers().annotate(n=Count("survey_responses")).filter(n__gt=0).first()
    page = client.get(reverse("customer_profile", kwargs={"pk": customer.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="timeline-empty"' not in html
    for kind in ("message", "conversation_opened", "survey_answer", "event"):
        assert f'data-kind="{kind}"' in html, kind


def test_service_levels_labels_and_canned_responses(seeded):
    now = timezone.now()
    channels = Channel.objects.filter(config__demo=True)
    policies = SlaPolicy.objects.filter(channel__in=channels)
    assert set(policies.values_list("channel", flat=True)) == set(channels.values_list("pk", flat=True))
    working = policies.exclude(business_hours=None)
    assert working.exists() and all(p.business_hours.holidays.exists() for p in working)

    unresolved = list(
        Conversation.objects.filter(customer__in=demo_customers())
        .exclude(status=ConversationStatus.RESOLVED)
        .select_related("sla_policy__business_hours")
        .prefetch_related("sla_policy__business_hours__holidays")
    )
    assert all(c.sla_policy_id is not None for c in unresolved)
    states = [(sla_state(c, now), sla_badge(c, now)) for c in unresolved]
    # The app's two readings (working time on the page, wall clock in lists) agree on these.
    assert any(state and state["at_risk"] and badge and badge.state == "at_risk" for state, badge in states)
    assert any(state and state["breached"] and badge and badge.state == "breached" for state, badge in states)
    assert breach_counts(Conversation.objects.filter(customer__in=demo_customers()), now)["any"] >= 1
    # A resolved conversation owes nothing, but keeps the first-response target it was measured by.
    resolved = Conversation.objects.filter(customer__in=demo_customers(), status=ConversationStatus.RESOLVED)
    assert not resolved.exclude(
        waiting_since=None, next_response_due_at=None, resolution_due_at=None
    ).exists()
    assert resolved.exclude(first_response_due_at=None).exists()

    labelled = Conversation.objects.filter(customer__in=demo_customers()).exclude(labels=None)
    assert labelled.count() >= CUSTOMERS
    canned = list(CannedResponse.objects.filter(team__members__in=demo_users()).distinct())
    assert {c.team.name for c in canned} == set(data.TEAM_NAMES)
    customer = demo_customers().first()
    agent = demo_users().filter(role=Role.AGENT).first()
    for response in canned:
        assert "{{" in response.body
        text = render_canned(response, customer=customer, agent=agent)
        assert "{{" not in text and "}}" not in text


def test_every_answer_has_its_invitation_and_detractors_get_a_closed_loop(seeded):
    now = timezone.now()
    responses = SurveyResponse.objects.filter(customer__in=demo_customers()).select_related(
        "invitation", "survey"
    )
    assert responses.exists()
    for response in responses:
        invitation = response.invitation
        assert invitation is not None, response
        assert invitation.status == InvitationStatus.ANSWERED
        assert invitation.answered_at == response.created_at
        assert invitation.sent_at is not None and invitation.created_at <= invitation.sent_at
        assert invitation.sent_at <= response.created_at < invitation.expires_at
        assert (invitation.survey_id, invitation.customer_id) == (response.survey_id, response.customer_id)
        assert (invitation.conversation_id, invitation.medium) == (response.conversation_id, response.medium)
    invitations = Invitation.objects.filter(customer__in=demo_customers())
    # Nothing left for the sender to send through demo channels, whose credentials are fake.
    assert not invitations.filter(status=InvitationStatus.PENDING).exists()
    assert not invitations.filter(status=InvitationStatus.ANSWERED, response=None).exists()
    assert invitations.filter(status=InvitationStatus.THROTTLED).exclude(reason="").exists()
    assert invitations.filter(status=InvitationStatus.SENT).exists()

    detractors = [r for r in responses if r.score <= r.survey.detractor_at_or_below]
    loops = FollowUp.objects.filter(response__in=detractors).select_related("conversation", "response")
    assert loops.count() == len(detractors) >= 2
    closed = [f for f in loops if f.closed_at is not None]
    still_open = [f for f in loops if f.closed_at is None]
    assert closed and still_open
    for loop in loops:
        assert loop.opened_at == loop.response.created_at == loop.conversation.created_at
        assert loop.conversation.team_id is not None
    for loop in closed:
        assert loop.outcome in FollowUpOutcome.values and loop.closed_by_id and loop.note
        assert loop.conversation.status == ConversationStatus.RESOLVED
        assert loop.opened_at < loop.closed_at == loop.conversation.resolved_at <= now
        assert Message.objects.filter(conversation=loop.conversation, direction="out").exists()
    assert all(loop.conversation.status != ConversationStatus.RESOLVED for loop in still_open)
    everything = visibility_for(demo_users().filter(role=Role.MANAGER).first())
    surveys = {r.survey for r in detractors}
    assert sum(len(open_loops(survey, viewer=everything)) for survey in surveys) == len(still_open)
