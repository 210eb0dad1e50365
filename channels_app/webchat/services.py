"""Writes for web chat: visitor messages go into the same durable inbound path as provider webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from channels_app.inbound_models import InboundEvent
from channels_app.models import Channel
from channels_app.services import do_store_inbound_event
from channels_app.webchat.identity import Visitor
from profiles.models import Identity, IdentityKind
from profiles.services import do_attach_identity, do_resolve_sender

PROVIDER = "webchat"
VISITOR_HEADER = "X-Webchat-Visitor"


@dataclass(frozen=True)
class VisitorProfile:
    """What the site told the widget about the visitor. Unverified unless the user hash checked out."""

    name: str = ""
    email: str = ""
    locale: str = ""
    page_url: str = ""


def provider_message_id(visitor_id: str, client_id: str) -> str:
    # Scoped to the visitor: one visitor's client ids can never collide with (or suppress) another's.
    return f"{visitor_id}:{client_id}"


def event_body(*, visitor: Visitor, client_id: str, text: str, profile: VisitorProfile) -> bytes:
    """The JSON the webchat adapter parses; written by us, never taken verbatim from the browser."""
    data = {
        "type": "message",
        "id": client_id,
        "visitor": {
            "id": visitor.visitor_id,
            "user_id": visitor.user_id,
            "name": profile.name,
            "email": profile.email,
        },
        "text": text,
        "sent_at": timezone.now().isoformat(),
        "locale": profile.locale,
        "page_url": profile.page_url,
    }
    return json.dumps(data, ensure_ascii=False).encode()


def do_store_visitor_message(
    *,
    channel: Channel,
    visitor: Visitor,
    client_id: str,
    text: str,
    profile: VisitorProfile,
    origin: str = "",
    user_agent: str = "",
) -> InboundEvent | None:
    """Store one visitor message; None when this client id was stored before (a resend after reconnect)."""
    if visitor.verified:
        do_link_signed_visitor(channel=channel, visitor=visitor, display=profile.name)
    headers = {VISITOR_HEADER: visitor.visitor_id, "Origin": origin[:300], "User-Agent": user_agent[:300]}
    return do_store_inbound_event(
        channel=channel,
        provider=PROVIDER,
        dedup_key=f"webchat:{provider_message_id(visitor.visitor_id, client_id)}",
        content_type="application/json",
        headers={name: value for name, value in headers.items() if value},
        body=event_body(visitor=visitor, client_id=client_id, text=text, profile=profile),
    )


@transaction.atomic
def do_link_signed_visitor(*, channel: Channel, visitor: Visitor, display: str = "") -> None:
    """Tie a verified user's web chat visitor id to the customer behind their user id.

    Messages from a signed visitor are recorded under the EXTERNAL_ID identity, but agent replies are
    addressed to a WEBCHAT identity (the visitor's socket group), so both must belong to one customer.
    Done on the first message rather than on connect, so merely browsing a site creates no customers.
    """
    webchat = Identity.objects.filter(kind=IdentityKind.WEBCHAT, value=visitor.visitor_id).first()
    if webchat is None:
        customer = do_resolve_sender(kind=IdentityKind.EXTERNAL_ID, value=visitor.user_id, display=display)
        Identity.objects.filter(kind=IdentityKind.EXTERNAL_ID, value=visitor.user_id).update(verified=True)
        Identity.objects.get_or_create(
            kind=IdentityKind.WEBCHAT,
            value=visitor.visitor_id,
            defaults={"customer": customer, "display": display[:200], "verified": True},
        )
        return
    # The visitor chatted anonymously before and has now signed in: the signed user id is proof, so
    # the resolution rules attach it to that profile or fold the anonymous profile into the user's.
    do_attach_identity(
        customer=webchat.customer,
        kind=IdentityKind.EXTERNAL_ID,
        value=visitor.user_id,
        verified=True,
        source="webchat",
        evidence={"channel_id": channel.pk},
    )
