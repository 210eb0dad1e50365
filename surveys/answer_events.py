"""Announcing survey answers, and the closed loop that hangs off the announcement.

Answers from the survey page and from chats are announced after their transaction commits. Answers the
fast JSON endpoint writes on its own connection are announced from the worker task it queues for
detractors (`surveys.tasks.open_follow_ups`); the follow-up sweep covers a task that was lost.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import events as domain_events
from surveys.closed_loop import do_open_follow_ups, is_detractor
from surveys.models import SurveyResponse


def answered_event(response: SurveyResponse) -> domain_events.SurveyAnswered:
    return domain_events.SurveyAnswered(
        response_id=response.pk,
        survey_id=response.survey_id,
        customer_id=response.customer_id,
        conversation_id=response.conversation_id,
        score=response.score,
        detractor=is_detractor(response),
    )


def announce_responses(response_ids: list[int]) -> int:
    """Announce answers already committed by someone else (the batch writer)."""
    rows = SurveyResponse.objects.select_related("survey").filter(pk__in=response_ids).order_by("pk")
    announced = [answered_event(response) for response in rows]
    domain_events.deliver(announced)
    return len(announced)


def open_follow_ups(batch: Sequence[domain_events.SurveyAnswered]) -> None:
    """Every detractor with a known customer gets a follow-up conversation (skipped if it has one)."""
    detractors = [event.response_id for event in batch if event.detractor and event.customer_id is not None]
    if detractors:
        do_open_follow_ups(response_ids=detractors)


def register() -> None:
    domain_events.subscribe_batch(domain_events.SurveyAnswered, open_follow_ups)
