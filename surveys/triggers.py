"""When surveys go out by themselves: after a resolution, on a customer event, on a schedule.

Each trigger only decides *whether* and *through what*; surveys.invitations.do_invite (or, for a whole
segment, the bulk path below) applies the fatigue rules and logs every decision, throttled ones too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User
from channels_app.kinds import SURVEY_MEDIUM_FOR_KIND
from profiles.models import Customer, CustomerEvent
from profiles.segments import SegmentError, customers_in_segment
from surveys import fatigue
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus, Medium, Trigger, TriggerKind
from surveys.invitations import build_invitation, do_invite, enqueue_sending
from tickets.models import Conversation, Direction, Message

if TYPE_CHECKING:
    # Stubs only: django-stubs-ext is a development dependency.
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

# The medium of a survey about a conversation on each kind (KindSpec.survey_medium: web chat visitors
# are asked in the widget, an API "channel" falls back to mail).
MEDIUM_FOR_CHANNEL_KIND: Mapping[str, str] = SURVEY_MEDIUM_FOR_KIND
# Conversations carrying this label (any case) are spam: nobody is surveyed about them.
SPAM_LABEL = "spam"
# A backfilled event (an import of last year's orders) must not survey people about old news.
EVENT_MAX_AGE = timedelta(days=2)
SCHEDULE_BATCH = 1000


def _is_automated(conversation: Conversation) -> bool:
    """Only machines wrote in (auto-replies, bounces): there is no person to ask."""
    inbound = Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
    return inbound.exists() and not inbound.filter(~Q(metadata__has_key="automated")).exists()


def _is_spam(conversation: Conversation) -> bool:
    return conversation.labels.filter(name__iexact=SPAM_LABEL).exists()


def skip_reason(conversation: Conversation, actor: User | None) -> str:
    """Why a resolution must not trigger a survey ("" when it may); for logs and tests."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return "resolved automatically"
    if FollowUp.objects.filter(conversation=conversation).exists():
        return "a survey follow-up"  # never survey about a survey
    if _is_spam(conversation):
        return "spam"
    if _is_automated(conversation):
        return "automated"
    return ""


def medium_for(rule: Trigger, channel_kind: str | None) -> str:
    if rule.medium:
        return rule.medium
    return MEDIUM_FOR_CHANNEL_KIND.get(channel_kind or "", Medium.EMAIL)


def on_conversation_resolved(conversation: Conversation, actor: User | None) -> list[Invitation]:
    """Called after a conversation became resolved (`ConversationResolved`, surveys/ticket_handlers.py)."""
    # A savepoint: a survey problem must never stop an agent from resolving a conversation.
    try:
        with transaction.atomic():
            return _invite_after_resolution(conversation, actor)
    except Exception:
        logger.exception("survey trigger failed for conversation %s", conversation.pk)
        return []


def _invite_after_resolution(conversation: Conversation, actor: User | None) -> list[Invitation]:
    rules = [
        rule
        for rule in Trigger.objects.filter(kind=TriggerKind.RESOLVED, is_active=True)
        .select_related("survey")
        .prefetch_related("channels")
        if fatigue.active(rule.survey, timezone.now())
        and (not rule.channels.all() or conversation.channel_id in {c.pk for c in rule.channels.all()})
    ]
    if not rules:
        return []
    reason = skip_reason(conversation, actor)
    if reason:
        logger.info("no survey for conversation %s: %s", conversation.pk, reason)
        return []
    channel = conversation.channel
    invitations = []
    for rule in rules:
        medium = medium_for(rule, channel.kind)
        invitations.append(
            do_invite(
                survey=rule.survey,
                customer=conversation.customer,
                medium=medium,
                trigger=TriggerKind.RESOLVED,
                # The survey answers in the conversation's own channel only when it is that medium.
                channel=channel if MEDIUM_FOR_CHANNEL_KIND.get(channel.kind) == medium else None,
                conversation=conversation,
                agent=conversation.assignee,
                rule=rule,
                delay=timedelta(minutes=rule.delay_minutes),
            )
        )
    return invitations


def on_customer_event(event: CustomerEvent, *, now: datetime | None = None) -> list[Invitation]:
    return on_customer_events([event], now=now)


def on_customer_events(events: Sequence[CustomerEvent], *, now: datetime | None = None) -> list[Invitation]:
    """Called by profiles.customer_events.do_record_events with the events it stored.

    Costs one query when no event trigger matches: event batches are the API's hot path.
    """
    names = {event.name for event in events}
    if not names:
        return []
    now = now or timezone.now()
    rules: dict[str, list[Trigger]] = {}
    for rule in Trigger.objects.filter(
        kind=TriggerKind.EVENT, is_active=True, event_name__in=names
    ).select_related("survey"):
        if fatigue.active(rule.survey, now):
            rules.setdefault(rule.event_name, []).append(rule)
    if not rules:
        return []
    # A savepoint: a survey problem must never lose the company's events.
    try:
        with transaction.atomic():
            return _invite_after_events(events, rules, now)
    except Exception:
        logger.exception("survey event trigger failed")
        return []


