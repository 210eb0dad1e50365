"""Demo survey answers: CSAT/CES after resolved conversations, NPS per customer."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from channels_app.models import Channel
from cxm.demo import data
from cxm.demo.conversations import HISTORY_DAYS, ConversationDraft
from cxm.demo.people import CustomerDraft
from surveys.models import SCALES, Survey, SurveyKind, SurveyResponse
from tickets.models import ConversationStatus

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
# Below this a score reads as unhappy, from this up as happy.
_SENTIMENT: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (7, 9),
    SurveyKind.CSAT: (3, 4),
    SurveyKind.CES: (4, 6),
}


def plan_responses(
    rng: random.Random,
    *,
    customers: list[tuple[CustomerDraft, list[ConversationDraft]]],
    surveys: dict[str, Survey],
    channels: dict[str, Channel],
    now: datetime,
) -> list[SurveyResponse]:
    # The first resolved conversations answer CSAT and CES, so even a tiny demo has both.
    owed = [SurveyKind.CSAT, SurveyKind.CES]
    responses = []
    for customer, conversations in customers:
        locale = customer.customer.locale
        resolved = [d for d in conversations if d.conversation.status == ConversationStatus.RESOLVED]
        for draft in resolved:
            roll = rng.random()
            if owed:
                kind = owed.pop(0)
            elif roll < 0.4:
                kind = SurveyKind.CSAT
            elif roll < 0.58:
                kind = SurveyKind.CES
            else:
                continue
            answered = _after(rng, draft.conversation.resolved_at, now, max_hours=36)
            responses.append(
                _response(rng, surveys[kind], customer, draft, draft.messages[-1].channel, answered, locale)
            )
        if customer.index and rng.random() >= 0.4:
            continue
        after: ConversationDraft | None = None
        if resolved and rng.random() < 0.5:
            after = resolved[-1]
            answered = _after(rng, after.conversation.resolved_at, now, max_hours=5 * 24)
            channel = after.messages[-1].channel
        else:
            start = max(customer.created_at or now, now - timedelta(days=HISTORY_DAYS))
            span = max(timedelta(0), now - timedelta(hours=1) - start)
            answered = (start + span * rng.random()).replace(microsecond=0)
            channel = channels[customer.channel_keys[0]]
        responses.append(_response(rng, surveys[SurveyKind.NPS], customer, after, channel, answered, locale))
    return responses


def _response(
    rng: random.Random,
    survey: Survey,
    customer: CustomerDraft,
    conversation: ConversationDraft | None,
    channel: Channel,
    answered: datetime,
    locale: str,
) -> SurveyResponse:
    low, _ = SCALES[survey.kind]
    weights = _WEIGHTS[survey.kind][conversation.slow if conversation else False]
    score = low + rng.choices(range(len(weights)), weights=weights)[0]
    unhappy, happy = _SENTIMENT[survey.kind]
    sentiment = "negative" if score < unhappy else "positive" if score >= happy else "neutral"
    comment = ""
    if rng.random() < (0.55 if sentiment == "negative" else 0.3):
        comment = rng.choice(data.SURVEY_COMMENTS[locale][sentiment])
    return SurveyResponse(
        survey=survey,
        customer=customer.customer,
        conversation=conversation.conversation if conversation else None,
        channel=channel,
        score=score,
        comment=comment,
        created_at=answered,
    )


def _after(rng: random.Random, moment: datetime | None, now: datetime, *, max_hours: float) -> datetime:
    """A little after ``moment`` (minutes to ``max_hours``), but never in the future."""
    assert moment is not None
    answered = moment + timedelta(seconds=rng.uniform(120, max_hours * 3600))
    if answered >= now:
        answered = moment + (now - moment) / 2
    return answered.replace(microsecond=0)
