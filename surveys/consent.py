"""Survey opt-out and consent, kept with the profile's other consent (profiles.Customer.consent)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from profiles.models import Customer

CONSENT_KEY = "surveys"


@transaction.atomic
def do_record_survey_consent(*, customer: Customer, opted_out: bool, source: str) -> Customer:
    """The latest decision wins everywhere (merges compare `at` too); pending invitations stop."""
    from surveys.invitation_models import Invitation, InvitationStatus

    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    consent = dict(locked.consent or {})
    consent[CONSENT_KEY] = {
        "status": "opted_out" if opted_out else "granted",
        "at": timezone.now().isoformat(),
        "source": source[:100],
    }
    locked.consent = consent
    locked.save(update_fields=["consent"])
    if opted_out:
        Invitation.objects.filter(customer=locked, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.THROTTLED, reason="The customer opted out of surveys."
        )
    return locked
