"""A workspace with two teams sharing one customer, for the visibility tests.

Team RU owns a Telegram channel, team EN a Messenger channel. Anna wrote to both: the RU agent may open
her Telegram conversation and not her Messenger one, which holds a private reply and a survey comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.models import Channel
from profiles.models import Customer, Identity, IdentityKind
from profiles.timeline import record_message, record_survey_answer
from surveys.models import Survey, SurveyKind, SurveyResponse
from tickets.models import Conversation, Direction, Message

HIDDEN_SUBJECT = "Refund for the EN-only order"
HIDDEN_REPLY = "Private reply: your card ending 4242 will be refunded"
HIDDEN_COMMENT = "The EN agent promised a refund and vanished"
VISIBLE_SUBJECT = "Delivery to Kazan"
VISIBLE_MESSAGE = "Where is my parcel?"
VISIBLE_COMMENT = "The RU agent was quick"


@dataclass
class World:
    ru: Team
    en: Team
    telegram: Channel
    messenger: Channel
    anna: Customer
    visible: Conversation
    hidden: Conversation
    agent_ru: User
    agent_en: User
    all_access: User
    manager: User


def say(conversation: Conversation, text: str, *, at, direction: str = Direction.INBOUND, new: bool = False):
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=direction,
        body=text,
        created_at=at,
    )
    conversation.last_activity_at = at
    conversation.save(update_fields=["last_activity_at"])
    record_message(message, new_conversation=new)
    return message


def open_conversation(customer: Customer, channel: Channel, subject: str, *, at) -> Conversation:
    return Conversation.objects.create(
        customer=customer, channel=channel, subject=subject, created_at=at, last_activity_at=at
    )


def survey_answer(survey: Survey, customer: Customer, score: int, comment: str, conversation=None, *, at):
    response = SurveyResponse.objects.create(
        survey=survey,
        customer=customer,
        conversation=conversation,
        channel=conversation.channel if conversation else None,
        score=score,
        comment=comment,
        created_at=at,
    )
    record_survey_answer(response)
    return response


def build_world(make_user) -> World:
    now = timezone.now()
    ru = Team.objects.create(name="RU")
    en = Team.objects.create(name="EN")
    telegram = Channel.objects.create(kind="telegram", name="RU Bot")
    telegram.teams.add(ru)
    messenger = Channel.objects.create(kind="messenger", name="EN Page")
    messenger.teams.add(en)
    anna = Customer.objects.create(name="Anna Sidorova")
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="700100200")
    Identity.objects.create(customer=anna, kind=IdentityKind.MESSENGER, value="psid-5501")

    visible = open_conversation(anna, telegram, VISIBLE_SUBJECT, at=now - timedelta(hours=3))
    say(visible, VISIBLE_MESSAGE, at=now - timedelta(hours=3), new=True)
    hidden = open_conversation(anna, messenger, HIDDEN_SUBJECT, at=now - timedelta(hours=2))
    say(hidden, "I want my money back", at=now - timedelta(hours=2), new=True)
    say(hidden, HIDDEN_REPLY, at=now - timedelta(hours=1), direction=Direction.OUTBOUND)

    agent_ru = make_user(Role.AGENT, teams=[ru], username="ivan.ru")
    agent_en = make_user(Role.AGENT, teams=[en], username="emma.en")
    all_access = make_user(Role.AGENT, teams=[ru], username="alex.all")
    all_access.user_permissions.add(Permission.objects.get(codename="view_all_conversations"))
    manager = make_user(Role.MANAGER, username="maria.manager")
    return World(ru, en, telegram, messenger, anna, visible, hidden, agent_ru, agent_en, all_access, manager)


def csat(name: str = "Support CSAT") -> Survey:
    return Survey.objects.create(kind=SurveyKind.CSAT, name=name)
