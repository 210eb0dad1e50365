"""Shareable links and QR codes: one invitation per visit, rate limited, QR codes for managers only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.public_url import public_base_url
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.links import do_disable_sharing, do_enable_sharing, share_url
from tests.surveys import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_survey_rates")]


@pytest.fixture
def shared():
    return do_enable_sharing(survey=f.survey())


def test_enabling_sharing_sets_a_stable_random_key(shared):
    key = shared.public_key
    assert key and len(key) >= 20
    assert do_enable_sharing(survey=shared).public_key == key  # printed QR codes keep working
    assert share_url(shared).endswith(f"/s/l/{key}/")
    assert do_enable_sharing(survey=f.survey(name="other")).public_key != key


def test_each_visit_gets_its_own_invitation_and_lands_on_the_survey(client, shared):
    link = reverse("survey_public:share", args=[shared.public_key])
    first = client.get(link, HTTP_ACCEPT_LANGUAGE="pl")
    second = client.get(link)
    assert first.status_code == second.status_code == 302
    assert first.headers["Cache-Control"] == "no-store"
    assert first.url != second.url
    invitations = list(Invitation.objects.filter(survey=shared).order_by("id"))
    assert len(invitations) == 2
    assert {(i.medium, i.trigger, i.status, i.customer_id) for i in invitations} == {
        (Medium.LINK, TriggerKind.LINK, InvitationStatus.SENT, None)
    }
    assert invitations[0].locale == "pl"
    assert first.url == reverse("survey_public:answer", args=[invitations[0].token])
    page = client.get(first.url)
    assert page.status_code == 200 and '<html lang="pl">' in page.content.decode()
    assert client.post(first.url, {"score": 10}).status_code == 200
    assert Invitation.objects.get(pk=invitations[0].pk).status == InvitationStatus.ANSWERED


def test_link_previews_with_head_mint_nothing(client, shared):
    assert client.head(reverse("survey_public:share", args=[shared.public_key])).status_code == 200
    assert not Invitation.objects.exists()


def test_unknown_key_and_disabled_sharing_are_404(client, shared):
    link = reverse("survey_public:share", args=[shared.public_key])
    assert client.get(reverse("survey_public:share", args=["nope"])).status_code == 404
    do_disable_sharing(survey=shared)
    assert client.get(link).status_code == 404
    assert not Invitation.objects.exists()


def test_an_inactive_survey_is_closed(client, shared):
    shared.is_active = False
    shared.save()
    response = client.get(reverse("survey_public:share", args=[shared.public_key]))
    assert response.status_code == 410
    assert not Invitation.objects.filter(status=InvitationStatus.SENT).exists()


def test_minting_tokens_is_rate_limited_per_client(client, shared, settings):
    settings.SURVEY_PUBLIC_RATE_PER_MINUTE = 20  # the share bucket allows a quarter: 5 per minute
    link = reverse("survey_public:share", args=[shared.public_key])
    codes = [client.get(link).status_code for _ in range(7)]
    assert codes == [302] * 5 + [429] * 2
    assert Invitation.objects.count() == 5
    assert client.get(link, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_qr_code_needs_the_manage_surveys_permission(client, agent_client, manager_client, shared):
    qr = reverse("survey_public:share_qr", args=[shared.public_key])
    anonymous = client.get(qr)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert agent_client.get(qr).status_code == 403
    response = manager_client.get(qr)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "<svg" in svg and 'xmlns="http://www.w3.org/2000/svg"' in svg
    # The title names the link the code encodes, built from the address the page was served at.
    assert share_url(shared, base=public_base_url(response.wsgi_request)) in svg
    assert manager_client.get(reverse("survey_public:share_qr", args=["nope"])).status_code == 404
    assert not Invitation.objects.exists()
