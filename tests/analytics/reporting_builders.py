"""Raw rows for the reporting-store tests: conversations, messages, resolutions and reopenings placed at
exact moments, written the way the tickets services leave them (status, resolved_at, the timeline's
"resolved" entries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import do_create_user
from channels_app.models import Channel
from profiles.models import Customer, TimelineEntry, TimelineKind
from tickets.models import Conversation, ConversationStatus, Direction, Message

_serial = count(1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Shop:
    sms: Channel
    mail: Channel
    red: Team
    blue: Team
    ann: User  # agent in red, whose channel is sms
    bob: User  # agent in blue, which has no channel
    manager: User


def shop() -> Shop:
    n = next(_serial)
    sms = Channel.objects.create(kind="sms", name=f"SMS {n}")
    mail = Channel.objects.create(kind="email", name=f"Mail {n}")
    red = Team.objects.create(name=f"Red {n}")
    blue = Team.objects.create(name=f"Blue {n}")
    sms.teams.add(red)
    ann = do_create_user(username=f"ann{n}", password=None, role=Role.AGENT)
    bob = do_create_user(username=f"bob{n}", password=None, role=Role.AGENT)
    ann.teams.add(red)
    bob.teams.add(blue)
    manager = do_create_user(username=f"manager{n}", password=None, role=Role.MANAGER)
    return Shop(sms=sms, mail=mail, red=red, blue=blue, ann=ann, bob=bob, manager=manager)


def conversation(
    channel: Channel,
    at: datetime,
    *,
    customer: Customer | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    **extra,
) -> Conversation:
    customer = customer or Customer.objects.create(name=f"Customer {next(_serial)}")
    return Conversation.objects.create(
        customer=customer,
        channel=channel,
        team=team,
        assignee=assignee,
        created_at=at,
        last_activity_at=at,
        **extra,
    )


def inbound(conv: Conversation, at: datetime, *, automated: bool = False) -> Message:
    metadata = {"automated": "auto-reply"} if automated else {}
    return Message.objects.create(
        conversation=conv,
        channel_id=conv.channel_id,
        direction=Direction.INBOUND,
        created_at=at,
        metadata=metadata,
    )


def reply(conv: Conversation, at: datetime, author: User | None) -> Message:
    return Message.objects.create(
        conversation=conv,
        channel_id=conv.channel_id,
        direction=Direction.OUTBOUND,
        author=author,
        created_at=at,
    )


def resolve(conv: Conversation, at: datetime) -> None:
    TimelineEntry.objects.create(
        customer_id=conv.customer_id,
        occurred_at=at,
        kind=TimelineKind.CONVERSATION_RESOLVED,
        channel_id=conv.channel_id,
        conversation_id=conv.pk,
    )
    conv.status = ConversationStatus.RESOLVED
    conv.resolved_at = at
    conv.save(update_fields=["status", "resolved_at"])


def reopen(conv: Conversation) -> None:
    conv.status = ConversationStatus.OPEN
    conv.resolved_at = None
    conv.save(update_fields=["status", "resolved_at"])
