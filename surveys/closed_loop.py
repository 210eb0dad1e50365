"""The closed loop: every unhappy answer becomes a conversation that someone has to resolve."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from profiles import timeline
from profiles.models import Identity
from surveys import scoring
from surveys.answer_sql import MISSING_FOLLOW_UPS
from surveys.invitation_models import FollowUp, FollowUpOutcome
from surveys.models import SurveyResponse
from tickets import events
from tickets.assignment import do_auto_assign
from tickets.message_events import publish_message
from tickets.models import Conversation, ConversationStatus, Direction, Message, Priority
from tickets.replies import IDENTITY_FOR_CHANNEL
from tickets.sla import do_apply_sla

FOLLOW_UP_CHANNEL_NAME = "Survey follow-ups"


class LoopError(ValueError):
    pass


def is_detractor(response: SurveyResponse) -> bool:
    return scoring.is_detractor(response.survey, response.score)


def follow_up_channel(response: SurveyResponse) -> Channel:
    """Where the agent can answer: the channel the survey went through, else one that reaches them."""
    for channel_id in (response.channel_id, getattr(response.conversation, "channel_id", None)):
        if channel_id:
            return Channel.objects.get(pk=channel_id)
    kinds: set[str] = set()
    if response.customer_id is not None:  # an anonymous answer has no identities to reach
        kinds = set(Identity.objects.filter(customer_id=response.customer_id).values_list("kind", flat=True))
    reachable = [kind for kind, identity_kind in IDENTITY_FOR_CHANNEL.items() if identity_kind in kinds]
    channel = Channel.objects.filter(is_active=True, kind__in=reachable).order_by("kind", "pk").first()
    if channel is not None:
        return channel
    # A widget answer from someone we cannot reach yet: the conversation still needs a home.
    channel, _created = Channel.objects.get_or_create(
        kind=ChannelKind.API, name=FOLLOW_UP_CHANNEL_NAME, defaults={"is_active": False}
    )
    return channel


def quote(response: SurveyResponse) -> str:
    survey = response.survey
    high = survey.scale[1]
    lines = [
        _("%(kind)s answer: %(score)s of %(high)s (survey “%(survey)s”).")
        % {"kind": survey.get_kind_display(), "score": response.score, "high": high, "survey": survey.name}
    ]
    if response.comment:
        lines.append(f"“{response.comment}”")
    return "\n\n".join(lines)


@transaction.atomic
def do_open_follow_up(*, response: SurveyResponse) -> FollowUp | None:
    if response.customer_id is None:
        return None  # an anonymous answer: nobody to follow up with
    channel = follow_up_channel(response)
    now = timezone.now()
    survey = response.survey
    conversation = Conversation.objects.create(
        customer_id=response.customer_id,
        channel=channel,
        team=survey.followup_team,
        priority=Priority.HIGH,
        subject=(
            _("Follow up: %(kind)s %(score)s from a survey")
            % {"kind": survey.get_kind_display(), "score": response.score}
        )[:300],
        status=ConversationStatus.OPEN,
        created_at=now,
        last_activity_at=now,
    )
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.INBOUND,
        body=quote(response),
        metadata={"survey_response": response.pk},
        provider_message_id=f"survey-answer:{response.pk}",
        created_at=now,
    )
    follow_up = FollowUp.objects.create(response=response, conversation=conversation)
    do_auto_assign(conversations=[conversation])
    do_apply_sla(conversations=[conversation], event="customer_message", at=now)
    timeline.record_message(message, new_conversation=True)
    publish_message(message, new_conversation=True)
    return follow_up


def do_open_follow_ups(*, response_ids: list[int]) -> int:
    """Follow-ups for answers stored by the batch writer; an answer that already has one is skipped."""
    opened = 0
    for response_id in response_ids:
        with transaction.atomic():
            response = (
                SurveyResponse.objects.select_for_update(of=("self",))
                .select_related("survey", "conversation")
                .filter(pk=response_id, follow_up__isnull=True, customer__isnull=False)
                .first()
            )
            if response is not None and is_detractor(response):
                opened += do_open_follow_up(response=response) is not None
    return opened


def do_open_missing_follow_ups(*, days: int = 7) -> int:
    """The safety net for a lost task: recent detractors without a follow-up."""
    since = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        # The batch statement's own detractor rule (answer_sql), so only detractors are read.
        cursor.execute(MISSING_FOLLOW_UPS, [since])
        ids = [row[0] for row in cursor.fetchall()]
    return do_open_follow_ups(response_ids=ids)


@transaction.atomic
def do_add_comment_to_follow_up(*, response: SurveyResponse) -> None:
    """The comment came after the score: put it in front of the agent too."""
    follow_up = FollowUp.objects.filter(response=response).select_related("conversation").first()
    if follow_up is None or follow_up.conversation is None:
        return
    Message.objects.filter(provider_message_id=f"survey-answer:{response.pk}").update(body=quote(response))
    message = Message.objects.filter(provider_message_id=f"survey-answer:{response.pk}").first()
    if message is not None:
        events.notify_message_created(message, new_conversation=False)


@transaction.atomic
def do_close_loop(*, follow_up: FollowUp, actor: User, outcome: str, note: str = "") -> FollowUp:
    """Record how the loop was closed; the conversation is resolved with it."""
    if outcome not in FollowUpOutcome.values:
        raise LoopError(_("Choose how the follow-up ended."))
    if follow_up.closed_at is not None:
        raise LoopError(_("This loop is already closed."))
    follow_up.outcome = outcome
    follow_up.note = note.strip()[:2000]
    follow_up.closed_at = timezone.now()
    follow_up.closed_by = actor
    follow_up.save(update_fields=["outcome", "note", "closed_at", "closed_by"])
    conversation = follow_up.conversation
    if conversation is not None and conversation.status != ConversationStatus.RESOLVED:
        from tickets.conversation_services import do_set_status

        do_set_status(conversation=conversation, actor=actor, status=ConversationStatus.RESOLVED)
    return follow_up
