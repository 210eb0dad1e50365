"""Sending invitations that are due, each through the module of its medium.

Each sender takes an Invitation (survey and customer loaded) and queues one OutboundMessage through the
usual outbound pipeline, or raises DeliveryError with a reason that is kept on the invitation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module

from django.db import transaction
from django.utils import timezone

from surveys.invitation_models import Invitation, InvitationStatus, Medium

logger = logging.getLogger(__name__)
BATCH = 200

SENDERS: dict[str, str] = {
    Medium.EMAIL: "surveys.send_email.send_email_invitation",
    Medium.SMS: "surveys.send_chat.send_chat_invitation",
    Medium.WHATSAPP: "surveys.send_chat.send_chat_invitation",
    Medium.TELEGRAM: "surveys.send_chat.send_chat_invitation",
    Medium.MESSENGER: "surveys.send_chat.send_chat_invitation",
    Medium.INSTAGRAM: "surveys.send_chat.send_chat_invitation",
}


class DeliveryError(Exception):
    pass


def sender_for(medium: str) -> Callable[[Invitation], None]:
    module, _, name = SENDERS[medium].rpartition(".")
    return getattr(import_module(module), name)


def do_send_due_invitations(limit: int = BATCH) -> int:
    """Send what is due; each invitation in its own transaction so one failure stops nothing else."""
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("survey", "customer", "channel", "conversation")
                .filter(status=InvitationStatus.PENDING, send_at__lte=timezone.now())
                .order_by("send_at", "id")[:limit]
            )
            for invitation in due:
                sent += _send_one(invitation)
        if len(due) < limit:
            return sent


def _send_one(invitation: Invitation) -> int:
    from surveys import fatigue

    now = timezone.now()
    customer = invitation.customer
    # The person may have opted out or been erased while the invitation waited.
    if customer is not None and (fatigue.opted_out(customer) or customer.erased_at is not None):
        return _mark(invitation, InvitationStatus.THROTTLED, "The customer opted out of surveys.")
    if invitation.expires_at <= now:
        return _mark(invitation, InvitationStatus.FAILED, "Expired before it could be sent.")
    try:
        with transaction.atomic():
            sender_for(invitation.medium)(invitation)
            invitation.status = InvitationStatus.SENT
            invitation.sent_at = now
            invitation.save(update_fields=["status", "sent_at", "recipient", "channel"])
    except (DeliveryError, KeyError) as exc:
        return _mark(invitation, InvitationStatus.FAILED, str(exc) or "no sender for this medium")
    return 1


def _mark(invitation: Invitation, status: str, reason: str) -> int:
    invitation.status = status
    invitation.reason = reason[:200]
    invitation.save(update_fields=["status", "reason"])
    return 0
