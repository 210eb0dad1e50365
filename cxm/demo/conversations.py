"""Demo conversations and their messages, timed like real support work over the last ~90 days.

Older history (two years of it) is planned by cxm.demo.archive with the same builder."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Team, User
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.people import CROSS_CHANNEL_CUSTOMER, CustomerDraft
from cxm.demo.texts import BILLING_TOPICS, COMMON, TOPIC_WEIGHTS, TOPICS, URGENT_TOPICS
from tickets.models import Conversation, ConversationStatus, Direction, Message, Priority

HISTORY_DAYS = 90
_STATUSES = [ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.SNOOZED]
# Fresh conversations are still being worked; old ones are nearly all resolved.
_STATUS_BY_AGE: list[tuple[float, list[int]]] = [
    (2, [50, 20, 10, 20]),
    (7, [30, 25, 15, 30]),
    (21, [8, 12, 6, 74]),
    (float("inf"), [1, 1, 1, 97]),
]
_SIZES: dict[str, tuple[list[int], list[int]]] = {
    ConversationStatus.OPEN: ([3, 5, 7], [50, 35, 15]),  # the customer wrote last
    ConversationStatus.PENDING: ([2, 4, 6], [45, 40, 15]),  # we wrote last and wait for them
    ConversationStatus.SNOOZED: ([2, 4, 6], [50, 35, 15]),
    ConversationStatus.RESOLVED: ([2, 3, 4, 5, 6, 7, 8], [22, 18, 20, 14, 12, 8, 6]),
}
# First-reply delay buckets in seconds: minutes, within the hour, a few hours, next day.
_FIRST_REPLY_BUCKETS = [(60, 600), (600, 3600), (3600, 14400), (14400, 72000)]
_INBOUND_ROLES = frozenset({"opening", "nudge", "follow_up", "thanks"})
_PRIORITIES = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
# Customers write more in the afternoon than at 7 am or 10 pm (local time).
_HOUR_WEIGHTS = [2, 5, 8, 9, 9, 8, 7, 8, 8, 7, 6, 6, 5, 4, 3, 2]


@dataclass
class Staff:
    teams: dict[str, Team]
    agents_by_team: dict[str, list[User]]
    speed: dict[int, float]  # per-agent multiplier on reply delays, so agents differ on dashboards
    # Time- and channel-dependent multiplier on reply delays (the team's improvement over the years,
    # an incident week on one channel); None: every moment is alike.
    pace: Callable[[int, datetime], float] | None = None
    incident: Callable[[int, datetime], bool] | None = None  # (channel id, created) in the bad week


@dataclass
class ConversationDraft:
    conversation: Conversation
    messages: list[Message]
    slow: bool  # a long first wait or a long back-and-forth; survey answers are harsher
    topic: str = ""
    incident: bool = False  # started on the channel of the bad week, during it
    values: dict[str, str] = field(default_factory=dict)  # the order, amount… the texts mention


@dataclass(frozen=True)
class Pin:
    """What a customer's latest conversation must look like, so a small demo still shows it."""

    status: str
    priority: str
    age_hours: float | None = None  # started exactly this long ago
    unanswered: bool | None = None  # None: decided at random like any other


def plan_conversations(
    rng: random.Random,
    *,
    draft: CustomerDraft,
    now: datetime,
    channels: dict[str, Channel],
    staff: Staff,
    message_ids: Iterator[int],
    forced: Pin | None = None,
) -> list[ConversationDraft]:
    """All conversations of one customer, oldest first; only the latest may still be unresolved."""
    count = rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]
    ages = sorted((_days_ago(rng, now) for _ in range(count)), reverse=True)
    if forced:
        ages[-1] = min(ages[-1], rng.uniform(0.1, 2.5))
        if forced.age_hours is not None:
            ages[-1] = forced.age_hours / 24
            # Earlier conversations stay earlier, at least a day before the pinned one.
            ages[:-1] = [max(age, ages[-1] + 1) for age in ages[:-1]]
    drafts = []
    for position, age in enumerate(ages):
        latest = position == count - 1
        status = _status(rng, age) if latest else ConversationStatus.RESOLVED
        topic, priority = pick_topic(rng)
        unanswered = None
        if forced and latest:
            status, priority, unanswered = forced.status, forced.priority, forced.unanswered
        key = draft.channel_keys[0]
        if position and rng.random() < 0.4:
            key = rng.choice(draft.channel_keys)
        others = [k for k in draft.channel_keys if k != key]
        switch_to = None
        if others and (rng.random() < 0.2 or (draft.index == CROSS_CHANNEL_CUSTOMER and position == 0)):
            switch_to = channels[rng.choice(others)]
        created = local_time(rng, now, age, draft.customer.timezone)
        if forced and latest and forced.age_hours is not None:
            created = (now - timedelta(hours=forced.age_hours)).replace(microsecond=0)
        drafts.append(
            build_conversation(
                rng,
                draft=draft,
                topic=topic,
                status=status,
                priority=priority,
                created=created,
                channel=channels[key],
                switch_to=switch_to,
                staff=staff,
                now=now,
                message_ids=message_ids,
                unanswered=unanswered,
            )
        )
    first = drafts[0].conversation.created_at
    draft.created_at = first
    if rng.random() < 0.25:  # synced from the shop's CRM before they ever wrote to us
        draft.created_at = first - timedelta(days=rng.uniform(5, 400))
        draft.customer.attributes["source"] = "crm_import"
    inbound = [m.created_at for d in drafts for m in d.messages if m.direction == Direction.INBOUND]
    draft.customer.last_seen_at = max(inbound)
    return drafts


