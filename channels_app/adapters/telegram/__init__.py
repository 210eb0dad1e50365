"""Telegram Bot API: webhook updates in, sendMessage out.

Docs: https://core.telegram.org/bots/api#update (payloads), #setwebhook (secret_token header).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest

from channels_app.adapters.base import (
    Adapter,
    AdapterError,
    Ignored,
    MediaSource,
    SignatureError,
    register,
)
from channels_app.adapters.http import base_url, exchange, request
from channels_app.adapters.payloads import from_unix, get_dict, get_str, load_json_object
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind
from channels_app.normalized import Attachment, NormalizedMessage, Sender

# Bot API: media captions are 0-1024 characters; sendPhoto takes these types by URL.
CAPTION_LIMIT = 1024
PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_ROW_KEYS = 6

# Update fields that carry nothing for the inbox (bot membership, polls, business connections, ...).
QUIET_UPDATES = (
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "poll",
    "poll_answer",
    "message_reaction",
    "message_reaction_count",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
)
MEDIA_FIELDS = ("photo", "document", "voice", "audio", "video", "video_note", "sticker", "animation")
# The update types parse() turns into messages; asking Telegram for others would only fill the event log.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")


def _display(user: dict[str, Any]) -> str:
    name = " ".join(p for p in (get_str(user, "first_name"), get_str(user, "last_name")) if p)
    return name or get_str(user, "username")


def _sender(user: dict[str, Any], where: str) -> Sender:
    user_id = get_str(user, "id")
    if not user_id:
        raise AdapterError(f"{where}: no sender id", permanent=True)
    return Sender(kind=IdentityKind.TELEGRAM, value=user_id, display=_display(user))


def _attachments(message: dict[str, Any]) -> list[Attachment]:
    found = []
    for field in MEDIA_FIELDS:
        media = message.get(field)
        if field == "photo" and isinstance(media, list) and media:
            media = media[-1]  # Telegram lists sizes smallest first
        if not isinstance(media, dict) or not get_str(media, "file_id"):
            continue
        found.append(
            Attachment(
                filename=get_str(media, "file_name") or f"{field}.{'jpg' if field == 'photo' else 'bin'}",
                content_type=get_str(media, "mime_type") or ("image/jpeg" if field == "photo" else ""),
                size=int(get_str(media, "file_size") or 0),
                url=f"telegram-file:{get_str(media, 'file_id')}",
            )
        )
    return found


def _text(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text = get_str(message, "text") or get_str(message, "caption")
    extra: dict[str, Any] = {}
    location = get_dict(message, "location")
    if location:
        extra["location"] = {"latitude": location.get("latitude"), "longitude": location.get("longitude")}
        text = text or f"📍 {location.get('latitude')}, {location.get('longitude')}"
    contact = get_dict(message, "contact")
    if contact:
        extra["contact"] = {
            "phone_number": get_str(contact, "phone_number"),
            "name": _display(contact),
        }
        text = text or f"☎ {_display(contact)} {get_str(contact, 'phone_number')}".strip()
    return text, extra


def _message(message: dict[str, Any], *, edited: bool) -> NormalizedMessage:
    chat_id = get_str(get_dict(message, "chat"), "id")
    message_id = get_str(message, "message_id")
    if not chat_id or not message_id:
        raise AdapterError("message without chat.id or message_id", permanent=True)
    text, extra = _text(message)
    provider_id = f"{chat_id}:{message_id}"
    sent_at = from_unix(message.get("date"))
    if edited:
        extra["edit_of"] = provider_id
        provider_id = f"{provider_id}:edit:{get_str(message, 'edit_date')}"
        sent_at = from_unix(message.get("edit_date")) or sent_at
    return NormalizedMessage(
        sender=_sender(get_dict(message, "from"), "message"),
        provider_message_id=provider_id,
        text=text,
        sent_at=sent_at,
        attachments=_attachments(message),
        thread_id=chat_id,
        metadata={**extra, "chat_id": chat_id},
    )


@register
class TelegramAdapter(Adapter):
    provider = "telegram"
    channel_kinds = (ChannelKind.TELEGRAM,)
    kept_headers = ("Content-Type",)
    media_hosts = ("api.telegram.org",)

    def verify(self, request: HttpRequest, channel) -> None:
        expected = channel.credentials.get("webhook_secret")
        if not expected:
            raise SignatureError("channel has no webhook secret configured")
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), channel.secret("webhook_secret").encode()):
            raise SignatureError("secret token mismatch")

    def dedup_key(self, request: HttpRequest) -> str:
        try:
            update_id = get_str(load_json_object(request.body), "update_id")
        except AdapterError:
            update_id = ""
        return f"update:{update_id}" if update_id else super().dedup_key(request)

    def parse(self, event, channel) -> list:
        update = load_json_object(bytes(event.body))
        if "message" in update:
            return [_message(get_dict(update, "message"), edited=False)]
        if "edited_message" in update:
            return [_message(get_dict(update, "edited_message"), edited=True)]
        if "callback_query" in update:
            query = get_dict(update, "callback_query")
            chat_id = get_str(get_dict(get_dict(query, "message"), "chat"), "id")
            return [
                NormalizedMessage(
                    sender=_sender(get_dict(query, "from"), "callback_query"),
                    provider_message_id=f"callback:{get_str(query, 'id')}",
                    text=get_str(query, "data"),
                    thread_id=chat_id,
                    metadata={"callback_data": get_str(query, "data"), "chat_id": chat_id, "button": True},
                )
            ]
        kinds = [key for key in update if key != "update_id"]
        if any(kind in QUIET_UPDATES for kind in kinds):
            raise Ignored(f"update type {kinds[0]} carries no customer message")
        raise AdapterError(f"unsupported update type(s): {', '.join(kinds) or 'none'}", permanent=True)

    def resolve_media(self, reference: str, channel) -> MediaSource:
        # Telegram hands out file ids; getFile turns one into a path valid for about an hour.
        if not reference.startswith("telegram-file:"):
            raise AdapterError(f"not a Telegram file reference: {reference[:100]}", permanent=True)
        token = channel.secret("bot_token")
        response = request(
            "GET", f"{base_url('telegram')}/bot{token}/getFile", params={"file_id": reference[14:]}
        )
        data = response.json()
        result = data.get("result") if isinstance(data, dict) else None
        path = get_str(result, "file_path") if isinstance(result, dict) else ""
        if not path:
            raise AdapterError(f"Telegram getFile gave no file_path: {str(data)[:200]}", permanent=True)
        return MediaSource(url=f"{base_url('telegram')}/file/bot{token}/{path}")

    def check_connection(self, channel, *, webhook_url: str) -> str:
        """getMe proves the token; setWebhook points the bot at this channel with its secret token, which
        Telegram then sends in X-Telegram-Bot-Api-Secret-Token (checked by verify)."""
        token = channel.secret("bot_token")
        me = _bot_api(token, "getMe")
        if not isinstance(me, dict) or me.get("is_bot") is not True:
            raise AdapterError(f"getMe did not describe a bot: {str(me)[:200]}", permanent=True)
        _bot_api(
            token,
            "setWebhook",
            {
                "url": webhook_url,
                "secret_token": channel.secret("webhook_secret"),
                "allowed_updates": list(ALLOWED_UPDATES),
            },
        )
        username = get_str(me, "username")
        return f"@{username}" if username else get_str(me, "first_name")

    def send(self, outbound, channel) -> str:
        payload = outbound.payload
        body: dict[str, Any] = {"chat_id": outbound.recipient, "text": payload.get("text", "")}
        buttons = payload.get("buttons") or []
        if buttons:
            keys = [{"text": b["title"], "callback_data": b["payload"]} for b in buttons]
            # Eleven keys in one row are too narrow to tap on a phone: rows of at most six, evened out.
            per_row = -(-len(keys) // -(-len(keys) // MAX_ROW_KEYS))
            body["reply_markup"] = {
                "inline_keyboard": [keys[i : i + per_row] for i in range(0, len(keys), per_row)]
            }
        token = channel.secret("bot_token")
        files = [
            item for item in payload.get("attachments") or [] if isinstance(item, dict) and item.get("url")
        ]
        text = str(payload.get("text") or "")
        message_id = ""
        if not files or (text and (len(text) > CAPTION_LIMIT or buttons)):
            message_id = _call(token, "sendMessage", body)
            text = ""
        for item in files:
            # Photos by URL go through sendPhoto; everything else as a document (GIF, PDF, ZIP by URL).
            content_type = str(item.get("content_type") or "")
            method, field = (
                ("sendPhoto", "photo") if content_type in PHOTO_TYPES else ("sendDocument", "document")
            )
            media: dict[str, Any] = {"chat_id": outbound.recipient, field: str(item["url"])}
            if text:
                media["caption"] = text
                text = ""
            message_id = _call(token, method, media)
        return f"{outbound.recipient}:{message_id}"


def _call(token: str, method: str, body: dict[str, Any]) -> str:
    response = request("POST", f"{base_url('telegram')}/bot{token}/{method}", json=body)
    data = response.json()
    result = data.get("result") if isinstance(data, dict) else None
    message_id = get_str(result, "message_id") if isinstance(result, dict) else ""
    if not data.get("ok") or not message_id:
        raise AdapterError(f"unexpected Telegram answer: {str(data)[:300]}", permanent=True)
    return message_id


def _bot_api(token: str, method: str, body: dict[str, Any] | None = None) -> Any:
    """The `result` of one Bot API call, or AdapterError carrying Telegram's own description.

    Errors come back as {"ok": false, "error_code": 401, "description": "Unauthorized"}; the description
    is what the admin needs to see, so the body is read before the status decides anything.
    """
    response = exchange(
        "POST", f"{base_url('telegram')}/bot{token}/{method}", provider="Telegram", json=body or {}
    )
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("ok") is True:
        return data.get("result")
    described = get_str(data, "description") if isinstance(data, dict) else ""
    code = (get_str(data, "error_code") if isinstance(data, dict) else "") or str(response.status_code)
    temporary = response.status_code == 429 or response.status_code >= 500
    raise AdapterError(
        f"Telegram refused {method} ({code}): {described or response.text[:200]}", permanent=not temporary
    )
