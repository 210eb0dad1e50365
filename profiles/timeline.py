"""Writers of the journey timeline: one row per touchpoint, written where the touchpoint happens.

The apps above profiles call these with their own rows; profiles knows those rows only by the few
attributes the entries copy (the protocols below), never by importing the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from profiles.models import CustomerEvent, TimelineEntry, TimelineKind


class Conversation(Protocol):
    pk: Any
    customer_id: int
    channel_id: int
    created_at: datetime
    subject: str


class Message(Protocol):
    pk: Any
    conversation: Any  # a Conversation; the FK descriptor is not a plain attribute to a type checker
    channel_id: int
    created_at: datetime
    subject: str
    body: str
    direction: str


class SurveyResponse(Protocol):
    pk: Any
    customer_id: int | None
    conversation_id: int | None
    channel_id: int | None
    created_at: datetime
    comment: str
    score: int
    survey: Any  # has .kind


SUMMARY_LENGTH = 300


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_LENGTH else flat[: SUMMARY_LENGTH - 1] + "…"


def record_message(message: Message, *, new_conversation: bool) -> None:
    record_messages([(message, new_conversation)])


def record_messages(messages: Iterable[tuple[Message, bool]]) -> None:
    """Timeline rows for stored messages, each paired with whether it opened its conversation."""
    rows = []
    for message, new_conversation in messages:
        conversation = message.conversation
        if new_conversation:
            rows.append(
                TimelineEntry(
                    customer_id=conversation.customer_id,
                    occurred_at=conversation.created_at,
                    kind=TimelineKind.CONVERSATION_OPENED,
                    channel_id=conversation.channel_id,
                    conversation=conversation,
                    summary=_summary(conversation.subject),
                )
            )
        rows.append(
            TimelineEntry(
                customer_id=conversation.customer_id,
                occurred_at=message.created_at,
                kind=TimelineKind.MESSAGE,
                channel_id=message.channel_id,
                conversation=conversation,
                message_id=message.pk,
                summary=_summary(message.subject if message.subject and not message.body else message.body),
                data={"direction": message.direction},
            )
        )
    TimelineEntry.objects.bulk_create(rows)


def record_conversation_resolved(conversation: Conversation, *, at: datetime) -> TimelineEntry:
    return TimelineEntry.objects.create(
        customer_id=conversation.customer_id,
        occurred_at=at,
        kind=TimelineKind.CONVERSATION_RESOLVED,
        channel_id=conversation.channel_id,
        conversation_id=conversation.pk,
        summary=_summary(conversation.subject),
    )


def record_survey_answer(response: SurveyResponse) -> TimelineEntry | None:
    if response.customer_id is None:
        return None
    return TimelineEntry.objects.create(
        customer_id=response.customer_id,
        occurred_at=response.created_at,
        kind=TimelineKind.SURVEY_ANSWER,
        channel_id=response.channel_id,
        conversation_id=response.conversation_id,
        survey_response_id=response.pk,
        summary=_summary(response.comment),
        data={"survey_kind": response.survey.kind, "score": response.score},
    )


def event_entries(events: list[CustomerEvent]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            customer_id=event.customer_id,
            occurred_at=event.occurred_at,
            kind=TimelineKind.EVENT,
            event=event,
            summary=event.name,
        )
        for event in events
    ]


def update_survey_answer(response: SurveyResponse) -> None:
    """The comment arrived after the score (one-click and in-channel answers)."""
    TimelineEntry.objects.filter(survey_response_id=response.pk).update(summary=_summary(response.comment))
