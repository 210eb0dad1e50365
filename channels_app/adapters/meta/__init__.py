"""Meta: WhatsApp Cloud API, Messenger and Instagram messaging, all on /webhooks/meta/<channel_id>/.

Docs: developers.facebook.com/docs/graph-api/webhooks/getting-started (hub.challenge handshake,
X-Hub-Signature-256), the WhatsApp Cloud API webhooks reference, the Messenger Platform webhook events
reference and the Instagram messaging webhooks page. The payload details live in whatsapp.py and
messaging.py next to this file; Graph API calls and their errors in graph.py and common.py.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, JsonResponse

from channels_app.adapters.base import (
    Adapter,
    AdapterError,
    Ignored,
    MediaSource,
    SignatureError,
    register,
)
from channels_app.adapters.meta import messaging, whatsapp
from channels_app.adapters.meta.common import Collected
from channels_app.adapters.meta.graph import graph_call
from channels_app.adapters.payloads import get_list, get_str, load_json_object
from channels_app.kinds import ChannelKind, kind_spec, provider_for
from channels_app.normalized import ParsedItem

# The `object` of a delivery, per channel kind.
OBJECTS = {
    ChannelKind.WHATSAPP: "whatsapp_business_account",
    ChannelKind.MESSENGER: "page",
    ChannelKind.INSTAGRAM: "instagram",
}
# Which credential holds the token that sends (and fetches media) for each kind.
TOKEN_FIELDS = {
    ChannelKind.WHATSAPP: "access_token",
    ChannelKind.MESSENGER: "page_access_token",
    ChannelKind.INSTAGRAM: "page_access_token",
}
MEDIA_PREFIX = "meta-media:"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _token(channel) -> str:
    field = TOKEN_FIELDS[channel.kind]
    if not channel.credentials.get(field):
        raise AdapterError(f"the channel has no {field} configured", permanent=True)
    return channel.secret(field)


@register
class MetaAdapter(Adapter):
    provider = "meta"
    channel_kinds = (ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.INSTAGRAM)
    kept_headers = ("X-Hub-Signature-256", "Content-Type")
    media_hosts = (".fbsbx.com", ".fbcdn.net", ".cdninstagram.com", ".whatsapp.net")

    def handshake(self, request: HttpRequest, channel) -> HttpResponse | None:
        expected = channel.credentials.get("verify_token")
        given = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if (
            provider_for(channel.kind, channel.config) != self.provider
            or not expected
            or request.GET.get("hub.mode") != "subscribe"
            or not challenge
            or not hmac.compare_digest(given.encode(), channel.secret("verify_token").encode())
        ):
            return JsonResponse({"error": "verification failed"}, status=403)
        return HttpResponse(challenge, content_type="text/plain")

    def verify(self, request: HttpRequest, channel) -> None:
        if provider_for(channel.kind, channel.config) != self.provider:
            raise SignatureError("this channel is not served by Meta")
        if not channel.credentials.get("app_secret"):
            raise SignatureError("channel has no app secret configured")
        given = request.headers.get("X-Hub-Signature-256", "")
        expected = sign(channel.secret("app_secret"), request.body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise SignatureError("X-Hub-Signature-256 mismatch")

    def parse(self, event, channel) -> list[ParsedItem]:
        data = load_json_object(bytes(event.body))
        kind = get_str(data, "object")
        if kind not in OBJECTS.values():
            raise AdapterError(f"unknown Meta webhook object {kind or '(none)'!r}", permanent=True)
        if kind != OBJECTS[channel.kind]:
            raise Ignored(f"a {kind!r} delivery does not belong to a {channel.kind} channel")
        entries = get_list(data, "entry")
        if not entries:
            raise AdapterError("delivery has no entry list", permanent=True)
        out = Collected()
        for entry in entries:
            if not isinstance(entry, dict):
                out.error("entry is not an object")
            elif channel.kind == ChannelKind.WHATSAPP:
                self._whatsapp_entry(entry, channel, out)
            else:
                self._messaging_entry(entry, channel, out)
        return out.result()

    def _whatsapp_entry(self, entry: dict[str, Any], channel, out: Collected) -> None:
        changes = get_list(entry, "changes")
        if not changes:
            out.error(f"WhatsApp entry {get_str(entry, 'id')} has no changes")
        for change in changes:
            if isinstance(change, dict):
                whatsapp.collect_change(change, channel, out)
            else:
                out.error("WhatsApp change is not an object")

    def _messaging_entry(self, entry: dict[str, Any], channel, out: Collected) -> None:
        entry_id = get_str(entry, "id")
        expected = str(channel.config.get("page_id") or channel.address or "")
        if expected and entry_id != expected:
            out.ignore(f"addressed to {entry_id or '(no id)'}, not this channel's {expected}")
            return
        events = get_list(entry, "messaging")
        for item in events:
            messaging.collect_event(item, kind_spec(channel.kind).identity_kind, out)
        if get_list(entry, "standby"):
            out.ignore("standby events: another app controls this conversation")
        for change in get_list(entry, "changes"):
            # Page feed and Instagram comment subscriptions arrive here too; they are not conversations.
            field = get_str(change, "field") if isinstance(change, dict) else ""
            out.ignore(f"field {field or '(none)'!r} carries no message")
        if not events and not get_list(entry, "standby") and not get_list(entry, "changes"):
            out.error(f"entry {entry_id or '(no id)'} has no messaging events")

    def resolve_media(self, reference: str, channel) -> MediaSource:
        if not reference.startswith(MEDIA_PREFIX):
            return MediaSource(url=reference)  # Messenger and Instagram hand out CDN URLs directly
        # WhatsApp hands out media ids; the Graph API turns one into a short-lived URL that wants the token.
        token = _token(channel)
        data = graph_call("GET", reference[len(MEDIA_PREFIX) :], token=token)
        url = get_str(data, "url")
        if not url:
            raise AdapterError(f"Meta gave no URL for media {reference[:80]}", permanent=True)
        return MediaSource(url=url, headers={"Authorization": f"Bearer {token}"})

    def check_connection(self, channel, *, webhook_url: str) -> str:
        """Read the number or page the token is for. Meta's webhook is subscribed per app in its
        console (with the verify token), so there is nothing to register here."""
        token = _token(channel)
        if channel.kind == ChannelKind.WHATSAPP:
            number_id = str(channel.config.get("phone_number_id") or "")
            if not number_id:
                raise AdapterError("the WhatsApp channel has no phone number ID configured", permanent=True)
            data = graph_call(
                "GET", f"{quote(number_id, safe='')}?fields=display_phone_number,verified_name", token=token
            )
            parts = [get_str(data, "verified_name"), get_str(data, "display_phone_number")]
            return f"{parts[0]} ({parts[1]})" if all(parts) else parts[0] or parts[1] or number_id
        expected = str(channel.config.get("page_id") or "")
        if channel.kind == ChannelKind.INSTAGRAM and expected:
            # An Instagram account id is not what /me names with a page token; ask for the account itself.
            data = graph_call("GET", f"{quote(expected, safe='')}?fields=id,username", token=token)
            return "@" + get_str(data, "username") if get_str(data, "username") else get_str(data, "id")
        data = graph_call("GET", "me?fields=id,name", token=token)
        if expected and get_str(data, "id") != expected:
            raise AdapterError(
                f"the token belongs to {get_str(data, 'name') or '?'} ({get_str(data, 'id')}), "
                f"not to page {expected}",
                permanent=True,
            )
        return get_str(data, "name") or get_str(data, "id")

    def send(self, outbound, channel) -> str:
        token = _token(channel)
        if channel.kind == ChannelKind.WHATSAPP:
            phone_number_id = str(channel.config.get("phone_number_id") or "")
            if not phone_number_id:
                raise AdapterError("the WhatsApp channel has no phone_number_id configured", permanent=True)
            bodies = whatsapp.send_bodies(outbound.recipient, outbound.payload)
            ids = [
                whatsapp.sent_id(graph_call("POST", f"{phone_number_id}/messages", token=token, json=body))
                for body in bodies
            ]
        else:
            bodies = messaging.send_bodies(outbound.recipient, outbound.payload)
            ids = [
                messaging.sent_id(graph_call("POST", "me/messages", token=token, json=body))
                for body in bodies
            ]
        # Status callbacks follow the last message: it is delivered after the ones before it.
        return ids[-1]
