"""Two years of history behind the recent weeks, with the stories a CX dashboard should reveal.

- Trend: the shop grows (fewer conversations two years ago, a busier November and December each
  year), and the team gets faster: replies two years ago took ``1 + IMPROVEMENT`` times as long, so
  response times fall and scores rise over the two years.
- A bad week on one channel: WhatsApp, three weeks before the current week (whole UTC days, Monday to
  Monday), the queue backed up: first replies came after hours, every reply took ``INCIDENT_SLOWDOWN``
  times as long, and more customers wrote there about late orders; their answers are harsher and their
  comments say what went wrong.
- A slow agent: ``SLOW_AGENT`` answers ``SLOW_AGENT_SPEED`` times slower than a typical colleague.

Older conversations are built by cxm.demo.conversations' own builder, so they look exactly like the
recent ones (messages, channel switches, resolution), and all of them are resolved.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from channels_app.models import Channel
from cxm.demo.conversations import HISTORY_DAYS as RECENT_DAYS  # planned there; the archive goes before
from cxm.demo.conversations import ConversationDraft, Staff, build_conversation, local_time, pick_topic
from cxm.demo.people import CustomerDraft
from tickets.models import ConversationStatus, Direction

HISTORY_DAYS = 730
# Archived conversations per customer: matches the recent plan's density at its 90-day edge, falling
# linearly to ``1 - GROWTH`` of it two years ago.
PER_CUSTOMER = 7.3
GROWTH = 0.8
LONG_STANDING = 0.65  # share of customers who were already customers before the recent weeks
IMPROVEMENT = 1.0
SLOW_AGENT = "james.oconnor"
SLOW_AGENT_SPEED = 3.5
INCIDENT_CHANNEL = "whatsapp"
INCIDENT_WEEKS_AGO = 3
INCIDENT_SLOWDOWN = 3.0
INCIDENT_SHARE = 0.9  # of the channel's customers who wrote during the bad week
_INCIDENT_TOPICS = {"delivery_delay": 5, "order_status": 4, "damaged": 1}


@dataclass(frozen=True)
class Incident:
    channel_id: int
    start: datetime
    end: datetime

    def covers(self, channel_id: int, at: datetime) -> bool:
        return channel_id == self.channel_id and self.start <= at < self.end


def incident_week(now: datetime, channel: Channel) -> Incident:
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(0), tzinfo=now.tzinfo)
    start = monday - timedelta(weeks=INCIDENT_WEEKS_AGO)
    return Incident(channel.pk, start, start + timedelta(days=7))


class Pace:
    """Reply delays by when and where a conversation started (see the module's story)."""

    def __init__(self, now: datetime, incident: Incident) -> None:
        self.now, self.incident = now, incident

    def __call__(self, channel_id: int, created: datetime) -> float:
        age = min(max((self.now - created).total_seconds() / 86_400, 0.0), HISTORY_DAYS)
        factor = 1 + IMPROVEMENT * age / HISTORY_DAYS
        if self.incident.covers(channel_id, created):
            factor *= INCIDENT_SLOWDOWN
        return factor


def plan_archive(
    rng: random.Random,
    *,
    history: list[tuple[CustomerDraft, list[ConversationDraft]]],
    now: datetime,
    channels: dict[str, Channel],
    staff: Staff,
    incident: Incident,
    message_ids: Iterator[int],
    per_customer: float = PER_CUSTOMER,
) -> None:
    """Add the older conversations and the bad week's to each customer's list (kept oldest first)."""
    drafts = [draft for draft, _ in history]
    long_standing = [d for d in drafts if rng.random() < LONG_STANDING] or drafts[:1]
    # Some customers write far more often than others.
    weights = [rng.paretovariate(2.0) for _ in long_standing]
    added: dict[int, list[ConversationDraft]] = {}
    for _ in range(round(len(drafts) * per_customer)):
        draft = rng.choices(long_standing, weights=weights)[0]
        age = _archive_age(rng, now)
        created = local_time(rng, now, age, draft.customer.timezone)
        added.setdefault(draft.index, []).append(
            _resolved(rng, draft=draft, created=created, channels=channels, staff=staff, now=now,
                      message_ids=message_ids)
        )  # fmt: skip
    first_on_channel = True
    for draft in drafts:
        if INCIDENT_CHANNEL not in draft.channel_keys:
            continue
        if not first_on_channel and rng.random() >= INCIDENT_SHARE:
            continue
        first_on_channel = False
        offset = rng.uniform(0.3, 6.7)
        age = (now - incident.start).total_seconds() / 86_400 - offset
        created = local_time(rng, now, age, draft.customer.timezone)
        if not incident.covers(channels[INCIDENT_CHANNEL].pk, created):
            continue  # the customer's waking hours fell on the far side of the week's edge
        added.setdefault(draft.index, []).append(
            _resolved(rng, draft=draft, created=created, channels=channels, staff=staff, now=now,
                      message_ids=message_ids, key=INCIDENT_CHANNEL, topics=_INCIDENT_TOPICS)
        )  # fmt: skip
    for draft, conversations in history:
        extra = added.get(draft.index)
        if not extra:
            continue
        latest = conversations[-1]
        # Only the latest conversation may still be open: older ones go before it.
        extra = [c for c in extra if _ends(c) < latest.conversation.created_at]
        conversations[:] = [*sorted([*extra, *conversations[:-1]], key=_started), latest]
        first = conversations[0].conversation.created_at
        assert draft.created_at is not None
        draft.created_at = min(draft.created_at, first)
        draft.customer.last_seen_at = max(
            m.created_at for c in conversations for m in c.messages if m.direction == Direction.INBOUND
        )


def _resolved(
    rng: random.Random,
    *,
    draft: CustomerDraft,
    created: datetime,
    channels: dict[str, Channel],
    staff: Staff,
    now: datetime,
    message_ids: Iterator[int],
    key: str = "",
    topics: dict[str, int] | None = None,
) -> ConversationDraft:
    if not key:
        key = draft.channel_keys[0]
        if rng.random() < 0.4:
            key = rng.choice(draft.channel_keys)
    others = [k for k in draft.channel_keys if k != key]
    switch_to = channels[rng.choice(others)] if others and rng.random() < 0.15 else None
    topic, priority = pick_topic(rng, topics)
    return build_conversation(
        rng,
        draft=draft,
        topic=topic,
        status=ConversationStatus.RESOLVED,
        priority=priority,
        created=created,
        channel=channels[key],
        switch_to=switch_to,
        staff=staff,
        now=now,
        message_ids=message_ids,
    )


def _archive_age(rng: random.Random, now: datetime) -> float:
    """Days ago, between the recent weeks and two years: more recent is likelier (growth), late
    November and December are busy (the shopping season), weekends quieter."""
    span = HISTORY_DAYS - RECENT_DAYS
    while True:
        age = RECENT_DAYS + rng.random() * span
        day = now - timedelta(days=age)
        weight = 1 - GROWTH * (age - RECENT_DAYS) / span
        if (day.month, day.day) >= (11, 20):
            weight *= 1.6
        if day.weekday() >= 5:
            weight *= 0.6
        if rng.random() * 1.6 < weight:
            return age


def _started(c: ConversationDraft) -> datetime:
    return c.conversation.created_at


def _ends(c: ConversationDraft) -> datetime:
    resolved = c.conversation.resolved_at
    return resolved or c.messages[-1].created_at
