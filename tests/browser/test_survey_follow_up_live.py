"""The closed loop end to end: a customer answers 2 of 10 through the public answer endpoint of the real
server, and the follow-up conversation a worker opens appears in an agent's open inbox without reload."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from accounts.models import Team
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from surveys.invitation_models import FollowUp
from tests.browser.session import sign_in
from tests.surveys import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def answer(base: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - a local test URL
        f"{base}/s/api/answers/",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Origin": "https://shop.example.com"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_detractor_answer_opens_a_follow_up_that_shows_in_the_inbox_live(stack, page, make_user):
    from playwright.sync_api import expect

    base = stack
    team = Team.objects.create(name="Care")
    sms = do_create_channel(kind="sms", name="Acme SMS")
    sms.teams.set([team])
    agent = make_user(Role.AGENT, teams=[team], username="ewa", first_name="Ewa", last_name="Nowak")
    person = Customer.objects.create(name="Olga Petrova")
    Identity.objects.create(customer=person, kind=IdentityKind.PHONE, value="+48601234502")
    survey = f.survey(name="Support NPS", followup_team=team)
    invitation = f.invitation(survey, person, channel=sms, medium="sms")

    sign_in(page, base, agent)
    page.goto(f"{base}/inbox/")
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "connected")
    page.evaluate("window.__sameDocument = true")
    rows = page.get_by_test_id("inbox-row")
    expect(rows).to_have_count(0)

    status, body = answer(base, {"token": invitation.token, "score": 2, "comment": "Waited three days"})
    assert (status, body["ok"]) == (200, True)
    # The worker opens the conversation after the answer is stored; the first task pays its cold start.
    expect(rows.first).to_contain_text("Olga Petrova", timeout=30_000)
    expect(rows.first).to_contain_text("Waited three days")
    assert page.evaluate("window.__sameDocument") is True
    follow_up = FollowUp.objects.get(response__invitation=invitation)
    expect(rows.first).to_have_attribute("data-conversation-id", str(follow_up.conversation_id))

    # The same token again is refused, and opens nothing more.
    assert answer(base, {"token": invitation.token, "score": 10})[0] == 409
    rows.first.locator("[data-row-link]").click()
    expect(page.get_by_test_id("follow-up-answer")).to_contain_text("Waited three days")
    assert FollowUp.objects.count() == 1
