"""Sending invitations that are due, each through the module of its medium.

Each sender takes an Invitation (survey and customer loaded) and queues one OutboundMessage through the
usual outbound pipeline, or raises DeliveryError with a reason that is kept on the invitation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module

from django.db import transaction
from django.utils import timezone

from channels_app.kinds import IDENTITY_FOR_KIND, KindTable, kind_spec
from channels_app.models import Channel
from profiles.models import Identity
from surveys.invitation_models import Invitation, InvitationStatus

logger = logging.getLogger(__name__)
BATCH = 200

# The sender of each medium a channel kind carries: mail-like kinds send a mail, chat kinds ask in the chat.
SENDERS: Mapping[str, str] = KindTable(
    lambda spec: (
        "surveys.send_email.send_email_invitation" if spec.mail else "surveys.send_chat.send_chat_invitation"
    ),
    where=lambda spec: spec.carries_surveys,
)


class DeliveryError(Exception):
    pass


@dataclass(frozen=True)
class Reach:
    channel: Channel
    identity: Identity


def reach(invitation: Invitation, kind: str) -> Reach:
    """The customer's identity for a channel kind (verified first, then newest) and the channel to use:
    the invitation's own, else its conversation's, so the survey comes from where the customer wrote,
    else the first active one of that kind."""
    if invitation.customer_id is None:
        raise DeliveryError("The invitation has no customer to reach.")
    identity_kind = IDENTITY_FOR_KIND[kind]
    # Mail needs an address to come from; other kinds send from the channel's account.
    needs_address = kind_spec(kind).mail
    identity = (
        Identity.objects.filter(customer_id=invitation.customer_id, kind=identity_kind)
        .order_by("-verified", "-created_at", "-id")
        .first()
    )
    if identity is None:
        raise DeliveryError(f"The customer has no {identity_kind} identity.")

    def usable(channel: Channel | None) -> bool:
        return bool(
            channel and channel.kind == kind and channel.is_active and (not needs_address or channel.address)
        )

    conversation_channel = invitation.conversation.channel if invitation.conversation else None
    channel = next((c for c in (invitation.channel, conversation_channel) if usable(c)), None)
    if channel is None:
        candidates = Channel.objects.filter(kind=kind, is_active=True)
        if needs_address:
            candidates = candidates.exclude(address="")
        channel = candidates.order_by("id").first()
    if channel is None:
        raise DeliveryError(f"No active {kind} channel to send the survey through.")
    return Reach(channel=channel, identity=identity)


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
                # sent_at: as the partial index invitation_waiting, so that it can answer this.
                .filter(status=InvitationStatus.PENDING, send_at__lte=timezone.now(), sent_at__isnull=True)
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
    invitation.send_at = None  # no longer waiting: out of the invitation_waiting index
    invitation.save(update_fields=["status", "reason", "send_at"])
    return 0
