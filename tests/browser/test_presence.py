"""Two agents on the same conversation in real Chromium: each sees the other, typing shows, and the one
who sends second is warned about the reply that went out meanwhile."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from cxm import presence
from tests.browser.session import sign_in
from tests.browser.test_conversation_page import build

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def second_page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_two_agents_see_each_other_and_the_second_sender_is_warned(server, page, second_page, make_user):
    from playwright.sync_api import expect

    marta = make_user(Role.AGENT, first_name="Marta", last_name="Nowak", username="marta")
    conv = build(marta)
    piotr = make_user(Role.AGENT, first_name="Piotr", last_name="Zieliński", username="piotr")
    piotr.teams.set(marta.teams.all())
    client = presence._redis()
    if client is not None:
        client.delete(presence._viewers_key(conv.pk), presence._typing_key(conv.pk))

    sign_in(page, server, marta)
    sign_in(second_page, server, piotr)
    page.goto(f"{server}/inbox/{conv.pk}/")
    expect(page.get_by_test_id("presence")).to_be_hidden()  # alone so far
    second_page.goto(f"{server}/inbox/{conv.pk}/")

    marta_sees = page.get_by_test_id("presence")
    expect(marta_sees).to_be_visible()
    expect(marta_sees).to_contain_text("Also here:")
    expect(marta_sees.locator(f'[data-user-id="{piotr.pk}"]')).to_have_attribute("title", "Piotr Zieliński")
    piotr_sees = second_page.get_by_test_id("presence")
    expect(piotr_sees.locator(f'[data-user-id="{marta.pk}"]')).to_have_attribute("title", "Marta Nowak")
    expect(piotr_sees.locator("[data-user-id]")).to_have_count(1)  # not himself

    # Piotr starts a reply: Marta sees him typing.
    second_page.get_by_test_id("reply-text").fill("Let me check with finance")
    expect(page.get_by_test_id("typing")).to_have_text("Piotr Zieliński is typing…")

    # Marta answers first.
    page.get_by_test_id("reply-text").fill("The corrected invoice is on its way.")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("reply-sent")).to_be_visible()

    # Piotr sends after her: the page warns about the reply he has not read.
    second_page.get_by_test_id("reply-text").fill("Let me check with finance and come back to you.")
    second_page.get_by_test_id("send").click()
    collision = second_page.get_by_test_id("collision")
    expect(collision).to_be_visible()
    expect(collision).to_contain_text("The corrected invoice is on its way.")

    # Piotr leaves the conversation: Marta no longer sees him.
    second_page.goto(f"{server}/inbox/")
    expect(page.get_by_test_id("presence")).to_be_hidden()
