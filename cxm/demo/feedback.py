"""Demo survey invitations and the answers to them, as the triggers and the sender would have left them.

Each resolution on a CSAT or CES channel, and each delivered order (NPS), is a chance to ask. The
app's own fatigue rules (surveys.fatigue) decide, replayed in time order per customer, so the send log
shows throttled invitations with the reasons the app gives. An invitation is built by
surveys.invitations.build_invitation, then "sent" when its send time came (past quiet hours), and maybe
answered. Only invitations whose send time has passed are kept: a pending one would really be sent by
the sweeper, through channels whose credentials are fake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.conversations import ConversationDraft
from cxm.demo.journey import PlannedEvent
from cxm.demo.people import CustomerDraft
from cxm.demo.workspace import CES_CHANNELS, CSAT_CHANNELS, NPS_EVENT
from profiles.models import Identity
from surveys import fatigue
from surveys.invitations import PUSHED, build_invitation
from surveys.models import (
    SCALES,
    Invitation,
    InvitationStatus,
    Medium,
    Survey,
    SurveyKind,
    SurveyResponse,
    Trigger,
    TriggerKind,
)
from surveys.triggers import MEDIUM_FOR_CHANNEL_KIND
from tickets.models import ConversationStatus
from tickets.replies import IDENTITY_FOR_CHANNEL

# Score weights from the bottom of each scale up: most customers are happy, a slow or long
# conversation shifts answers down, and NPS keeps a visible tail of detractors.
_WEIGHTS: dict[str, dict[bool, list[int]]] = {
    SurveyKind.NPS: {
        False: [1, 1, 1, 1, 2, 2, 4, 8, 16, 28, 36],
        True: [3, 3, 4, 5, 6, 8, 10, 14, 15, 15, 17],
    },
    SurveyKind.CSAT: {False: [2, 3, 7, 30, 58], True: [12, 14, 20, 30, 24]},
    SurveyKind.CES: {False: [1, 1, 3, 7, 14, 34, 40], True: [6, 10, 14, 20, 20, 18, 12]},
}
# The bad week on WhatsApp (cxm.demo.archive): hours without an answer about a late order.
_INCIDENT_WEIGHTS: dict[str, list[int]] = {
    SurveyKind.NPS: [8, 8, 10, 12, 12, 12, 12, 10, 8, 5, 3],
    SurveyKind.CSAT: [40, 30, 20, 7, 3],
    SurveyKind.CES: [25, 25, 20, 15, 10, 3, 2],
}
_INCIDENT_ANSWER_RATE = 0.95
# Below this a score reads as unhappy, from this up as happy.
_SENTIMENT: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (7, 9),
    SurveyKind.CSAT: (3, 4),
    SurveyKind.CES: (4, 6),
}
# How many of those asked answer, by medium: one click in a chat is easy, mail gets ignored.
_ANSWER_RATE: dict[str, float] = {Medium.WIDGET: 0.6, Medium.EMAIL: 0.4}
_CHAT_ANSWER_RATE = 0.55
_CHANNEL_FOR_MEDIUM = {
    medium: kind for kind, medium in MEDIUM_FOR_CHANNEL_KIND.items() if medium != Medium.EMAIL
}


@dataclass
class Ask:
    """One moment a trigger fired for a customer."""

    at: datetime
    survey: Survey
    rule: Trigger
    trigger: str
    conversation: ConversationDraft | None
    channel: Channel  # the channel the customer last used then


@dataclass
class Feedback:
    invitations: list[Invitation]
    responses: list[SurveyResponse]


def plan_feedback(
    rng: random.Random,
    *,
    history: list[tuple[CustomerDraft, list[ConversationDraft], list[PlannedEvent]]],
    surveys: dict[str, Survey],
    triggers: dict[str, Trigger],
    channels: dict[str, Channel],
    identities: dict[int, list[Identity]],
    now: datetime,
) -> Feedback:
    """``identities`` are the stored ones per customer id. Every kind gets at least one answer."""
    owed = set(SurveyKind.values)
    feedback = Feedback([], [])
    # The sender's fallback when the conversation's channel cannot carry the medium: the first of its kind.
    senders: dict[str, Channel] = {}
    for channel in channels.values():
        senders.setdefault(channel.kind, channel)
    ces_channels = {channels[key].pk for key in CES_CHANNELS}
    csat_channels = {channels[key].pk for key in CSAT_CHANNELS}
    for draft, conversations, events in history:
        asks = []
        for conv in conversations:
            c = conv.conversation
            if c.status != ConversationStatus.RESOLVED or c.resolved_at is None:
                continue
            if c.channel_id not in ces_channels | csat_channels:
                continue  # no trigger listens to resolutions there
            kind = SurveyKind.CES if c.channel_id in ces_channels else SurveyKind.CSAT
            asks.append(
                Ask(c.resolved_at, surveys[kind], triggers[kind], TriggerKind.RESOLVED, conv, c.channel)
            )
        for event in events:
            if event.name == NPS_EVENT and (draft.index == 0 or rng.random() < 0.6):
                channel = _channel_at(conversations, event.at) or channels[draft.channel_keys[0]]
                asks.append(
                    Ask(
                        event.at,
                        surveys[SurveyKind.NPS],
                        triggers[SurveyKind.NPS],
                        TriggerKind.EVENT,
                        None,
                        channel,
                    )
                )
        asks.sort(key=lambda ask: ask.at)
        asked: list[tuple[datetime, int]] = []
        for ask in asks:
            _ask(rng, ask, draft=draft, identities=identities.get(draft.customer.pk, []), asked=asked,
                 owed=owed, feedback=feedback, now=now, senders=senders)  # fmt: skip
    return feedback


def _ask(
    rng: random.Random,
    ask: Ask,
    *,
    draft: CustomerDraft,
    identities: list[Identity],
    asked: list[tuple[datetime, int]],
    owed: set[str],
    feedback: Feedback,
    now: datetime,
    senders: dict[str, Channel],
) -> None:
    survey, customer = ask.survey, draft.customer
    conversation = ask.conversation.conversation if ask.conversation else None
    medium = MEDIUM_FOR_CHANNEL_KIND.get(ask.channel.kind, Medium.EMAIL)
    recent = fatigue.RecentlyAsked(
        any_survey=_within(asked, ask.at, settings.SURVEY_MIN_INTERVAL_DAYS, None, customer.pk),
        this_survey=_within(asked, ask.at, survey.recontact_days, survey.pk, customer.pk),
    )
    reason = fatigue.throttle_reason(survey, customer, ask.at, asked=recent)
    invitation = build_invitation(
        survey=survey, customer=customer, medium=medium, trigger=ask.trigger, reason=reason, now=ask.at,
        delay=timedelta(minutes=ask.rule.delay_minutes), rule=ask.rule, conversation=conversation,
        agent=conversation.assignee if conversation else None,
        # The survey answers in the conversation's own channel only when it is that medium.
        channel=ask.channel if MEDIUM_FOR_CHANNEL_KIND.get(ask.channel.kind) == medium else None,
    )  # fmt: skip
    if invitation.status == InvitationStatus.PENDING:
        assert invitation.send_at is not None
        if invitation.send_at >= now:
            return  # still waiting for its send time: the real sender would send it
        failure = _deliver(invitation, identities, senders)
        if failure:
            invitation.status, invitation.reason, invitation.send_at = InvitationStatus.FAILED, failure, None
        else:
            invitation.status, invitation.sent_at = InvitationStatus.SENT, invitation.send_at
    feedback.invitations.append(invitation)
    if invitation.status != InvitationStatus.SENT:
        return
    assert invitation.sent_at is not None
    asked.append((ask.at, survey.pk))
    rate = _ANSWER_RATE.get(medium, _CHAT_ANSWER_RATE)
    if ask.conversation and ask.conversation.incident:
        rate = _INCIDENT_ANSWER_RATE  # an angry customer answers
    if survey.kind not in owed and rng.random() >= rate:
        return
    delay = (
        timedelta(seconds=rng.uniform(20, 90))
        if medium not in PUSHED
        else timedelta(hours=rng.uniform(0.05, 30))
    )
    answered = invitation.sent_at + delay
    if answered >= min(now, invitation.expires_at):
        if survey.kind not in owed:
            return
        answered = invitation.sent_at + (now - invitation.sent_at) / 2
    owed.discard(survey.kind)
    invitation.status, invitation.answered_at = InvitationStatus.ANSWERED, answered.replace(microsecond=0)
    feedback.responses.append(_response(rng, invitation, ask, locale=customer.locale))


def _deliver(invitation: Invitation, identities: list[Identity], senders: dict[str, Channel]) -> str:
    """Where the sender would have sent it (fills channel and recipient), or why it could not."""
    if invitation.medium not in PUSHED:
        return ""
    kind = _CHANNEL_FOR_MEDIUM.get(invitation.medium, ChannelKind.EMAIL)
    identity_kind = IDENTITY_FOR_CHANNEL[kind]
    found = [i for i in identities if i.kind == identity_kind]
    if not found:
        return f"The customer has no {identity_kind} identity."
    identity = sorted(found, key=lambda i: (not i.verified, -i.pk))[0]
    invitation.recipient = identity.value
    conversation_channel = invitation.conversation.channel if invitation.conversation else None
    usable = [c for c in (invitation.channel, conversation_channel) if c is not None and c.kind == kind]
    invitation.channel = usable[0] if usable else senders.get(kind)
    if invitation.channel is None:
        return f"No active {kind} channel to send the survey through."
    return ""


def _within(
    asked: list[tuple[datetime, int]], at: datetime, days: int, survey_id: int | None, customer_id: int
) -> frozenset[int]:
    floor = at - timedelta(days=days)
    hit = any(floor <= when <= at and survey_id in (None, asked_survey) for when, asked_survey in asked)
    return frozenset({customer_id}) if hit else frozenset()


def _channel_at(conversations: list[ConversationDraft], at: datetime) -> Channel | None:
    """The channel of the customer's latest message before ``at``: where a trigger would reach them."""
    before = [m for conv in conversations for m in conv.messages if m.created_at <= at]
    return max(before, key=lambda m: m.created_at).channel if before else None


