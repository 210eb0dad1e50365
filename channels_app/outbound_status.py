"""Moving outgoing messages' statuses forward, from provider callbacks and from failed sends."""

from __future__ import annotations

from django.utils import timezone

from channels_app.models import Channel
from channels_app.normalized import StatusUpdate
from channels_app.outbound_models import STATUS_RANK, OutboundMessage, OutboundStatus
from channels_app.pipeline_points import OutboundStatusApplied
from core import events


def do_apply_status_update(*, channel: Channel, update: StatusUpdate) -> bool:
    """Move an outbound message's status forward; a late or repeated callback changes nothing."""
    lower = [status for status, rank in STATUS_RANK.items() if rank < STATUS_RANK[update.status]]
    found = list(
        OutboundMessage.objects.filter(
            channel=channel, provider_message_id=update.provider_message_id, status__in=lower
        ).values_list("pk", "status", "message_id")
    )
    if not found:
        return False
    changed = OutboundMessage.objects.filter(pk__in=[pk for pk, _, _ in found], status__in=lower).update(
        status=update.status, status_at=update.at or timezone.now(), error=update.error[:2000]
    )
    if changed:
        for pk, previous, message_id in found:
            _announce(pk, message_id, status=update.status, previous=previous, error=update.error[:2000])
    return bool(changed)


def do_record_send_failure(*, outbound: OutboundMessage) -> None:
    """A send that failed for good before the provider took it (so no callback will ever tell)."""
    changed = OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundStatus.QUEUED).update(
        status=OutboundStatus.FAILED, status_at=timezone.now()
    )
    if changed:
        _announce(
            outbound.pk,
            outbound.message_id,
            status=OutboundStatus.FAILED,
            previous=OutboundStatus.QUEUED,
            error=outbound.error,
        )


def _announce(outbound_id: int, message_id: int | None, *, status: str, previous: str, error: str) -> None:
    events.intercept_all(
        OutboundStatusApplied(outbound_id=outbound_id, message_id=message_id, status=status, error=error)
    )
    events.publish(
        events.OutboundStatusChanged(
            outbound_id=outbound_id, status=status, previous_status=previous, message_id=message_id
        )
    )
