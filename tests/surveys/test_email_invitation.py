"""Email invitations through the real outbound path, down to the MIME a local SMTP server receives."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.services import do_create_channel
from profiles.models import Identity, IdentityKind
from surveys import delivery
from surveys.invitation_models import InvitationStatus, Medium
from surveys.models import SurveyKind
from tests.stubs.smtp import SmtpStub
from tests.surveys import factories as f

pytestmark = pytest.mark.django_db
BASE = "https://cx.shop.example"


@pytest.fixture
def smtp():
    stub = SmtpStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def mailbox(smtp):
    return do_create_channel(
        kind="email",
        name="Acme Support",
        address="support@shop.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
        credentials={},
    )


def pending_invitation(
    kind: str = SurveyKind.NPS, *, email: str = "anna@example.com", locale: str = "en", **extra
):
    survey = f.survey(kind, question={"en": "Would you recommend Acme?", "pl": "Czy polecisz Acme?"}, **extra)
    person = f.customer(phone="", locale=locale)
    if email:
        Identity.objects.create(customer=person, kind=IdentityKind.EMAIL, value=email, verified=True)
    invitation = f.invitation(survey, person, status=InvitationStatus.PENDING, medium=Medium.EMAIL)
    invitation.send_at = timezone.now()
    invitation.locale = locale
    invitation.save(update_fields=["send_at", "locale"])
    return invitation


def send_due(invitation) -> int:
    """The per-invitation step of delivery.do_send_due_invitations, loaded as the sweep loads it. The
    sweep is tested on its own in test_the_sweep_sends_email_invitations."""
    from surveys.invitation_models import Invitation

    loaded = Invitation.objects.select_related("survey", "customer", "channel", "conversation").get(
        pk=invitation.pk
    )
    with transaction.atomic():
        return delivery._send_one(loaded)


def test_the_sweep_sends_email_invitations(mailbox):
    invitation = pending_invitation()
    assert delivery.do_send_due_invitations() == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    assert OutboundMessage.objects.get().recipient == "anna@example.com"


@override_settings(PUBLIC_BASE_URL=BASE)
def test_an_email_invitation_is_queued_with_one_click_links_and_unsubscribe_headers(mailbox):
    invitation = pending_invitation()
    assert send_due(invitation) == 1
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    assert (invitation.channel_id, invitation.recipient) == (mailbox.pk, "anna@example.com")

    outbound = OutboundMessage.objects.get()
    assert (outbound.channel_id, outbound.recipient) == (mailbox.pk, "anna@example.com")
    payload = outbound.payload
    opt_out = f"{BASE}/s/{invitation.token}/opt-out/"
    assert payload["headers"] == {
        "List-Unsubscribe": f"<{opt_out}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert "Acme Support" in payload["subject"]
    for score in range(11):
        link = f"{BASE}/s/{invitation.token}/{score}/"
        assert f'href="{link}"' in payload["html"]
        assert link in payload["text"]
    assert opt_out in payload["html"] and opt_out in payload["text"]
    assert "Would you recommend Acme?" in payload["html"]


@override_settings(PUBLIC_BASE_URL=BASE)
def test_the_mail_on_the_wire_has_html_text_and_list_headers(mailbox, smtp):
    invitation = pending_invitation()
    send_due(invitation)
    outbound = OutboundMessage.objects.get()
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT

    (mail,) = smtp.received
    message = mail.message
    assert mail.recipients == ["anna@example.com"]
    assert message["List-Unsubscribe"] == f"<{BASE}/s/{invitation.token}/opt-out/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()
    score_links = re.findall(rf'href="{re.escape(BASE)}/s/{invitation.token}/(\d+)/"', html)
    assert score_links == [str(n) for n in range(11)]
    # Built for Outlook's Word engine and Gmail: tables and inline styles, nothing they drop.
    assert "<table" in html and "class=" not in html
    for unsupported in ("display:flex", "display:grid", "background-image", "<style", "<script"):
        assert unsupported not in html
    assert 'style="max-width:600px' in html
    text = message.get_body(("plain",)).get_content()
    assert f"{BASE}/s/{invitation.token}/10/" in text
    assert f"{BASE}/s/{invitation.token}/opt-out/" in text


@override_settings(PUBLIC_BASE_URL=BASE)
def test_the_mail_is_in_the_customers_language(mailbox):
    invitation = pending_invitation(locale="pl")
    send_due(invitation)
    html = OutboundMessage.objects.get().payload["html"]
    assert '<html lang="pl"' in html
    assert "Czy polecisz Acme?" in html
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


@override_settings(PUBLIC_BASE_URL=BASE)
def test_csat_words_survey_uses_its_labels(mailbox):
    send_due(pending_invitation(SurveyKind.CSAT, scale_style="words"))
    payload = OutboundMessage.objects.get().payload
    assert payload["html"].count("/s/") == 5 + 2  # five scores, the browser link and the opt-out
    assert "Very satisfied</a>" in payload["html"]


def test_no_email_address_fails_the_invitation_with_a_reason(mailbox):
    invitation = pending_invitation(email="")
    assert send_due(invitation) == 0
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED
    assert "no email identity" in invitation.reason
    assert not OutboundMessage.objects.exists()


def test_no_active_email_channel_fails_the_invitation(mailbox):
    mailbox.is_active = False
    mailbox.save()
    invitation = pending_invitation()
    send_due(invitation)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED
    assert "No active email channel" in invitation.reason


def test_an_opted_out_customer_gets_no_mail(mailbox):
    from surveys.consent import do_record_survey_consent

    invitation = pending_invitation()
    do_record_survey_consent(customer=invitation.customer, opted_out=True, source="test")
    send_due(invitation)
    assert not OutboundMessage.objects.exists()
