"""Surveys that go out by themselves: after a resolution, on a customer event, on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from profiles.customer_events import EventInput, do_record_events
from profiles.models import Customer, Segment
from surveys import triggers
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus, Medium, Trigger, TriggerKind
from surveys.models import SurveyResponse
from tickets.conversation_services import do_set_status
from tickets.models import Conversation, ConversationStatus, Direction, Label, Message

from . import factories as f

pytestmark = [
    # Committed for real: resolving announces ConversationResolved after commit, and triggers react to it.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_no_quiet_hours"),
]


@pytest.fixture
def _no_quiet_hours(settings):
    settings.SURVEY_QUIET_HOURS = (0, 0)
    settings.SURVEY_MIN_INTERVAL_DAYS = 0


def open_conversation(person, channel, *, assignee=None, automated=False) -> Conversation:
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=person, channel=channel, assignee=assignee, created_at=now, last_activity_at=now
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.INBOUND,
        body="Out of office" if automated else "Where is my parcel?",
        metadata={"automated": "auto_reply"} if automated else {},
        created_at=now,
    )
    return conversation


@pytest.fixture
def resolved_rule():
    survey = f.survey(name="CSAT after support", kind="csat")
    return Trigger.objects.create(survey=survey, kind=TriggerKind.RESOLVED, delay_minutes=30)


def test_resolving_creates_a_delayed_invitation_with_the_agent(resolved_rule, make_user):
    agent = make_user(Role.AGENT)
    channel = f.sms_channel()
    conversation = open_conversation(f.customer(), channel, assignee=agent)
    before = timezone.now()

    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)

    invitation = Invitation.objects.get()
    assert invitation.survey == resolved_rule.survey
    assert invitation.rule == resolved_rule
    assert invitation.trigger == TriggerKind.RESOLVED
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.medium == Medium.SMS and invitation.channel == channel
    assert invitation.agent == agent and invitation.conversation == conversation
    assert before + timedelta(minutes=29) < invitation.send_at < timezone.now() + timedelta(minutes=31)


def test_rule_medium_overrides_the_channel(resolved_rule, agent):
    resolved_rule.medium = Medium.EMAIL
    resolved_rule.save()
    conversation = open_conversation(f.customer(), f.sms_channel(), assignee=agent)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    invitation = Invitation.objects.get()
    assert invitation.medium == Medium.EMAIL and invitation.channel is None


def test_rule_limited_to_other_channels_does_nothing(resolved_rule, agent):
    resolved_rule.channels.add(f.sms_channel("Other SMS"))
    conversation = open_conversation(f.customer(), f.sms_channel(), assignee=agent)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    assert not Invitation.objects.exists()


def test_reopen_and_resolve_again_is_throttled_not_duplicated(resolved_rule, agent):
    conversation = open_conversation(f.customer(), f.sms_channel(), assignee=agent)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.OPEN)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    statuses = sorted(Invitation.objects.values_list("status", flat=True))
    assert statuses == [InvitationStatus.PENDING, InvitationStatus.THROTTLED]


def test_automatic_resolution_is_skipped(resolved_rule):
    conversation = open_conversation(f.customer(), f.sms_channel())
    assert triggers.on_conversation_resolved(conversation, None) == []
    assert not Invitation.objects.exists()


def test_automated_conversation_is_skipped(resolved_rule, agent):
    conversation = open_conversation(f.customer(), f.sms_channel(), automated=True)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    assert not Invitation.objects.exists()
    assert triggers.skip_reason(conversation, agent) == "automated"


def test_spam_conversation_is_skipped(resolved_rule, agent):
    conversation = open_conversation(f.customer(), f.sms_channel())
    conversation.labels.add(Label.objects.create(name="Spam"))
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    assert not Invitation.objects.exists()


def test_follow_up_conversation_is_never_surveyed(resolved_rule, agent):
    person = f.customer()
    conversation = open_conversation(person, f.sms_channel())
    response = SurveyResponse.objects.create(
        survey=resolved_rule.survey, customer=person, score=1, created_at=timezone.now()
    )
    FollowUp.objects.create(response=response, conversation=conversation)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    assert not Invitation.objects.exists()


def test_inactive_survey_or_rule_sends_nothing(resolved_rule, agent):
    resolved_rule.survey.is_active = False
    resolved_rule.survey.save()
    conversation = open_conversation(f.customer(), f.sms_channel(), assignee=agent)
    do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
    assert not Invitation.objects.exists()


def test_event_trigger_invites_after_the_event():
    survey = f.survey(name="Delivery CSAT", kind="csat")
    rule = Trigger.objects.create(
        survey=survey, kind=TriggerKind.EVENT, event_name="order_delivered", delay_minutes=120, medium="email"
    )
    Trigger.objects.create(
        survey=f.survey(name="Churn"), kind=TriggerKind.EVENT, event_name="subscription_cancelled"
    )
    person = f.customer()
    at = timezone.now()
    do_record_events(
        events=[
            EventInput("e-1", "order_delivered", at, (("phone", "+48601234567"),), {}),
            EventInput("e-2", "order_placed", at, (("phone", "+48601234567"),), {}),
        ]
    )
    invitation = Invitation.objects.get()
    assert invitation.rule == rule and invitation.customer == person
    assert invitation.trigger == TriggerKind.EVENT and invitation.medium == Medium.EMAIL
    assert invitation.send_at == at + timedelta(minutes=120)


def test_old_events_do_not_survey():
    survey = f.survey()
    Trigger.objects.create(survey=survey, kind=TriggerKind.EVENT, event_name="order_delivered")
    f.customer()
    do_record_events(
        events=[
            EventInput(
                "e-old",
                "order_delivered",
                timezone.now() - timedelta(days=30),
                (("phone", "+48601234567"),),
                {},
            )
        ]
    )
    assert not Invitation.objects.exists()


@pytest.fixture
def quarterly():
    acme = [Customer.objects.create(name=f"Acme {n}", company="Acme") for n in range(3)]
    Customer.objects.create(name="Other", company="Globex")
    segment = Segment.objects.create(
        name="Acme people",
        definition=[{"type": "attribute", "field": "company", "op": "equals", "value": "Acme"}],
    )
    survey = f.survey(name="Relationship NPS", recontact_days=30)
    rule = Trigger.objects.create(
        survey=survey, kind=TriggerKind.SCHEDULE, segment=segment, every_days=90, medium=Medium.EMAIL
    )
    return rule, acme


def test_schedule_invites_the_segment_once_per_period(quarterly, django_assert_max_num_queries):
    rule, acme = quarterly
    start = datetime(2026, 4, 1, 12, tzinfo=UTC)
    with django_assert_max_num_queries(12):
        assert triggers.do_run_scheduled_triggers(start) == 3
    invitations = Invitation.objects.filter(rule=rule)
    assert {i.customer_id for i in invitations} == {c.pk for c in acme}
    assert {i.status for i in invitations} == {InvitationStatus.PENDING}
    assert {i.trigger for i in invitations} == {TriggerKind.SCHEDULE}

    # Again the same day, and a month later: still the same period.
    assert triggers.do_run_scheduled_triggers(start + timedelta(hours=1)) == 0
    assert triggers.do_run_scheduled_triggers(start + timedelta(days=30)) == 0
    assert Invitation.objects.count() == 3

    # Next quarter: everyone is asked again (recontact is 30 days).
    assert triggers.do_run_scheduled_triggers(start + timedelta(days=91)) == 3
    assert Invitation.objects.count() == 6


def test_schedule_logs_throttled_members(quarterly):
    _rule, acme = quarterly
    acme[0].consent = {"surveys": {"status": "opted_out"}}
    acme[0].save()
    triggers.do_run_scheduled_triggers(datetime(2026, 4, 1, 12, tzinfo=UTC))
    throttled = Invitation.objects.get(customer=acme[0])
    assert throttled.status == InvitationStatus.THROTTLED and "opted out" in throttled.reason
    assert Invitation.objects.filter(status=InvitationStatus.PENDING).count() == 2


@override_settings(SURVEY_MIN_INTERVAL_DAYS=14)
def test_schedule_respects_the_global_interval(quarterly):
    rule, acme = quarterly
    start = datetime(2026, 4, 1, 12, tzinfo=UTC)
    f.invitation(f.survey(name="Other survey"), acme[1], sent_at=start - timedelta(days=2))
    Invitation.objects.filter(customer=acme[1]).update(created_at=start - timedelta(days=2))
    triggers.do_run_scheduled_triggers(start)
    throttled = Invitation.objects.get(rule=rule, customer=acme[1])
    assert throttled.status == InvitationStatus.THROTTLED and "14 days" in throttled.reason
