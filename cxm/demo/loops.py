"""The closed loop of the demo: each detractor's answer opens a follow-up, most old ones are closed.

Follow-ups are opened by surveys.closed_loop.do_open_follow_up and closed by do_close_loop, exactly as
an answer and an agent would. Those services work at the present moment, so afterwards the rows are
moved back to when the answer came in and when the agent acted: the shape is the services', the
timing the history's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accounts.models import Team, User
from cxm.demo import data, loop_texts
from profiles import timeline
from profiles.models import TimelineEntry, TimelineKind
from surveys.closed_loop import do_close_loop, do_open_follow_up, is_detractor
from surveys.models import FollowUp, FollowUpOutcome, SurveyResponse
from tickets.models import Conversation, ConversationStatus, Direction, Message

# Loops older than this are mostly closed; newer ones are still being worked.
SETTLED_DAYS = 4
_FORGOTTEN = timedelta(days=30)
_OUTCOMES = [
    FollowUpOutcome.RESOLVED,
    FollowUpOutcome.UNRESOLVED,
    FollowUpOutcome.UNREACHABLE,
    FollowUpOutcome.NO_ACTION,
]
_OUTCOME_WEIGHTS = [55, 20, 15, 10]


@dataclass
class Loop:
    follow_up: FollowUp
    conversation: Conversation
    opened: datetime
    locale: str
    first_name: str
    messages: list[Message] = field(default_factory=list)


def do_demo_loops(
    rng: random.Random,
    *,
    responses: list[SurveyResponse],
    teams: dict[str, Team],
    agents_by_team: dict[str, list[User]],
    first_names: dict[int, str],
    now: datetime,
) -> list[Loop]:
    """Open a follow-up for every detractor, then work, close or leave open each, oldest first."""
    loops = []
    for response in sorted((r for r in responses if is_detractor(r)), key=lambda r: r.created_at):
        follow_up = do_open_follow_up(response=response)
        if follow_up is None or follow_up.conversation is None:
            continue
        locale = response.locale or "en"
        loop = Loop(
            follow_up,
            follow_up.conversation,
            response.created_at,
            locale,
            first_names.get(response.customer_id or 0, ""),
        )
        loops.append(loop)
    _move_opening_back(loops, teams)
    for position, loop in enumerate(loops):
        settled = loop.opened < now - timedelta(days=SETTLED_DAYS)
        # The oldest loop is closed and the newest open, whatever the dice say; a loop left open for
        # a month was closed in the end (the two years of history would otherwise pile them up).
        if position == len(loops) - 1 and len(loops) > 1:
            close = False
        else:
            close = position == 0 or (settled and rng.random() < 0.85) or loop.opened < now - _FORGOTTEN
        team = data.LOCALE_TEAM[loop.locale]
        agent = rng.choice(
            [a for a in agents_by_team[team] if a.language == loop.locale] or agents_by_team[team]
        )
        if close or rng.random() < 0.5:
            _work(rng, loop, agent=agent, close=close, now=now)
    return loops


def _move_opening_back(loops: list[Loop], teams: dict[str, Team]) -> None:
    """The services opened every loop now; each really opened when its answer came in."""
    conversations, follow_ups, messages, entries = [], [], [], []
    by_conversation: dict[int | None, Loop] = {loop.conversation.pk: loop for loop in loops}
    ids = [loop.conversation.pk for loop in loops]
    for loop in loops:
        conv = loop.conversation
        conv.created_at = conv.last_activity_at = loop.opened
        conv.team = teams[data.LOCALE_TEAM[loop.locale]]
        conversations.append(conv)
        loop.follow_up.opened_at = loop.opened
        follow_ups.append(loop.follow_up)
    for message in Message.objects.filter(conversation_id__in=ids):
        message.created_at = by_conversation[message.conversation_id].opened
        by_conversation[message.conversation_id].messages.append(message)
        messages.append(message)
    for entry in TimelineEntry.objects.filter(conversation_id__in=ids):
        entry.occurred_at = by_conversation[entry.conversation_id].opened
        entries.append(entry)
    Conversation.objects.bulk_update(conversations, ["created_at", "last_activity_at", "team"])
    FollowUp.objects.bulk_update(follow_ups, ["opened_at"])
    Message.objects.bulk_update(messages, ["created_at"])
    TimelineEntry.objects.bulk_update(entries, ["occurred_at"])


def _work(rng: random.Random, loop: Loop, *, agent: User, close: bool, now: datetime) -> None:
    """The agent writes to the customer, who may answer; a closed loop then gets its outcome."""
    conv = loop.conversation
    replied = loop.opened + timedelta(hours=rng.uniform(0.3, 20))
    if replied >= now - timedelta(minutes=5):
        replied = loop.opened + (now - loop.opened) / 2
    text = rng.choice(loop_texts.AGENT[loop.locale]).format(name=loop.first_name, agent=agent.first_name)
    said = [_message(loop, Direction.OUTBOUND, text, replied, author=agent)]
    outcome = rng.choices(_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
    answer_at = replied + timedelta(hours=rng.uniform(0.2, 8))
    if outcome != FollowUpOutcome.UNREACHABLE and answer_at < now - timedelta(minutes=2):
        said.append(
            _message(loop, Direction.INBOUND, rng.choice(loop_texts.CUSTOMER[loop.locale]), answer_at)
        )
    Message.objects.bulk_create(said)
    loop.messages += said
    conv.assignee = agent
    conv.first_response_at = replied
    conv.last_activity_at = said[-1].created_at
    conv.save(update_fields=["assignee", "first_response_at", "last_activity_at"])
    timeline.record_messages([(message, False) for message in said])
    if not close:
        return
    closed = said[-1].created_at + timedelta(minutes=rng.uniform(10, 180))
    closed = min(closed, now - timedelta(seconds=30)).replace(microsecond=0)
    note = loop_texts.NOTES[agent.language or "en"][outcome]
    do_close_loop(follow_up=loop.follow_up, actor=agent, outcome=outcome, note=note)
    loop.follow_up.closed_at = closed
    loop.follow_up.save(update_fields=["closed_at"])
    Conversation.objects.filter(pk=conv.pk).update(resolved_at=closed)
    conv.status, conv.resolved_at = ConversationStatus.RESOLVED, closed
    TimelineEntry.objects.filter(conversation=conv, kind=TimelineKind.CONVERSATION_RESOLVED).update(
        occurred_at=closed
    )


def _message(loop: Loop, direction: str, text: str, at: datetime, author: User | None = None) -> Message:
    conv = loop.conversation
    return Message(
        conversation=conv,
        channel_id=conv.channel_id,
        direction=direction,
        author=author,
        body=text,
        provider_message_id=f"demo-loop-{conv.pk}-{len(loop.messages)}"
        if direction == Direction.INBOUND
        else None,
        created_at=at.replace(microsecond=0),
    )
