"""Recording answers: one per invitation (the database says so), late ones refused politely."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import events as domain_events
from profiles import timeline
from surveys.answer_events import answered_event
from surveys.closed_loop import do_add_comment_to_follow_up
from surveys.invitation_models import Invitation, InvitationStatus
from surveys.models import SurveyResponse

MAX_COMMENT = 5000


class AnswerError(Exception):
    """A refused answer; `code` picks the page or JSON error the customer sees."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    ANSWERED = "answered"
    INVALID = "invalid"
    NOT_SENT = "not_sent"

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_score(raw: Any, low: int, high: int) -> int:
    if isinstance(raw, bool):
        raise AnswerError(AnswerError.INVALID)
    try:
        score = int(str(raw).strip())
    except (TypeError, ValueError):
        raise AnswerError(AnswerError.INVALID) from None
    if not low <= score <= high:
        raise AnswerError(AnswerError.INVALID)
    return score


def clean_answers(invitation: Invitation, raw: dict[str, Any]) -> dict[str, str]:
    """Only the survey's own extra questions, as short strings."""
    known = {str(q.get("id")) for q in invitation.survey.extra_questions if isinstance(q, dict)}
    return {key: str(value)[:1000] for key, value in raw.items() if key in known and str(value).strip()}


def load_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("survey", "customer").filter(token=token).first() if token else None
    )
    # Erasure replaces the tokens of an erased person; this also holds for a token read before that.
    if invitation is None or (invitation.customer is not None and invitation.customer.erased_at is not None):
        raise AnswerError(AnswerError.UNKNOWN)
    return invitation


def check_open(invitation: Invitation, now: datetime) -> None:
    if invitation.status == InvitationStatus.ANSWERED:
        raise AnswerError(AnswerError.ANSWERED)
    if invitation.status in (InvitationStatus.THROTTLED, InvitationStatus.FAILED):
        raise AnswerError(AnswerError.NOT_SENT)
    if invitation.expires_at <= now:
        raise AnswerError(AnswerError.EXPIRED)


def do_record_answer(
    *,
    token: str,
    score: Any,
    comment: str = "",
    answers: dict[str, Any] | None = None,
    medium: str = "",
    complete: bool = False,
    now: datetime | None = None,
) -> SurveyResponse:
    """Store the score (and whatever else came with it). Raises AnswerError with the reason."""
    now = now or timezone.now()
    invitation = load_invitation(token)
    # A pending invitation (sent but the send task has not marked it yet) may already be answered.
    if invitation.status == InvitationStatus.PENDING and invitation.sent_at is None:
        invitation.status = InvitationStatus.SENT
    check_open(invitation, now)
    low, high = invitation.survey.scale
    value = parse_score(score, low, high)
    try:
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation.pk, status__in=[InvitationStatus.SENT, InvitationStatus.PENDING]
            ).update(status=InvitationStatus.ANSWERED, answered_at=now)
            if not claimed:
                raise AnswerError(AnswerError.ANSWERED)
            response = SurveyResponse.objects.create(
                survey=invitation.survey,
                invitation=invitation,
                customer=invitation.customer,
                conversation_id=invitation.conversation_id,
                channel_id=invitation.channel_id,
                agent_id=invitation.agent_id,
                medium=medium or invitation.medium,
                locale=invitation.locale,
                score=value,
                comment=comment.strip()[:MAX_COMMENT],
                answers=clean_answers(invitation, answers or {}),
                is_complete=complete,
                created_at=now,
            )
            timeline.record_survey_answer(response)
            domain_events.publish(answered_event(response))
    except IntegrityError:
        # The unique invitation on the response: a racing request with the same token won.
        raise AnswerError(AnswerError.ANSWERED) from None
    return response


@transaction.atomic
def do_complete_answer(
    *, token: str, comment: str = "", answers: dict[str, Any] | None = None, now: datetime | None = None
) -> SurveyResponse:
    """The follow-up page: the comment and extra answers after a one-click or in-channel score."""
    now = now or timezone.now()
    invitation = load_invitation(token)
    response = SurveyResponse.objects.select_for_update().filter(invitation=invitation).first()
    if response is None:
        raise AnswerError(AnswerError.UNKNOWN)
    if response.is_complete:
        raise AnswerError(AnswerError.ANSWERED)
    if invitation.expires_at <= now:
        raise AnswerError(AnswerError.EXPIRED)
    response.comment = comment.strip()[:MAX_COMMENT]
    response.answers = clean_answers(invitation, answers or {})
    response.is_complete = True
    response.save(update_fields=["comment", "answers", "is_complete"])
    if response.comment:
        timeline.update_survey_answer(response)
        do_add_comment_to_follow_up(response=response)
    return response
