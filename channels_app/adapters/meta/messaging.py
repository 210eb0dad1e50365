"""Messenger and Instagram messaging: `entry[].messaging[]` of page / instagram deliveries, and the send body.

Docs: developers.facebook.com/docs/messenger-platform/reference/webhook-events (messages, message_echoes,
messaging_postbacks, message_deliveries, message_reads) and .../instagram-messaging/webhooks.
"""

from __future__ import annotations

import mimetypes
import posixpath
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from channels_app.adapters.base import AdapterError
from channels_app.adapters.meta.common import Collected
from channels_app.adapters.payloads import get_dict, get_list, get_str
from channels_app.normalized import Attachment, NormalizedMessage, Sender, StatusUpdate
from channels_app.outbound_models import OutboundStatus

# Attachment types downloaded into the conversation; the others are described in the message instead.
DOWNLOADED = {"image", "video", "audio", "file", "reel", "ig_reel", "share", "ig_post"}
# Events in `messaging[]` that carry nothing for the inbox.
QUIET_EVENTS = {
    "reaction": "a reaction to an earlier message",
    "referral": "a referral (ad or link click) without a message",
    "optin": "an opt-in notice",
    "account_linking": "an account linking notice",
    "pass_thread_control": "a handover notice",
    "take_thread_control": "a handover notice",
    "request_thread_control": "a handover notice",
    "policy_enforcement": "a policy notice",
    "message_edit": "an edit notice",
}
MAX_QUICK_REPLIES = 13


def from_timestamp(value: Any) -> datetime | None:
    """Messaging timestamps are milliseconds; a few documented examples use seconds."""
    try:
        number = int(value)
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def collect_event(event: Any, identity_kind: str, out: Collected) -> None:
    if not isinstance(event, dict):
        out.error("messaging event is not an object")
        return
    sender_id = get_str(get_dict(event, "sender"), "id")
    if "message" in event:
        out.add(lambda: _message(event, sender_id, identity_kind))
    elif "postback" in event:
        out.add(lambda: _postback(event, sender_id, identity_kind))
    elif "delivery" in event:
        mids = [m for m in get_list(get_dict(event, "delivery"), "mids") if isinstance(m, str) and m]
        at = from_timestamp(get_dict(event, "delivery").get("watermark"))
        if not mids:
            out.ignore("delivery receipt with a watermark only (no message ids)")
        for mid in mids:
            out.items.append(StatusUpdate(provider_message_id=mid, status=OutboundStatus.DELIVERED, at=at))
    elif "read" in event:
        # Instagram names the message it saw; Messenger only gives a watermark.
        mid = get_str(get_dict(event, "read"), "mid")
        if not mid:
            out.ignore("read receipt with a watermark only (no message id)")
        else:
            at = from_timestamp(event.get("timestamp"))
            out.items.append(StatusUpdate(provider_message_id=mid, status=OutboundStatus.READ, at=at))
    else:
        kinds = [k for k in event if k not in ("sender", "recipient", "timestamp")]
        quiet = [k for k in kinds if k in QUIET_EVENTS]
        if quiet:
            out.ignore(f"messaging event {quiet[0]!r} is {QUIET_EVENTS[quiet[0]]}")
        else:
            out.error(f"unsupported messaging event: {', '.join(kinds) or 'empty'}")


def _sender(sender_id: str, identity_kind: str, where: str) -> Sender:
    if not sender_id:
        raise AdapterError(f"{where} without sender.id", permanent=True)
    return Sender(kind=identity_kind, value=sender_id)


def _message(event: dict[str, Any], sender_id: str, identity_kind: str) -> NormalizedMessage | str:
    message = get_dict(event, "message")
    mid = get_str(message, "mid")
    if message.get("is_echo") is True:
        return f"echo of our own message {mid}"
    if message.get("is_deleted") is True:
        return f"message {mid} was deleted by the customer"
    if message.get("is_unsupported") is True:
        return f"message {mid} is of a type Meta does not deliver"
    if not mid:
        raise AdapterError("message without mid", permanent=True)
    sender = _sender(sender_id, identity_kind, f"message {mid}")
    text = get_str(message, "text")
    metadata: dict[str, Any] = {}
    attachments: list[Attachment] = []
    extra_lines: list[str] = []
    for item in get_list(message, "attachments"):
        if isinstance(item, dict):
            _attachment(item, attachments, metadata, extra_lines)
    quick_reply = get_dict(message, "quick_reply")
    if quick_reply:
        metadata.update(button=True, callback_data=get_str(quick_reply, "payload"), button_title=text)
    reply_to = get_dict(message, "reply_to")
    in_reply_to = [get_str(reply_to, "mid")] if get_str(reply_to, "mid") else []
    if in_reply_to:
        metadata["reply_to"] = in_reply_to[0]
    story = get_dict(reply_to, "story")
    if story:
        # Stories are ephemeral: Meta's policy allows keeping the CDN link, never the media itself.
        metadata["story_reply"] = {"id": get_str(story, "id"), "url": get_str(story, "url")}
    text = "\n".join(line for line in [text, *extra_lines] if line)
    if not text and not attachments:
        return f"message {mid} has neither text nor attachments"
    return NormalizedMessage(
        sender=sender,
        provider_message_id=mid,
        text=text,
        sent_at=from_timestamp(event.get("timestamp")),
        attachments=attachments,
        in_reply_to=in_reply_to,
        metadata=metadata,
    )


