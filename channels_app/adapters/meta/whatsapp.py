"""WhatsApp Cloud API: `changes[].value` of a whatsapp_business_account delivery, and the send body.

Docs: developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(text, media, location, contacts, interactive, button, reaction, unsupported, system) and .../status.
"""

from __future__ import annotations

import mimetypes
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from channels_app.adapters.base import AdapterError
from channels_app.adapters.meta.common import Collected, describe_error
from channels_app.adapters.payloads import from_unix, get_dict, get_list, get_str
from channels_app.identity_kinds import IdentityKind
from channels_app.normalized import Attachment, NormalizedMessage, Sender, StatusUpdate
from channels_app.outbound_models import OutboundStatus

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
# Valid messages that carry nothing for the inbox, with the reason kept on the event.
QUIET_TYPES = {
    "reaction": "a reaction to an earlier message",
    "unsupported": "a message type WhatsApp does not deliver to the Cloud API",
    "system": "a system notice (number change, ...)",
    "ephemeral": "a disappearing message WhatsApp does not deliver",
    "request_welcome": "a conversation-opened notice",
}
STATUSES = {
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.READ,
    "failed": OutboundStatus.FAILED,
}
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10


def e164(wa_id: str) -> str:
    digits = wa_id.lstrip("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise AdapterError(f"sender {wa_id[:40]!r} is not a WhatsApp number", permanent=True)
    return f"+{digits}"


def collect_change(change: dict[str, Any], channel, out: Collected) -> None:
    field = get_str(change, "field")
    value = get_dict(change, "value")
    if field != "messages":
        out.ignore(f"WhatsApp field {field or '(none)'!r} carries no customer message")
        return
    if not value:
        out.error("WhatsApp change without a value object")
        return
    if not _addressed_to(channel, get_dict(value, "metadata"), out):
        return
    names = {
        get_str(c, "wa_id"): get_str(get_dict(c, "profile"), "name")
        for c in get_list(value, "contacts")
        if isinstance(c, dict)
    }
    for message in get_list(value, "messages"):
        out.add(partial(_message, message, names))
    for status in get_list(value, "statuses"):
        out.add(partial(_status, status))
    for error in get_list(value, "errors"):
        if isinstance(error, dict):
            out.ignore(f"WhatsApp reported an account-level error: {describe_error(error)}")
    if not any(value.get(key) for key in ("messages", "statuses", "errors")):
        out.error("WhatsApp change has no messages, statuses or errors")


def _addressed_to(channel, metadata: dict[str, Any], out: Collected) -> bool:
    """One app may serve several numbers; another number's traffic must not land in this inbox."""
    phone_number_id = get_str(metadata, "phone_number_id")
    expected = str(channel.config.get("phone_number_id") or "")
    if expected and phone_number_id != expected:
        out.ignore(
            f"addressed to phone_number_id {phone_number_id or '(none)'}, not this channel's {expected}"
        )
        return False
    display = "".join(c for c in get_str(metadata, "display_phone_number") if c.isdigit())
    address = "".join(c for c in channel.address if c.isdigit())
    if not expected and address and display and display != address:
        out.ignore(f"addressed to number {display}, not this channel's {address}")
        return False
    return True


def _message(message: Any, names: dict[str, str]) -> NormalizedMessage | str:
    if not isinstance(message, dict):
        raise AdapterError("WhatsApp message is not an object", permanent=True)
    kind = get_str(message, "type")
    message_id = get_str(message, "id")
    if kind in QUIET_TYPES:
        return f"WhatsApp message {message_id} is {QUIET_TYPES[kind]}"
    wa_id = get_str(message, "from")
    if not message_id or not wa_id:
        raise AdapterError("WhatsApp message without id or from", permanent=True)
    text, metadata, attachments = _content(kind, message)
    context_id = get_str(get_dict(message, "context"), "id")
    if context_id:
        metadata["reply_to"] = context_id
    return NormalizedMessage(
        sender=Sender(kind=IdentityKind.WHATSAPP, value=e164(wa_id), display=names.get(wa_id, "")),
        provider_message_id=message_id,
        text=text,
        sent_at=from_unix(message.get("timestamp")),
        attachments=attachments,
        # A reply to one of our messages threads into that conversation even after a newer one opened.
        in_reply_to=[context_id] if context_id else [],
        metadata=metadata,
    )


def _content(kind: str, message: dict[str, Any]) -> tuple[str, dict[str, Any], list[Attachment]]:
    body = get_dict(message, kind)
    if kind == "text":
        return get_str(body, "body"), {}, []
    if kind in MEDIA_TYPES:
        media_id = get_str(body, "id")
        if not media_id:
            raise AdapterError(f"WhatsApp {kind} without a media id", permanent=True)
        mime = get_str(body, "mime_type").split(";")[0].strip()
        filename = get_str(body, "filename") or f"{kind}{mimetypes.guess_extension(mime) or '.bin'}"
        attachment = Attachment(filename=filename, content_type=mime, size=0, url=f"meta-media:{media_id}")
        return get_str(body, "caption"), {"media_type": kind}, [attachment]
    if kind == "location":
        lat, lon = body.get("latitude"), body.get("longitude")
        place = ", ".join(p for p in (get_str(body, "name"), get_str(body, "address")) if p)
        metadata = {"location": {"latitude": lat, "longitude": lon, "name": place}}
        return f"📍 {place + ' ' if place else ''}({lat}, {lon})", metadata, []
    if kind == "contacts":
        cards = [c for c in get_list(message, "contacts") if isinstance(c, dict)]
        shared = [
            {
                "name": get_str(get_dict(c, "name"), "formatted_name"),
                "phones": [get_str(p, "phone") for p in get_list(c, "phones") if isinstance(p, dict)],
            }
            for c in cards
        ]
        text = "\n".join(f"☎ {s['name']} {', '.join(s['phones'])}".strip() for s in shared)
        return text, {"contacts": shared}, []
    if kind == "interactive":
        reply_type = get_str(body, "type")
        reply = get_dict(body, reply_type)
        if reply_type not in ("button_reply", "list_reply") or not get_str(reply, "id"):
            raise AdapterError(
                f"WhatsApp interactive reply of type {reply_type!r} is not supported", permanent=True
            )
        title = get_str(reply, "title")
        return title, {"button": True, "callback_data": get_str(reply, "id"), "button_title": title}, []
    if kind == "button":
        title = get_str(body, "text")
        return title, {"button": True, "callback_data": get_str(body, "payload"), "button_title": title}, []
    raise AdapterError(f"WhatsApp message type {kind or '(none)'!r} is not supported", permanent=True)


def _status(status: Any) -> StatusUpdate | str:
    if not isinstance(status, dict):
        raise AdapterError("WhatsApp status is not an object", permanent=True)
    message_id = get_str(status, "id")
    value = get_str(status, "status")
    if not message_id or not value:
        raise AdapterError("WhatsApp status without id or status", permanent=True)
    if value not in STATUSES:
        return f"WhatsApp status {value!r} for {message_id} does not change delivery state"
    errors = [describe_error(e) for e in get_list(status, "errors") if isinstance(e, dict)]
    return StatusUpdate(
        provider_message_id=message_id,
        status=STATUSES[value],
        at=from_unix(status.get("timestamp")),
        error="; ".join(errors),
    )


# Captions are allowed on images, videos and documents, up to 1024 characters (Cloud API, media messages).
CAPTION_LIMIT = 1024


def send_bodies(recipient: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One request per message: a file goes as a media message by link, with the text as its caption
    where WhatsApp allows one, otherwise as a text message before it."""
    files = [item for item in payload.get("attachments") or [] if isinstance(item, dict) and item.get("url")]
    if not files or isinstance(payload.get("template"), dict):
        return [send_body(recipient, payload)]
    text = str(payload.get("text") or "")
    bodies: list[dict[str, Any]] = []
    for index, item in enumerate(files):
        content_type = str(item.get("content_type") or "")
        major = content_type.split("/")[0]
        media_type = major if major in ("image", "video", "audio") else "document"
        media: dict[str, Any] = {"link": str(item["url"])}
        if media_type == "document":
            media["filename"] = str(item.get("filename") or "")
        if index == 0 and text:
            if media_type != "audio" and len(text) <= CAPTION_LIMIT:
                media["caption"] = text
            else:
                bodies.append(send_body(recipient, {"text": text}))
        body = {"messaging_product": "whatsapp", "to": recipient, "type": media_type, media_type: media}
        bodies.append(body)
    return bodies


def send_body(recipient: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The /{phone_number_id}/messages request for one outbound payload."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "to": recipient}
    text = str(payload.get("text") or "")
    template = payload.get("template")
    buttons = payload.get("buttons") or []
    if isinstance(template, dict):
        language = template.get("language") or "en"
        body["type"] = "template"
        body["template"] = {
            "name": template.get("name"),
            "language": {"code": language} if isinstance(language, str) else language,
        }
        if template.get("components"):
            body["template"]["components"] = template["components"]
    elif buttons:
        body["type"] = "interactive"
        body["interactive"] = _interactive(text, buttons, str(payload.get("list_button") or ""))
    else:
        if not text:
            raise AdapterError("nothing to send: the message has no text", permanent=True)
        body["type"] = "text"
        body["text"] = {"body": text}
    return body


def _interactive(text: str, buttons: list[dict[str, Any]], list_button: str) -> dict[str, Any]:
    if not text:
        raise AdapterError("WhatsApp buttons need a message text to go with them", permanent=True)
    if len(buttons) <= MAX_REPLY_BUTTONS:
        return {
            "type": "button",
            "body": {"text": text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": str(b["payload"]), "title": str(b["title"])[:20]}}
                    for b in buttons
                ]
            },
        }
    if len(buttons) > MAX_LIST_ROWS:
        raise AdapterError(
            f"WhatsApp offers at most {MAX_LIST_ROWS} choices in one message, got {len(buttons)}",
            permanent=True,
        )
    # More than three choices (a survey scale, say) go out as a list message instead of reply buttons.
    rows = [{"id": str(b["payload"]), "title": str(b["title"])[:24]} for b in buttons]
    return {
        "type": "list",
        "body": {"text": text},
        # The label of the button that opens the list; the customer sees it.
        "action": {"button": (list_button or _("Choose"))[:20], "sections": [{"rows": rows}]},
    }


def sent_id(data: dict[str, Any]) -> str:
    messages = get_list(data, "messages")
    message_id = get_str(messages[0], "id") if messages and isinstance(messages[0], dict) else ""
    if not message_id:
        raise AdapterError(f"unexpected WhatsApp answer: {str(data)[:300]}", permanent=True)
    return message_id
