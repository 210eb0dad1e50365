"""tickets records what the channel pipeline hands over (see channels_app/pipeline_points.py)."""

from __future__ import annotations

from channels_app.pipeline_points import (
    OutboundStatusApplied,
    RecordAutomatedMail,
    RecordInboundMessage,
    RecordInboundRun,
)
from core import events as domain_events
from core import realtime
from tickets import events as live
from tickets.automated_mail import do_record_automated_mail
from tickets.inbound_batch import record_run
from tickets.models import Message
from tickets.reply_delivery import do_settle_reply
from tickets.services import do_record_inbound_message


def record_message(point: RecordInboundMessage) -> Message | None:
    return do_record_inbound_message(channel=point.channel, message=point.message, event=point.event)


def record_automated(point: RecordAutomatedMail) -> str:
    return do_record_automated_mail(channel=point.channel, message=point.message, event=point.event)


def settle_outbound(point: OutboundStatusApplied) -> None:
    """Show the reply's new status in its thread and settle "Send and resolve"; survey and automation
    sends have no thread."""
    if point.message_id is None:
        return
    message = Message.objects.select_related("conversation__channel").filter(pk=point.message_id).first()
    if message is None:
        return
    realtime.publish(
        live.audience(message.conversation),
        live.MESSAGE_STATUS,
        {
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
            "status": point.status,
            "error": point.error,
        },
    )
    do_settle_reply(message_id=message.pk, status=point.status, error=point.error)


def register() -> None:
    domain_events.add_interceptor(RecordInboundRun, record_run, order=100)
    domain_events.add_interceptor(RecordInboundMessage, record_message, order=100)
    domain_events.add_interceptor(RecordAutomatedMail, record_automated, order=100)
    domain_events.add_interceptor(OutboundStatusApplied, settle_outbound, order=100)