def build_conversation(
    rng: random.Random,
    *,
    draft: CustomerDraft,
    topic: str,
    status: str,
    priority: str,
    created: datetime,
    channel: Channel,
    switch_to: Channel | None,
    staff: Staff,
    now: datetime,
    message_ids: Iterator[int],
    unanswered: bool | None = None,
) -> ConversationDraft:
    locale = draft.customer.locale
    script, common = TOPICS[locale][topic], COMMON[locale]
    chance = status == ConversationStatus.OPEN and rng.random() < 0.3
    unanswered = chance if unanswered is None else unanswered
    team_name = data.TEAM_BILLING if topic in BILLING_TOPICS else data.LOCALE_TEAM[locale]
    members = staff.agents_by_team[team_name]
    assignee = rng.choice([u for u in members if u.language == locale] or members)

    roles = _roles(rng, status=status, unanswered=unanswered, cross=switch_to is not None)
    resolved = status == ConversationStatus.RESOLVED
    speed = staff.speed[assignee.pk] * (staff.pace(channel.pk, created) if staff.pace else 1.0)
    incident = bool(staff.incident and staff.incident(channel.pk, created))
    times = _times(
        rng, roles=roles, created=created, now=now, speed=speed, resolved=resolved, backlogged=incident
    )

    values = {
        "name": draft.first_name,
        "agent": assignee.first_name,
        "order": str(rng.randint(100_000, 999_999)),
        "invoice": f"INV-{created.year}-{rng.randint(1000, 9999)}",
        "amount": _amount(rng, locale, draft.phone_plan),
        "card": f"{rng.randint(0, 9999):04d}",
        "tracking": str(rng.randint(10**11, 10**12 - 1)),
    }
    # Topic lines first, then generic ones, never the same line twice in one conversation.
    pools = {
        "follow_up": _shuffled(rng, script.follow_up) + _shuffled(rng, common.follow_up),
        "update": _shuffled(rng, script.update) + _shuffled(rng, common.update),
    }
    # Customers change channel, agents answer where the customer last wrote.
    switch_points = [i for i, role in enumerate(roles) if i and role in _INBOUND_ROLES]
    switch_at = rng.choice(switch_points) if switch_to and switch_points else len(roles)
    messages = []
    for i, role in enumerate(roles):
        inbound = role in _INBOUND_ROLES
        if role in pools:
            text = pools[role].pop(0)
        elif role in ("opening", "reply"):
            text = rng.choice(getattr(script, role))
        else:
            text = rng.choice(getattr(common, role))
        body = text.format_map(values)
        via = channel if i < switch_at else switch_to
        assert via is not None
        if i == switch_at and inbound and channel.kind == ChannelKind.WEBCHAT:
            body = common.chat_closed + body
        messages.append(
            Message(
                channel=via,
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                author=None if inbound else assignee,
                body=body,
                provider_message_id=_provider_id(via, next(message_ids)) if inbound else None,
                created_at=times[i],
            )
        )
    first_out = next((m.created_at for m in messages if m.direction == Direction.OUTBOUND), None)
    conversation = Conversation(
        customer=draft.customer,
        channel=channel,
        subject=script.subject.format_map(values),
        status=status,
        priority=priority,
        # A new conversation nobody has answered waits in the unassigned queue, sometimes with no team.
        assignee=None if unanswered else assignee,
        team=None if unanswered and rng.random() < 0.5 else staff.teams[team_name],
        created_at=created,
        last_activity_at=messages[-1].created_at,
        first_response_at=first_out,
        resolved_at=times[-1] if resolved else None,
    )
    slow = first_out is None or (first_out - created).total_seconds() > 4 * 3600 or len(messages) >= 7
    return ConversationDraft(conversation, messages, slow, topic=topic, values=values, incident=incident)