def _invite_after_events(
    events: Sequence[CustomerEvent], rules: dict[str, list[Trigger]], now: datetime
) -> list[Invitation]:
    customers = Customer.objects.in_bulk({event.customer_id for event in events if event.name in rules})
    invitations = []
    for event in events:
        customer = customers.get(event.customer_id)
        if customer is None or event.occurred_at < now - EVENT_MAX_AGE:
            continue
        for rule in rules.get(event.name, []):
            due = event.occurred_at + timedelta(minutes=rule.delay_minutes)
            invitations.append(
                do_invite(
                    survey=rule.survey,
                    customer=customer,
                    medium=rule.medium or _latest_medium(customer.pk),
                    trigger=TriggerKind.EVENT,
                    rule=rule,
                    delay=max(due - now, timedelta(0)),
                    now=now,
                )
            )
    return invitations


def _latest_channel_kind():
    return Subquery(
        Conversation.objects.filter(customer_id=OuterRef("pk"))
        .order_by("-last_activity_at")
        .values("channel__kind")[:1]
    )


def _latest_medium(customer_id: int) -> str:
    kind = (
        Conversation.objects.filter(customer_id=customer_id)
        .order_by("-last_activity_at")
        .values_list("channel__kind", flat=True)
        .first()
    )
    return MEDIUM_FOR_CHANNEL_KIND.get(kind or "", Medium.EMAIL)


def due_schedules() -> Q:
    every = Q(every_days__isnull=True) | Q(every_days=0)
    return Q(kind=TriggerKind.SCHEDULE, is_active=True, segment__isnull=False) & ~every


def do_run_scheduled_triggers(now: datetime | None = None) -> int:
    """Run every schedule whose period has come; returns how many invitations were created.

    A schedule runs at most once per period (`every_days` since `last_run_at`), whoever calls this and
    however often: the row is locked and its clock advanced in the same transaction as its invitations.
    """
    now = now or timezone.now()
    created = 0
    ids = list(Trigger.objects.filter(due_schedules()).values_list("pk", flat=True))
    for pk in ids:
        created += _run_schedule(pk, now)
    return created


@transaction.atomic
def _run_schedule(pk: int, now: datetime) -> int:
    rule = (
        Trigger.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("survey", "segment")
        .filter(due_schedules(), pk=pk)
        .first()
    )
    if rule is None or (rule.last_run_at and rule.last_run_at + timedelta(days=rule.every_days or 0) > now):
        return 0
    rule.last_run_at = now
    rule.save(update_fields=["last_run_at"])
    if not fatigue.active(rule.survey, now):
        return 0
    assert rule.segment is not None  # due_schedules() picks only rules with a segment
    try:
        members = customers_in_segment(rule.segment)
    except SegmentError:
        logger.warning("schedule %s: segment %s no longer validates", rule.pk, rule.segment_id, exc_info=True)
        return 0
    members = members.annotate(latest_kind=_latest_channel_kind()).order_by("pk")
    created = 0
    batch: list[WithAnnotations[Customer, LatestKind]] = []
    for customer in members.iterator(chunk_size=SCHEDULE_BATCH):
        batch.append(customer)
        if len(batch) >= SCHEDULE_BATCH:
            created += _invite_batch(rule, batch, now)
            batch = []
    if batch:
        created += _invite_batch(rule, batch, now)
    return created


class LatestKind(TypedDict):
    latest_kind: str | None  # the channel kind of the customer's latest conversation, if any


def _invite_batch(
    rule: Trigger, customers: list[WithAnnotations[Customer, LatestKind]], now: datetime
) -> int:
    """The bulk twin of do_invite for a segment: the same rules and rows, a few queries per batch."""
    survey = rule.survey
    asked = fatigue.recently_asked(survey, [customer.pk for customer in customers], now)
    rows = [
        build_invitation(
            survey=survey,
            customer=customer,
            medium=rule.medium or MEDIUM_FOR_CHANNEL_KIND.get(customer.latest_kind or "", Medium.EMAIL),
            trigger=TriggerKind.SCHEDULE,
            reason=fatigue.throttle_reason(survey, customer, now, asked),
            now=now,
            rule=rule,
        )
        for customer in customers
    ]
    Invitation.objects.bulk_create(rows, batch_size=SCHEDULE_BATCH)
    if any(row.status == InvitationStatus.PENDING for row in rows):
        enqueue_sending()
    return len(rows)
