"""Mail no person wrote: auto-replies and bounces.

They never open a conversation and never make a customer (a bounce would otherwise give
mailer-daemon@… a profile). When one refers to a mail in a conversation, it is shown there as an
automated item that does not reopen it, start the SLA clock or count as the customer's reply; a bounce
also marks the reply that bounced as failed. Otherwise the stored delivery, with its outcome, is all
that remains of it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from channels_app.models import Channel, InboundEvent, OutboundMessage, OutboundStatus
from channels_app.normalized import NormalizedMessage, StatusUpdate
from channels_app.outbound_status import do_apply_status_update
from tickets.message_events import publish_message
from tickets.models import Conversation, Message
from tickets.services import clean_message, inbound_message_row
from tickets.threading import find_automated_target

KINDS = {"bounce": "bounce", "auto_reply": "auto-reply"}


@transaction.atomic
def do_record_automated_mail(
    *, channel: Channel, message: NormalizedMessage, event: InboundEvent | None = None
) -> str:
    """Record an auto-reply or a bounce where it belongs; the outcome says where, for the stored event."""
    message = clean_message(message)
    kind = KINDS.get(message.automated, message.automated)
    if Message.objects.filter(channel=channel, provider_message_id=message.provider_message_id).exists():
        return f"{kind}: already stored"
    now = timezone.now()
    sent_at = min(message.sent_at or now, now)
    target = find_automated_target(message=message)
    notes = [_mark_failed(target.outbound, message, at=sent_at)] if target.outbound is not None else []
    if target.conversation is None:
        notes.append(_nowhere(message))
        return f"{kind} from {message.sender.value}: " + "; ".join(n for n in notes if n)
    stored = inbound_message_row(
        channel=channel, message=message, conversation=target.conversation, sent_at=sent_at, event=event
    )
    stored.save(force_insert=True)
    if message.automated == "bounce":
        # The agent must see that the reply did not arrive, so the conversation comes up in the inbox,
        # yet it stays in whatever state it was: there is no customer waiting on a bounce.
        Conversation.objects.filter(pk=target.conversation.pk, last_activity_at__lt=sent_at).update(
            last_activity_at=sent_at
        )
    publish_message(stored, new_conversation=False)
    notes.insert(0, f"attached to conversation {target.conversation.pk}")
    return f"{kind} from {message.sender.value}: " + "; ".join(n for n in notes if n)


def _mark_failed(outbound: OutboundMessage, message: NormalizedMessage, *, at) -> str:
    """A permanent failure moves the sent mail to failed (forward only, as a provider's callback would);
    a delay warning changes nothing."""
    report = message.metadata.get("bounce")
    if message.automated != "bounce" or not isinstance(report, dict):
        return ""
    if not report.get("failed"):
        return f"{outbound.provider_message_id} not failed ({report.get('action') or report.get('status')})"
    reason = str(report.get("reason") or "bounced")
    changed = do_apply_status_update(
        channel=outbound.channel,
        update=StatusUpdate(
            provider_message_id=outbound.provider_message_id or "",
            status=OutboundStatus.FAILED,
            at=at,
            error=reason,
        ),
    )
    if not changed:
        return f"{outbound.provider_message_id} already {outbound.status}"
    return f"{outbound.provider_message_id} marked failed: {reason}"


def _nowhere(message: NormalizedMessage) -> str:
    if not message.in_reply_to:
        return "refers to no mail; no conversation or customer created"
    ids = ", ".join(message.in_reply_to[:3])
    return f"refers to no known conversation ({ids}); no conversation or customer created"
