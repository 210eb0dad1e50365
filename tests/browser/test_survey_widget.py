"""The survey widget in real Chromium, embedded in a page of another site, against a real ASGI server:
a signed-in customer's answer reaches their profile, an anonymous visitor's is stored without one."""

from __future__ import annotations

import re

import pytest

from profiles.models import Identity, IdentityKind
from surveys import widget_services as ws
from surveys.invitation_models import Invitation, Medium
from surveys.models import SurveyResponse
from tests.browser.conftest import screenshot_path
from tests.browser.other_site import host_site
from tests.browser.session import sign_in
from tests.surveys import factories as f
from tests.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]


# The host page styles buttons and text areas aggressively: none of it may reach into the widget.
def wait_until_skipped(page) -> None:
    """The widget has decided not to ask (it marks its script tag with the reason)."""
    from playwright.sync_api import expect

    expect(page.locator("script[data-survey]")).to_have_attribute(
        "data-cxm-skipped", re.compile(r".+"), timeout=60_000
    )


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<style>
  * {{ font-family: Georgia, serif !important; }}
  body {{ margin: 0; padding: 40px; background: #f4efe6; color: #3b2f2f; }}
  button {{ background: #ff00aa !important; border: 5px dashed lime !important; }}
  textarea, .card, [role=dialog] {{ display: none !important; }}
</style></head>
<body>
  <h1>Example shop</h1>
  <p>Handmade ceramics, shipped across Europe.</p>
  <button type="button">Add to basket</button>
  <script async src="{script_url}" data-survey="{key}" {identity}></script>
</body></html>
"""


def widget_survey(site: str = ""):
    return f.survey(
        name="Shop NPS",
        public_key="shopnps",
        followup_question={"en": "What is the main reason for your score?"},
        widget_rules={"allowed_origins": [site] if site else [], "paths": ["/checkout*"], "delay_seconds": 1},
    )


def answer_in_widget(page, score: str, comment: str, shots: str = "") -> None:
    from playwright.sync_api import expect

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("How likely are you to recommend us to a friend or colleague?")
    # The host page's button styles must not reach the widget's buttons.
    button = dialog.get_by_role("button", name=score, exact=True)
    assert button.evaluate("b => getComputedStyle(b).borderStyle") != "dashed"
    if shots:
        page.screenshot(path=str(screenshot_path(f"{shots}-question.png")))
    button.click()
    box = dialog.get_by_role("textbox", name="What is the main reason for your score?")
    expect(box).to_be_focused()
    box.fill(comment)
    if shots:
        page.screenshot(path=str(screenshot_path(f"{shots}-comment.png")))
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_role("status")).to_have_text("Thank you for your feedback!")


def test_signed_in_customer_answers_and_it_shows_on_their_profile(server, page, agent, tmp_path):
    from playwright.sync_api import expect

    base = server
    survey = widget_survey()
    signature = ws.signature_for("shop-user-77")
    identity = f'data-customer="shop-user-77" data-signature="{signature}"'
    html = HOST_PAGE.format(script_url=f"{base}/s/w/widget.js", key=survey.public_key, identity=identity)
    with host_site({"/checkout/done": html, "/blog": html}) as site:
        survey.widget_rules = {**survey.widget_rules, "allowed_origins": [site]}
        survey.save()
        # Outside the listed paths nothing is shown and nothing is created.
        page.goto(f"{site}/blog")
        wait_until_skipped(page)
        expect(page.get_by_role("dialog")).to_have_count(0)
        assert not Invitation.objects.exists()

        page.goto(f"{site}/checkout/done")
        answer_in_widget(page, "9", "Fast delivery, lovely mugs")
        page.screenshot(path=str(screenshot_path("survey-widget-thanks.png")))

        wait_until(lambda: SurveyResponse.objects.filter(is_complete=True).exists(), 60, lambda: "no answer")
        response = SurveyResponse.objects.select_related("customer").get()
        assert (response.medium, response.score, response.comment) == (
            Medium.WIDGET,
            9,
            "Fast delivery, lovely mugs",
        )
        customer = Identity.objects.get(kind=IdentityKind.EXTERNAL_ID, value="shop-user-77").customer
        assert response.customer == customer

        # Asked once: a reload does not ask again.
        page.reload()
        wait_until_skipped(page)
        expect(page.get_by_role("dialog")).to_have_count(0)

    sign_in(page, base, agent)
    page.goto(f"{base}/customers/{customer.pk}/")
    history = page.get_by_test_id("survey-history")
    expect(history).to_contain_text("Shop NPS")
    expect(history).to_contain_text("Fast delivery, lovely mugs")
    expect(page.get_by_test_id("latest-scores")).to_contain_text("9")


def test_anonymous_visitor_answers_without_a_profile(server, page):
    base = server
    survey = widget_survey()
    html = HOST_PAGE.format(script_url=f"{base}/s/w/widget.js", key=survey.public_key, identity="")
    with host_site({"/checkout": html}) as site:
        page.goto(f"{site}/checkout")
        answer_in_widget(page, "4", "Shipping took two weeks", shots="survey-widget")
        page.screenshot(path=str(screenshot_path("survey-widget-anonymous.png")))
        wait_until(lambda: SurveyResponse.objects.filter(is_complete=True).exists(), 60, lambda: "no answer")
        response = SurveyResponse.objects.get()
        assert (response.customer, response.medium, response.score, response.comment) == (
            None,
            Medium.WIDGET,
            4,
            "Shipping took two weeks",
        )
        # Remembered on this device: the next visit does not ask again.
        page.reload()
        wait_until_skipped(page)
        assert page.get_by_role("dialog").count() == 0
        assert Invitation.objects.count() == 1


def test_settings_page_snippet_and_live_preview(server, page, manager):
    from playwright.sync_api import expect

    base = server
    survey = widget_survey()
    sign_in(page, base, manager)
    page.goto(f"{base}/s/w/settings/{survey.pk}/")
    expect(page.get_by_test_id("widget-snippet-code")).to_contain_text(f'data-survey="{survey.public_key}"')
    preview = page.get_by_test_id("widget-preview").get_by_role("dialog")
    expect(preview).to_be_visible()
    page.screenshot(path=str(screenshot_path("survey-widget-settings.png")))
    preview.get_by_role("button", name="10", exact=False).last.click()
    preview.get_by_role("textbox").fill("Preview only")
    preview.get_by_role("button", name="Send").click()
    expect(preview.get_by_role("status")).to_be_visible()
    assert not Invitation.objects.exists() and not SurveyResponse.objects.exists()


def test_keyboard_use_and_a_dismissal_is_remembered(server, page):
    from playwright.sync_api import expect

    base = server
    survey = widget_survey()
    html = HOST_PAGE.format(script_url=f"{base}/s/w/widget.js", key=survey.public_key, identity="")
    with host_site({"/checkout": html}) as site:
        page.goto(f"{site}/checkout")
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        inner = "document.activeElement.shadowRoot && document.activeElement.shadowRoot.activeElement"
        # The widget comes after the page in the tab order: the page's own button, then close, then 0.
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate(f"({inner}).getAttribute('aria-label')") == "Close"
        page.keyboard.press("Tab")
        assert page.evaluate(f"({inner}).getAttribute('aria-label')") == "0 (Not at all likely)"
        assert page.evaluate(f"getComputedStyle({inner}).outlineStyle") == "solid"  # visible focus
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        page.reload()
        wait_until_skipped(page)
        expect(page.get_by_role("dialog")).to_have_count(0)
        assert Invitation.objects.count() == 1 and not SurveyResponse.objects.exists()
