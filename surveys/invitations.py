"""Creating invitations: the fatigue rules decide, every decision is logged, sending happens later."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from channels_app.models import Channel
from profiles.models import Customer
from surveys import fatigue
from surveys.invitation_models import Invitation, InvitationStatus, Medium, Trigger, TriggerKind
from surveys.models import Survey
from tickets.models import Conversation

logger = logging.getLogger(__name__)

# Media that push a message to the person (and so are subject to fatigue and quiet hours); a widget or
# a link is the person coming to us.
PUSHED = frozenset(
    {Medium.EMAIL, Medium.SMS, Medium.WHATSAPP, Medium.TELEGRAM, Medium.MESSENGER, Medium.INSTAGRAM}
)


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
    send_at = now + delay
    pushed = medium in PUSHED
    if pushed and not reason:
        send_at = fatigue.quiet_until(customer, send_at) or send_at
    invitation = Invitation.objects.create(
        survey=survey,
        customer=customer,
        token=new_token(),
        medium=medium,
        trigger=trigger,
        status=InvitationStatus.THROTTLED
        if reason
        else (InvitationStatus.PENDING if pushed else InvitationStatus.SENT),
        reason=reason,
        channel=channel,
        conversation=conversation,
        agent=agent,
        recipient=recipient,
        locale=customer_locale(customer, locale),
        rule=rule,
        created_at=now,
        send_at=send_at if pushed else None,
        sent_at=None if pushed else now,
        expires_at=send_at + timedelta(days=survey.expiry_days),
    )
    if pushed and not reason:
        from surveys.tasks import send_due_invitations

        if send_at <= now:
            transaction.on_commit(lambda: _enqueue(send_due_invitations))
    return invitation


def _enqueue(task) -> None:
    try:
        task.apply_async(queue="realtime")
    except Exception:  # the periodic sweep sends it anyway
        logger.warning("could not queue the survey sender; the sweep will send it", exc_info=True)


def is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return invitation.status == InvitationStatus.SENT and invitation.expires_at > now


__all__ = ["PUSHED", "TriggerKind", "customer_locale", "do_invite", "is_open", "new_token"]
