"""An email survey answered in real Chromium with JavaScript off: the one-click score from the mail,
the follow-up comment, the thanks; in the customer's language, at phone and desktop sizes."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from channels_app.models import OutboundMessage
from channels_app.services import do_create_channel
from profiles.models import Identity, IdentityKind
from surveys import delivery
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus, Medium
from surveys.models import SurveyKind, SurveyResponse
from tests.browser.conftest import screenshot_path
from tests.surveys import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("fresh_survey_rates")]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 720}


@pytest.fixture
def no_js(chromium_browser):
    contexts = []

    def open_page(viewport: dict):
        context = chromium_browser.new_context(viewport=viewport, java_script_enabled=False, locale="pl-PL")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def polish_invitation() -> Invitation:
    survey = f.survey(
        SurveyKind.NPS,
        question={"en": "How likely are you to recommend Acme?", "pl": "Czy poleciłbyś Acme znajomemu?"},
        followup_question={"en": "What should we improve?", "pl": "Co powinniśmy poprawić?"},
    )
    person = f.customer("Anna Kowalska", phone="", locale="pl")
    Identity.objects.create(customer=person, kind=IdentityKind.EMAIL, value="anna@example.pl", verified=True)
    invitation = f.invitation(survey, person, status=InvitationStatus.PENDING, medium=Medium.EMAIL)
    invitation.send_at = timezone.now()
    invitation.locale = "pl"
    invitation.save(update_fields=["send_at", "locale"])
    return invitation


def queue_mail(invitation: Invitation) -> str:
    loaded = Invitation.objects.select_related("survey", "customer", "channel", "conversation").get(
        pk=invitation.pk
    )
    with transaction.atomic():
        assert delivery._send_one(loaded) == 1
    return OutboundMessage.objects.get(recipient="anna@example.pl").payload["html"]


def test_one_click_from_the_email_then_a_comment_without_javascript(live_server, no_js, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    do_create_channel(
        kind="email",
        name="Acme",
        address="pomoc@acme.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": 2525},
        credentials={},
    )
    invitation = polish_invitation()
    html = queue_mail(invitation)

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        mail = no_js(viewport)
        mail.set_content(html)
        assert mail.locator("a[href*='/s/']").count() == 11 + 2
        mail.screenshot(path=str(screenshot_path(f"survey-email-{name}.png")), full_page=True)

    page = no_js(PHONE)
    page.set_content(html)
    page.locator(f"a[href='{live_server.url}/s/{invitation.token}/3/']").click()
    page.wait_for_url(f"**/s/{invitation.token}/3/")
    assert page.locator("html").get_attribute("lang") == "pl"
    comment = page.get_by_label("Co powinniśmy poprawić?")
    comment.fill("Paczka przyszła po tygodniu.")
    page.screenshot(path=str(screenshot_path("survey-follow-up-phone.png")), full_page=True)
    comment.press("Tab")
    page.keyboard.press("Enter")  # the submit button, reached by keyboard
    page.wait_for_load_state()
    assert page.locator(".sv-recorded").inner_text().endswith("3")
    assert page.locator("html").get_attribute("lang") == "pl"
    page.screenshot(path=str(screenshot_path("survey-thanks-phone.png")), full_page=True)

    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.comment, answer.is_complete) == (3, "Paczka przyszła po tygodniu.", True)
    assert FollowUp.objects.filter(response=answer).exists()


def test_question_page_with_keyboard_at_phone_and_desktop_sizes(live_server, no_js):
    invitation = polish_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.SENT)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = no_js(viewport)
        page.goto(f"{live_server.url}/s/{invitation.token}/")
        assert page.locator("legend").inner_text() == "Czy poleciłbyś Acme znajomemu?"
        radios = page.get_by_role("radio")
        assert radios.count() == 11
        # Every choice is reachable by name for screen readers, and stays large enough to tap.
        box = page.locator(".sv-choice-face").first.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 40
        page.screenshot(path=str(screenshot_path(f"survey-question-{name}.png")), full_page=True)
    page.locator("input[name=score][value='9']").focus()
    page.keyboard.press("Space")
    page.locator("textarea[name=comment]").fill("Szybko i miło.")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".sv-recorded").inner_text().endswith("9")
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.comment, answer.is_complete) == (9, "Szybko i miło.", True)
