"""Small builders shared by the survey tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from channels_app.models import Channel
from profiles.models import Customer, Identity, IdentityKind
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import new_token
from surveys.models import Survey, SurveyKind


def survey(kind: str = SurveyKind.NPS, **extra) -> Survey:
    extra.setdefault("name", f"{kind} survey")
    return Survey.objects.create(kind=kind, **extra)


def customer(name: str = "Anna Kowalska", *, phone: str = "+48601234567", **extra) -> Customer:
    person = Customer.objects.create(name=name, **extra)
    if phone:
        Identity.objects.create(customer=person, kind=IdentityKind.PHONE, value=phone)
    return person


def sms_channel(name: str = "Acme SMS") -> Channel:
    return Channel.objects.create(kind="sms", name=name)


def invitation(
    survey_: Survey,
    person: Customer | None,
    *,
    medium: str = Medium.EMAIL,
    channel: Channel | None = None,
    sent_at: datetime | None = None,
    expires_in: timedelta = timedelta(days=7),
    status: str = InvitationStatus.SENT,
    recipient: str = "",
) -> Invitation:
    # As in production: a pending invitation has not been sent yet.
    sent = sent_at or (None if status == InvitationStatus.PENDING else timezone.now())
    return Invitation.objects.create(
        survey=survey_,
        customer=person,
        token=new_token(),
        medium=medium,
        trigger=TriggerKind.MANUAL,
        status=status,
        channel=channel,
        recipient=recipient,
        sent_at=sent,
        expires_at=(sent or timezone.now()) + expires_in,
    )
