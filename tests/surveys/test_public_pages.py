"""The customer-facing survey pages: one-click answers, follow-ups, refusals, opt-out, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys import public_rate
from surveys.fatigue import opted_out
from surveys.invitation_models import FollowUp, InvitationStatus
from surveys.models import SurveyKind, SurveyResponse
from tests.surveys import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_survey_rates")]


def url(name: str, *args) -> str:
    return reverse(f"survey_public:{name}", args=args)


@pytest.fixture
def invite():
    def make(kind: str = SurveyKind.NPS, locale: str = "en", **survey_extra):
        survey_extra.setdefault("followup_question", {"en": "What is the main reason for your score?"})
        survey = f.survey(kind, **survey_extra)
        person = f.customer(locale=locale, phone="")
        invitation = f.invitation(survey, person)
        invitation.locale = locale
        invitation.save(update_fields=["locale"])
        return invitation

    return make


@pytest.mark.django_db(transaction=True)  # the follow-up is opened after the answer commits
def test_one_click_records_the_score_and_shows_the_follow_up(client, invite):
    invitation = invite()
    page = client.get(url("one_click", invitation.token, 3))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="comment"' in body
    assert f'action="{url("answer", invitation.token)}"' in body
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.is_complete, answer.medium) == (3, False, "email")
    assert FollowUp.objects.filter(response=answer).exists()  # 3 is a detractor

    done = client.post(url("answer", invitation.token), {"comment": "Slow delivery"})
    assert done.status_code == 200
    assert "Your answer has been recorded" in done.content.decode()
    answer.refresh_from_db()
    assert (answer.comment, answer.is_complete) == ("Slow delivery", True)


def test_a_second_click_keeps_the_first_answer_and_says_so_politely(client, invite):
    invitation = invite()
    client.get(url("one_click", invitation.token, 9))
    again = client.get(url("one_click", invitation.token, 2))
    assert again.status_code == 200
    body = again.content.decode()
    assert "already answered" in body
    assert "Your score: 9" in body
    assert SurveyResponse.objects.get(invitation=invitation).score == 9
    # The same link again continues with the follow-up rather than refusing.
    same = client.get(url("one_click", invitation.token, 9))
    assert 'name="comment"' in same.content.decode()


def test_a_survey_without_follow_up_questions_is_complete_after_the_click(client, invite):
    invitation = invite(followup_question={"off": True})
    page = client.get(url("one_click", invitation.token, 10))
    assert page.status_code == 200
    assert 'name="comment"' not in page.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).is_complete


def test_head_requests_from_link_scanners_do_not_answer(client, invite):
    invitation = invite()
    assert client.head(url("one_click", invitation.token, 10)).status_code == 200
    assert not SurveyResponse.objects.filter(invitation=invitation).exists()


def test_expired_invitation_is_refused_politely_with_410(client, invite):
    invitation = invite()
    invitation.expires_at = invitation.sent_at - timedelta(seconds=1)
    invitation.save(update_fields=["expires_at"])
    for response in (
        client.get(url("one_click", invitation.token, 8)),
        client.get(url("answer", invitation.token)),
    ):
        assert response.status_code == 410
        assert "no longer open" in response.content.decode()
    assert client.post(url("answer", invitation.token), {"score": 8}).status_code == 410
    assert not SurveyResponse.objects.exists()


def test_unknown_token_is_404(client):
    token = "x" * 43
    assert client.get(url("answer", token)).status_code == 404
    assert client.get(url("one_click", token, 5)).status_code == 404
    assert "not valid" in client.get(url("answer", token)).content.decode()


def test_invalid_score_is_400_with_the_question_again(client, invite):
    invitation = invite()
    for bad in ("11", "abc", "-1"):
        response = client.get(url("one_click", invitation.token, bad))
        assert response.status_code == 400, bad
        body = response.content.decode()
        assert "Please choose a score from 0 to 10" in body
        assert body.count('name="score"') == 11
    assert client.post(url("answer", invitation.token), {}).status_code == 400
    assert not SurveyResponse.objects.exists()


def test_answers_without_a_token_are_not_accepted(client, invite):
    invite()
    assert client.post("/s/", {"score": 10}).status_code == 404
    assert client.post(url("answer", "A" * 43), {"score": 10}).status_code == 404
    assert client.post("/s/short/", {"score": 10}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_full_form_records_a_complete_answer_with_extra_questions(client, invite):
    invitation = invite(
        SurveyKind.CSAT,
        extra_questions=[
            {"id": "speed", "text": {"en": "Was it fast?"}, "choices": [{"en": "Yes"}, {"en": "No"}]},
            {"id": "idea", "text": {"en": "Any idea?"}},
        ],
    )
    page = client.get(url("answer", invitation.token))
    body = page.content.decode()
    assert '<fieldset class="sv-scale' in body and "<legend" in body
    assert body.count('type="radio" name="score"') == 5
    assert "Was it fast?" in body and 'name="q_idea"' in body
    done = client.post(
        url("answer", invitation.token),
        {"score": "4", "comment": "Fine", "q_speed": "Yes", "q_idea": "More", "q_evil": "x"},
    )
    assert done.status_code == 200
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.comment, answer.is_complete) == (4, "Fine", True)
    assert answer.answers == {"speed": "Yes", "idea": "More"}
    again = client.post(url("answer", invitation.token), {"score": "1"})
    assert again.status_code == 200 and "already answered" in again.content.decode()
    assert SurveyResponse.objects.get(invitation=invitation).score == 4


def test_pages_render_in_the_invitation_language(client, invite):
    invitation = invite(locale="pl", question={"en": "Recommend us?", "pl": "Czy polecisz nas?"})
    body = client.get(url("answer", invitation.token), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="pl">' in body
    assert "Czy polecisz nas?" in body
    ru = invite(locale="ru", question={"en": "Recommend us?", "ru": "Порекомендуете нас?"})
    body = client.get(url("one_click", ru.token, 10)).content.decode()
    assert '<html lang="ru">' in body
    assert client.get(url("answer", ru.token)).headers["Content-Language"] == "ru"


def test_public_pages_set_no_cookies_and_are_not_cached(client, invite):
    invitation = invite()
    response = client.get(url("answer", invitation.token))
    assert not response.cookies
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_page_query_counts_are_bounded(client, invite):
    invitation = invite(extra_questions=[{"id": "a", "text": {"en": "A?"}}])
    with CaptureQueriesContext(connection) as fresh:
        assert client.get(url("answer", invitation.token)).status_code == 200
    assert len(fresh) <= 2, [q["sql"] for q in fresh]
    client.get(url("one_click", invitation.token, 9))
    with CaptureQueriesContext(connection) as follow_up:
        assert client.get(url("answer", invitation.token)).status_code == 200
    assert len(follow_up) <= 2, [q["sql"] for q in follow_up]


def test_opt_out_asks_then_records_and_stops_pending_invitations(client, invite):
    invitation = invite()
    pending = f.invitation(invitation.survey, invitation.customer, status=InvitationStatus.PENDING)
    page = client.get(url("opt_out", invitation.token))
    assert page.status_code == 200
    assert "Stop receiving surveys?" in page.content.decode()
    invitation.customer.refresh_from_db()
    assert not opted_out(invitation.customer)  # a GET (or a mail scanner) changes nothing

    done = client.post(url("opt_out", invitation.token))
    assert done.status_code == 200
    invitation.customer.refresh_from_db()
    assert opted_out(invitation.customer)
    assert invitation.customer.consent["surveys"]["source"] == "survey-page:email"
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.THROTTLED
    assert "will not receive surveys" in client.get(url("opt_out", invitation.token)).content.decode()


def test_rfc8058_one_click_unsubscribe_without_cookies_even_after_expiry(invite):
    from django.test import Client

    invitation = invite()
    invitation.expires_at = invitation.sent_at - timedelta(days=1)
    invitation.save(update_fields=["expires_at"])
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        url("opt_out", invitation.token),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    invitation.customer.refresh_from_db()
    assert invitation.customer.consent["surveys"]["status"] == "opted_out"
    assert invitation.customer.consent["surveys"]["source"] == "email:list-unsubscribe"


def test_answer_form_works_without_a_csrf_cookie(invite):
    from django.test import Client

    invitation = invite()
    customer_browser = Client(enforce_csrf_checks=True)
    assert customer_browser.post(url("answer", invitation.token), {"score": 10}).status_code == 200
    assert SurveyResponse.objects.get(invitation=invitation).score == 10


def test_rate_limit_answers_429_with_retry_after(client, invite, settings):
    settings.SURVEY_PUBLIC_RATE_PER_MINUTE = 3
    invitation = invite(locale="pl")
    for _ in range(3):
        assert client.get(url("answer", invitation.token)).status_code == 200
    refused = client.get(url("answer", invitation.token))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many requests" in refused.content.decode()
    # Another client address has its own budget; a forged X-Forwarded-For does not buy one.
    assert client.get(url("answer", invitation.token), REMOTE_ADDR="10.0.0.9").status_code == 200
    assert client.get(url("answer", invitation.token), HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 429


def test_rate_limit_counts_in_process_without_redis(rf, settings, monkeypatch):
    monkeypatch.setattr(public_rate, "get_redis", lambda: None)
    settings.SURVEY_PUBLIC_RATE_PER_MINUTE = 2
    request = rf.get("/s/x/", REMOTE_ADDR="192.0.2.1")
    assert [public_rate.check_public_rate(request, "t") for _ in range(3)] == [True, True, False]
    assert public_rate.check_public_rate(rf.get("/", REMOTE_ADDR="192.0.2.2"), "t")
    json = public_rate.too_many_requests(request, as_json=True)
    assert json.status_code == 429 and json["Retry-After"]