def pick_topic(rng: random.Random, topics: dict[str, int] | None = None) -> tuple[str, str]:
    """What the customer writes about, and how urgent the conversation is."""
    topic = _pick(rng, topics or TOPIC_WEIGHTS)
    weights = [8, 45, 32, 15] if topic in URGENT_TOPICS else [20, 58, 16, 6]
    priority: str = rng.choices(_PRIORITIES, weights=weights)[0]
    return topic, priority


def _roles(rng: random.Random, *, status: str, unanswered: bool, cross: bool) -> list[str]:
    """Who says what, in order; inbound and outbound alternate except for an unanswered nudge."""
    if unanswered:
        return ["opening", "nudge"]
    sizes, weights = _SIZES[status]
    size = rng.choices(sizes, weights=weights)[0]
    if cross and size < 3:
        size += 2  # room for the customer to write again from the other channel
    roles = ["opening", "reply"] + [("follow_up", "update")[i % 2] for i in range(size - 2)]
    if status == ConversationStatus.RESOLVED and size >= 3:
        roles[-1] = "thanks" if roles[-1] == "follow_up" else "close"
    return roles


def _times(
    rng: random.Random,
    *,
    roles: list[str],
    created: datetime,
    now: datetime,
    speed: float,
    resolved: bool,
    backlogged: bool = False,
) -> list[datetime]:
    """One moment per message, plus the resolution moment last; squeezed to end before ``now``.
    A backlogged queue (the bad week) answers first after hours, never within the hour."""
    gaps = []
    for role in roles[1:]:
        if role == "reply":
            weights = [0, 0, 40, 60] if backlogged else [30, 35, 22, 13]
            low, high = rng.choices(_FIRST_REPLY_BUCKETS, weights=weights)[0]
            gaps.append(rng.uniform(low, high) * speed)
        elif role == "nudge":
            gaps.append(rng.uniform(3600, 6 * 3600))
        elif role in ("update", "close"):
            gaps.append(rng.uniform(120, 3 * 3600) * speed)
        else:
            gaps.append(rng.uniform(180, 30 * 3600))
    if resolved:
        gaps.append(rng.uniform(120, 6 * 3600))
    available = (now - timedelta(seconds=30) - created).total_seconds()
    scale = min(1.0, available / sum(gaps))
    times = [created]
    for gap in gaps:
        times.append(times[-1] + timedelta(seconds=max(1, int(gap * scale))))
    return times


def _shuffled(rng: random.Random, lines: list[str]) -> list[str]:
    return rng.sample(lines, k=len(lines))


def _days_ago(rng: random.Random, now: datetime) -> float:
    # Skewed towards recent weeks (a growing shop), and quieter at weekends.
    age = HISTORY_DAYS * rng.random() ** 1.2
    if (now - timedelta(days=age)).weekday() >= 5 and rng.random() < 0.4:
        age = HISTORY_DAYS * rng.random() ** 1.2
    return age


def local_time(rng: random.Random, now: datetime, age: float, tz: str) -> datetime:
    """A moment ``age`` days ago during the customer's waking hours, never in the last ten minutes."""
    zone = ZoneInfo(tz)
    day = (now - timedelta(days=age)).astimezone(zone).date()
    hour = rng.choices(range(7, 23), weights=_HOUR_WEIGHTS)[0]
    moment = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=zone).astimezone(
        UTC
    )
    if moment > now - timedelta(minutes=10):
        moment = now - timedelta(minutes=rng.randint(10, 90), seconds=rng.randrange(60))
    return moment


def _status(rng: random.Random, age: float) -> str:
    weights = next(w for limit, w in _STATUS_BY_AGE if age < limit)
    return rng.choices([*_STATUSES, ConversationStatus.RESOLVED], weights=weights)[0]


def _amount(rng: random.Random, locale: str, phone_plan: str) -> str:
    if locale == "pl":
        return f"{rng.randint(49, 899)},{rng.choice(['00', '50', '99'])} zł"
    if locale == "ru":
        return f"{rng.randint(1, 39)} {rng.choice(['490', '990', '500'])} ₽"
    currency = "£" if phone_plan == "uk" else "$"
    return f"{currency}{rng.randint(12, 249)}.{rng.choice(['00', '49', '90', '99'])}"


def _provider_id(channel: Channel, number: int) -> str:
    """Inbound messages carry the provider's id; email's is a Message-ID header."""
    if channel.kind == ChannelKind.EMAIL:
        return f"<demo-{number:06d}@mail.example>"
    return f"demo-{channel.kind}-{number:06d}"


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
