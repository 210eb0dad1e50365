"""Writes for customers and identities."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from profiles.models import Customer, Identity


def do_resolve_sender(
    *, kind: str, value: str, display: str = "", locale: str = "", region: str = ""
) -> Customer:
    """The customer behind an identity, creating both on first contact.

    Two workers meeting the same new identity at once both try to insert it; the unique constraint on
    (kind, value) lets exactly one win and the other reads the winner's row. `region` is the channel's
    default country for phone numbers written without a country code.
    """
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=value).first()
    if identity is not None:
        if display and not identity.display:
            Identity.objects.filter(pk=identity.pk).update(display=display[:200])
        return identity.customer
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                name=display[:200], locale=locale[:8], last_seen_at=timezone.now()
            )
            Identity.objects.create(customer=customer, kind=kind, value=value, display=display[:200])
            return customer
    except IntegrityError:
        return Identity.objects.select_related("customer").get(kind=kind, value=value).customer
