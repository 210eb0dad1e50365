"""Writes for web chat visitors: a signed visitor's message is tied to their customer before it is stored."""

from __future__ import annotations

from django.db import transaction

from channels_app.inbound_models import InboundEvent
from channels_app.models import Channel
from channels_app.webchat.identity import Visitor
from channels_app.webchat.services import VisitorProfile, do_store_visitor_message
from profiles.models import Identity, IdentityKind
from profiles.services import do_attach_identity, do_resolve_sender


def do_accept_visitor_message(
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
    return do_store_visitor_message(
        channel=channel,
        visitor=visitor,
        client_id=client_id,
        text=text,
        profile=profile,
        origin=origin,
        user_agent=user_agent,
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