def _response(rng: random.Random, invitation: Invitation, ask: Ask, *, locale: str) -> SurveyResponse:
    survey = invitation.survey
    low, _ = SCALES[survey.kind]
    weights = _WEIGHTS[survey.kind][ask.conversation.slow if ask.conversation else False]
    if ask.conversation and ask.conversation.incident:
        weights = _INCIDENT_WEIGHTS[survey.kind]
    score = low + rng.choices(range(len(weights)), weights=weights)[0]
    unhappy, happy = _SENTIMENT[survey.kind]
    if ask.conversation and ask.conversation.incident:
        # Nobody in the bad week was delighted, so every answer from it names the problem, whatever
        # day the demo is seeded on.
        score = min(score, happy - 1)
    sentiment = "negative" if score < unhappy else "positive" if score >= happy else "neutral"
    comment = ""
    if ask.conversation and ask.conversation.incident and sentiment != "positive":
        # The bad week's customers say what went wrong.
        comment = rng.choice(data.INCIDENT_COMMENTS[locale])
    elif rng.random() < (0.55 if sentiment == "negative" else 0.3):
        comment = rng.choice(data.SURVEY_COMMENTS[locale][sentiment])
    assert invitation.answered_at is not None
    return SurveyResponse(
        survey=survey,
        invitation=invitation,
        customer=invitation.customer,
        conversation=invitation.conversation,
        channel=invitation.channel or ask.channel,
        agent=invitation.agent,
        medium=invitation.medium,
        locale=invitation.locale,
        score=score,
        comment=comment,
        # A one-click score stays partial until the follow-up page is sent; a comment completes it.
        is_complete=bool(comment) or rng.random() < 0.5,
        created_at=invitation.answered_at,
    )


def ensure_detractors(
    rng: random.Random, responses: list[SurveyResponse], *, now: datetime, settled_days: float
) -> None:
    """The demo shows a closed loop and an open one: make sure an old and a recent answer are unhappy."""
    if len(responses) < 2:
        return
    ordered = sorted(responses, key=lambda r: r.created_at)
    old = next((r for r in ordered if r.created_at < now - timedelta(days=settled_days)), ordered[0])
    for response in (old, ordered[-1]):
        survey = response.survey
        if response.score > survey.detractor_at_or_below:
            response.score = SCALES[survey.kind][0] + rng.randint(0, 1)
            response.comment = rng.choice(data.SURVEY_COMMENTS[response.locale or "en"]["negative"])
            response.is_complete = True
