"""Agent replies: a Message row for the thread and an OutboundMessage for delivery, in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from channels_app.adapters.base import get_adapter
from channels_app.kinds import IDENTITY_FOR_KIND, ChannelKind, kind_spec, provider_for
from channels_app.models import Channel
from channels_app.outbound import do_queue_outbound
from channels_app.outbound_media import MediaRefusal, check_outgoing_files
from channels_app.rules import sms_segments
from profiles import timeline
from profiles.models import Identity, IdentityKind
from tickets.attachment_links import link_item
from tickets.attachments import do_store_outbound_attachments, outgoing_files
from tickets.message_events import publish_message
from tickets.models import Conversation, Direction, Message
from tickets.reply_delivery import RESOLVE_ON_SENT
from tickets.selectors import customer_whatsapp_window
from tickets.sla import do_apply_sla

# Which of the customer's identities a channel of each kind can reach (KindSpec.identity_kind).
IDENTITY_FOR_CHANNEL = IDENTITY_FOR_KIND


class ReplyError(ValueError):
    pass


def recipient_for(*, conversation: Conversation, channel: Channel) -> str:
    kind = IDENTITY_FOR_CHANNEL[channel.kind]
    identity = (
        Identity.objects.filter(customer=conversation.customer_id, kind=kind).order_by("-created_at").first()
    )
    if identity is None:
        raise ReplyError(
            _("The customer has no %(kind)s to reach through %(channel)s.")
            % {"kind": IdentityKind(kind).label, "channel": channel}
        )
    return identity.value


def check_channel_sends(channel: Channel) -> None:
    """Refused at once rather than queued to fail: nothing could ever send through this channel."""
    if not channel.is_active:
        raise ReplyError(
            _("%(channel)s is switched off, so nothing can be sent through it.") % {"channel": channel}
        )
    if get_adapter(provider_for(channel.kind, channel.config)) is None:
        raise ReplyError(_("Replies cannot be sent through %(channel)s.") % {"channel": channel})


def email_threading(conversation: Conversation) -> dict[str, object]:
    """In-Reply-To/References so the customer's mail client files the reply under their message."""
    rows = (
        Message.objects.filter(conversation=conversation, channel__kind=ChannelKind.EMAIL)
        .order_by("created_at", "id")
        .values_list("provider_message_id", "delivery__provider_message_id")
    )
    # Inbound mail carries the customer's Message-ID; our own sent mail has its id on the delivery row.
    ids = [inbound or sent for inbound, sent in rows if inbound or sent]
    if not ids:
        return {}
    subject = conversation.subject or ""
    if subject and not subject.lower().startswith(("re:", "odp:", "ответ:")):
        subject = f"Re: {subject}"
    return {"in_reply_to": ids[-1], "references": ids[-20:], "subject": subject}


def check_whatsapp_window(*, conversation: Conversation, channel: Channel) -> None:
    """Free text through WhatsApp only inside the 24-hour window; the provider would refuse it anyway."""
    window = customer_whatsapp_window(channel=channel, conversation=conversation)
    if window.open:
        return
    if window.closes_at is None:
        raise ReplyError(
            _(
                "This customer has not written to this WhatsApp number yet, so only an approved template "
                "can start the conversation."
            )
        )
    raise ReplyError(
        _(
            "The 24-hour WhatsApp window closed at %(closed)s. Send an approved template instead; "
            "free text is allowed again once the customer replies."
        )
        % {"closed": date_format(timezone.localtime(window.closes_at), "DATETIME_FORMAT")}
    )


def check_template(template: dict[str, Any], channel: Channel) -> None:
    if channel.kind != ChannelKind.WHATSAPP:
        raise ReplyError(_("Message templates can only be sent through WhatsApp channels."))
    if not (template.get("name") or template.get("content_sid")):
        raise ReplyError(_("Choose which approved template to send."))


def template_summary(template: dict[str, Any]) -> str:
    """What the thread shows for a template reply, whose final wording only the provider renders."""
    name = str(template.get("name") or template.get("content_sid"))
    variables = template.get("variables") or {}
    shown = (
        ", ".join(f"{key}={value}" for key, value in variables.items()) if isinstance(variables, dict) else ""
    )
    return f"[{_('Template')}: {name}{' — ' + shown if shown else ''}]"


def check_reply_files(*, channel: Channel, uploads: list[UploadedFile]) -> None:
    """Refused before anything is stored or queued, so the agent can fix the files and send again."""
    try:
        check_outgoing_files(kind=channel.kind, config=channel.config, files=outgoing_files(uploads))
    except MediaRefusal as exc:
        raise ReplyError(str(exc)) from exc


@transaction.atomic
def do_send_reply(
    *,
    conversation: Conversation,
    author: User,
    channel: Channel,
    text: str,
    template: dict[str, Any] | None = None,
    attachments: list[UploadedFile] | None = None,
    resolve_on_sent: bool = False,
) -> Message:
    """Store the reply and queue it. With `resolve_on_sent` the conversation is resolved once the
    channel accepts the reply (tickets.reply_delivery), never before: a reply that fails leaves it open."""
    check_channel_sends(channel)
    uploads = attachments or []
    if template is not None:
        check_template(template, channel)
        if uploads:
            raise ReplyError(_("A template is sent on its own; remove the attached files."))
    elif not text.strip() and not uploads:
        raise ReplyError(_("Write a reply or attach a file."))
    elif channel.kind == ChannelKind.WHATSAPP:
        check_whatsapp_window(conversation=conversation, channel=channel)
    check_reply_files(channel=channel, uploads=uploads)
    recipient = recipient_for(conversation=conversation, channel=channel)
    now = timezone.now()
    metadata: dict[str, Any] = {}
    if channel.kind == ChannelKind.SMS:
        # The agent sees what the reply costs before and after sending (Twilio bills per segment).
        info = sms_segments(text)
        metadata["sms"] = {"encoding": info.encoding, "segments": info.segments}
    if template is not None:
        metadata["template"] = template
    if resolve_on_sent:
        metadata[RESOLVE_ON_SENT] = True
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.OUTBOUND,
        author=author,
        body=text if text.strip() or template is None else template_summary(template),
        metadata=metadata,
        created_at=now,
    )
    payload: dict[str, object] = {"text": text}
    if template is not None:
        payload["template"] = template
    if uploads:
        stored = do_store_outbound_attachments(message=message, uploads=uploads)
        # Mail carries the files themselves: its adapter reads them from storage by name.
        inline = kind_spec(channel.kind).mail
        payload["attachments"] = [link_item(row, with_storage_name=inline) for row in stored]
    if channel.kind == ChannelKind.EMAIL:
        payload.update(email_threading(conversation))
        payload.setdefault("subject", conversation.subject or "")
    do_queue_outbound(channel=channel, recipient=recipient, payload=payload, message=message)
    fields = ["last_activity_at"]
    conversation.last_activity_at = now
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)
    do_apply_sla(conversations=[conversation], event="agent_reply", at=now)
    timeline.record_message(message, new_conversation=False)
    publish_message(message, new_conversation=False)
    return message