def _attachment(
    item: dict[str, Any], attachments: list[Attachment], metadata: dict[str, Any], lines: list[str]
) -> None:
    kind = get_str(item, "type")
    payload = get_dict(item, "payload")
    url = get_str(payload, "url")
    if kind == "location":
        coordinates = get_dict(payload, "coordinates")
        lat, lon = coordinates.get("lat"), coordinates.get("long")
        metadata["location"] = {"latitude": lat, "longitude": lon}
        lines.append(f"📍 ({lat}, {lon})")
    elif kind == "story_mention":
        metadata["story_mention"] = {"url": url}
        lines.append(url)
    elif kind in DOWNLOADED and url:
        name = posixpath.basename(urlsplit(url).path)
        if "." not in name:
            name = kind
        content_type = mimetypes.guess_type(name)[0] or ""
        attachments.append(Attachment(filename=name, content_type=content_type, size=0, url=url))
    else:
        # Shared links ("fallback"), templates and the like: keep what they say, download nothing.
        title = get_str(payload, "title") or get_str(item, "title")
        lines.append(" ".join(p for p in (title, url) if p) or f"[{kind or 'attachment'}]")
        metadata.setdefault("shared", []).append({"type": kind, "title": title, "url": url})


def _postback(event: dict[str, Any], sender_id: str, identity_kind: str) -> NormalizedMessage:
    postback = get_dict(event, "postback")
    timestamp = get_str(event, "timestamp")
    mid = get_str(postback, "mid") or f"postback:{sender_id}:{timestamp}"
    title = get_str(postback, "title")
    return NormalizedMessage(
        sender=_sender(sender_id, identity_kind, "postback"),
        provider_message_id=mid,
        text=title or get_str(postback, "payload"),
        sent_at=from_timestamp(event.get("timestamp")),
        metadata={
            "button": True,
            "postback": True,
            "callback_data": get_str(postback, "payload"),
            "button_title": title,
        },
    )


def send_bodies(recipient: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The text (if any) and then each file as an attachment message by URL: the Send API takes one
    attachment per message and no text beside it."""
    files = [item for item in payload.get("attachments") or [] if isinstance(item, dict) and item.get("url")]
    if not files:
        return [send_body(recipient, payload)]
    bodies = [send_body(recipient, payload)] if payload.get("text") else []
    for item in files:
        major = str(item.get("content_type") or "").split("/")[0]
        bodies.append(
            {
                "recipient": {"id": recipient},
                "messaging_type": "RESPONSE",
                "message": {
                    "attachment": {
                        "type": major if major in ("image", "video", "audio") else "file",
                        "payload": {"url": str(item["url"]), "is_reusable": False},
                    }
                },
            }
        )
    return bodies


def send_body(recipient: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The /me/messages request for one outbound payload (a reply inside the 24-hour window)."""
    text = str(payload.get("text") or "")
    if not text:
        raise AdapterError("nothing to send: the message has no text", permanent=True)
    message: dict[str, Any] = {"text": text}
    buttons = payload.get("buttons") or []
    if len(buttons) > MAX_QUICK_REPLIES:
        raise AdapterError(
            f"Messenger offers at most {MAX_QUICK_REPLIES} quick replies, got {len(buttons)}", permanent=True
        )
    if buttons:
        message["quick_replies"] = [
            {"content_type": "text", "title": str(b["title"])[:20], "payload": str(b["payload"])}
            for b in buttons
        ]
    return {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": message}


def sent_id(data: dict[str, Any]) -> str:
    message_id = get_str(data, "message_id")
    if not message_id:
        raise AdapterError(f"unexpected Send API answer: {str(data)[:300]}", permanent=True)
    return message_id
