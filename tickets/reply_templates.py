"""Turning the agent's choice in the template picker into the payload the WhatsApp adapters send."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from channels_app.kinds import ChannelKind, provider_for
from channels_app.models import Channel, MessageTemplate
from tickets.replies import ReplyError


def check_template_choice(*, channel: Channel, template_id: int | None, values: list[str]) -> dict[str, Any]:
    """The template payload for do_send_reply; ReplyError (translated) when the choice cannot be sent."""
    if channel.kind != ChannelKind.WHATSAPP:
        raise ReplyError(_("Message templates can only be sent through WhatsApp channels."))
    # Only this channel's templates: another number's approval does not carry over.
    template = MessageTemplate.objects.filter(pk=template_id or 0, channel=channel, is_active=True).first()
    if template is None:
        raise ReplyError(_("Choose which approved template to send."))
    values = [value.strip() for value in values[: template.variables]]
    missing = [str(n) for n in range(1, template.variables + 1) if n > len(values) or not values[n - 1]]
    if missing:
        raise ReplyError(
            _("Fill in every variable of the template; missing: %(missing)s.")
            % {"missing": ", ".join(f"{{{{{n}}}}}" for n in missing)}
        )
    twilio = provider_for(channel.kind, channel.config) == "twilio"
    if twilio and not template.content_sid:
        raise ReplyError(_("This template has no Twilio content SID, so this channel cannot send it."))
    payload: dict[str, Any] = {
        "template_id": template.pk,
        "name": template.name,
        "language": template.language,
        "variables": {str(n): value for n, value in enumerate(values, start=1)},
        "body": template.filled(values),
    }
    if template.content_sid:
        payload["content_sid"] = template.content_sid
    if values:
        payload["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": value} for value in values]}
        ]
    return payload
