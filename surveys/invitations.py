"""Creating invitations: the fatigue rules decide, every decision is logged, sending happens later."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from channels_app.kinds import KindTable
from channels_app.models import Channel
from profiles.models import Customer
from surveys import fatigue
from surveys.invitation_models import Invitation, InvitationStatus, Trigger, TriggerKind
from surveys.models import Survey
from tickets.models import Conversation

logger = logging.getLogger(__name__)

# Media that push a message to the person (and so are subject to fatigue and quiet hours); a widget or
# a link is the person coming to us.
# `medium in PUSHED` reads the registry: every channel kind that can carry a survey pushes it.
PUSHED: Mapping[str, str] = KindTable(lambda spec: spec.value, where=lambda spec: spec.carries_surveys)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def customer_locale(customer: Customer | None, fallback: str = "") -> str:
    locale = ((customer.locale if customer else "") or fallback or "en").lower()[:2]
    return locale if locale in ("en", "ru", "pl") else "en"


@transaction.atomic
def do_invite(
    *,
    survey: Survey,
    customer: Customer | None,
    medium: str,
    trigger: str,
    channel: Channel | None = None,
    conversation: Conversation | None = None,
    agent: User | None = None,
    recipient: str = "",
    rule: Trigger | None = None,
    delay: timedelta = timedelta(0),
    now: datetime | None = None,
    locale: str = "",
    enforce_fatigue: bool = True,
) -> Invitation:
    """An invitation, or a throttled one that records why it was not sent.

    Pushed invitations wait for their send time (and past the customer's quiet hours); the sweeper in
    surveys.tasks sends them. Widget and link invitations are answered at once, so they are "sent" now.
    """
    now = now or timezone.now()
    if conversation is not None and agent is None and conversation.assignee_id:
        agent = conversation.assignee
    reason = fatigue.throttle_reason(survey, customer, now) if enforce_fatigue else ""
    invitation = build_invitation(
        survey=survey, customer=customer, medium=medium, trigger=trigger, reason=reason, now=now,
        delay=delay, channel=channel, conversation=conversation, agent=agent, recipient=recipient,
        locale=customer_locale(customer, locale), rule=rule,
    )  # fmt: skip
    invitation.save(force_insert=True)
    if (
        invitation.status == InvitationStatus.PENDING
        and invitation.send_at is not None
        and invitation.send_at <= now
    ):
        enqueue_sending()
    return invitation


def build_invitation(
    *,
    survey: Survey,
    customer: Customer | None,
    medium: str,
    trigger: str,
    reason: str,
    now: datetime,
    delay: timedelta = timedelta(0),
    **fields: Any,
) -> Invitation:
    """The unsaved row for a fatigue decision already taken (`reason`, "" when it may be sent).

    Pushed invitations wait for their send time and past the customer's quiet hours; the sweeper in
    surveys.tasks sends them. Widget and link invitations are answered at once, so they are "sent" now.
    """
    send_at = now + delay
    pushed = medium in PUSHED
    if reason:
        status = InvitationStatus.THROTTLED
    elif pushed:
        status = InvitationStatus.PENDING
        send_at = fatigue.quiet_until(customer, send_at) or send_at
    else:
        status = InvitationStatus.SENT
    fields.setdefault("locale", customer_locale(customer))
    return Invitation(
        survey=survey,
        customer=customer,
        token=new_token(),
        medium=medium,
        trigger=trigger,
        status=status,
        reason=reason,
        created_at=now,
        # Only a pending invitation has a send time: the index that finds due ones holds nothing else.
        send_at=send_at if status == InvitationStatus.PENDING else None,
        sent_at=None if pushed else now,
        expires_at=send_at + timedelta(days=survey.expiry_days),
        **fields,
    )


def enqueue_sending() -> None:
    """Send what is due once the surrounding transaction commits (the periodic sweep is the fallback)."""
    from surveys.tasks import send_due_invitations

    transaction.on_commit(lambda: _enqueue(send_due_invitations))


def _enqueue(task) -> None:
    try:
        task.apply_async(queue="realtime")
    except Exception:  # the periodic sweep sends it anyway
        logger.warning("could not queue the survey sender; the sweep will send it", exc_info=True)


def is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return invitation.status == InvitationStatus.SENT and invitation.expires_at > now


__all__ = ["PUSHED", "TriggerKind", "customer_locale", "do_invite", "is_open", "new_token"]
