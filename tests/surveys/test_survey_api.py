"""POST /api/v1/surveys/<id>/invitations/ and GET /api/v1/surveys/<id>/responses/ (API keys only)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.api_keys import do_create_api_key, do_revoke_api_key
from surveys.invitation_models import Invitation, InvitationStatus, TriggerKind
from surveys.models import SurveyResponse

from . import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_quiet_hours")]


@pytest.fixture
def _no_quiet_hours(settings):
    settings.SURVEY_QUIET_HOURS = (0, 0)
    settings.SURVEY_MIN_INTERVAL_DAYS = 14


@pytest.fixture
def key():
    return do_create_api_key(name="Shop backend")


@pytest.fixture
def api(key):
    client = Client()

    def call(method: str, url: str, body=None, *, token: str | None = key[1]):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "get":
            return client.get(url, headers=headers)
        return client.post(url, json.dumps(body), content_type="application/json", headers=headers)

    return call


def invitations_url(survey) -> str:
    return f"/api/v1/surveys/{survey.pk}/invitations/"


def test_invite_by_customer_id_with_delay(api):
    survey, person = f.survey(), f.customer()
    before = timezone.now()
    response = api(
        "post", invitations_url(survey), {"customer_id": person.pk, "medium": "sms", "delay_minutes": 90}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    invitation = Invitation.objects.get()
    assert body["id"] == invitation.pk and body["status"] == "pending" and body["reason"] == ""
    assert invitation.trigger == TriggerKind.API and invitation.customer == person
    assert invitation.send_at >= before + timedelta(minutes=90)
    assert "url" not in body  # a pushed invitation's link stays with the customer


def test_invite_by_identity(api):
    survey, person = f.survey(), f.customer(phone="+48601234567")
    response = api(
        "post",
        invitations_url(survey),
        {"identity": {"kind": "phone", "value": "+48 601 234 567"}, "medium": "link"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer_id"] == person.pk and body["status"] == InvitationStatus.SENT
    assert body["url"].endswith(f"/s/{Invitation.objects.get().token}/")


def test_throttled_is_created_with_its_reason(api):
    survey, person = f.survey(), f.customer()
    f.invitation(f.survey(name="Other"), person)
    response = api("post", invitations_url(survey), {"customer_id": person.pk, "medium": "email"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "throttled" and "14 days" in body["reason"]
    assert Invitation.objects.get(pk=body["id"]).status == InvitationStatus.THROTTLED


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": 999999, "medium": "email"},
        {"identity": {"kind": "email", "value": "nobody@x.test"}, "medium": "email"},
    ],
)
def test_unknown_customer_is_404(api, body):
    response = api("post", invitations_url(f.survey()), body)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert not Invitation.objects.exists()


def test_unknown_survey_is_404(api):
    person = f.customer()
    response = api(
        "post", "/api/v1/surveys/999999/invitations/", {"customer_id": person.pk, "medium": "email"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"medium": "email"},
        {"customer_id": 1, "medium": "pigeon"},
        {"customer_id": 1, "medium": "email", "delay_minutes": -1},
    ],
)
def test_invalid_requests_are_400(api, body):
    response = api("post", invitations_url(f.survey()), body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_authentication_is_required(api, key, agent_client):
    survey, person = f.survey(), f.customer()
    body = {"customer_id": person.pk, "medium": "email"}
    assert api("post", invitations_url(survey), body, token=None).status_code == 401
    assert api("post", invitations_url(survey), body, token="abc123.wrongwrongwrongwrong").status_code == 401
    # A signed-in agent's session is not an API key.
    session = agent_client.post(invitations_url(survey), json.dumps(body), content_type="application/json")
    assert session.status_code == 401
    do_revoke_api_key(key=key[0])
    assert api("post", invitations_url(survey), body).status_code == 401
    assert api("get", f"/api/v1/surveys/{survey.pk}/responses/").status_code == 401
    assert not Invitation.objects.exists()


def test_responses_are_cursor_paginated(api):
    survey, other = f.survey(), f.survey(name="Other")
    person = f.customer()
    now = timezone.now()
    for n in range(5):
        SurveyResponse.objects.create(
            survey=survey, customer=person, score=n, created_at=now - timedelta(minutes=n)
        )
    SurveyResponse.objects.create(survey=other, score=10, created_at=now)

    first = api("get", f"/api/v1/surveys/{survey.pk}/responses/?limit=3")
    assert first.status_code == 200
    page = first.json()
    assert [r["score"] for r in page["results"]] == [0, 1, 2]
    assert page["results"][0]["customer_id"] == person.pk and page["next"]
    second = api("get", page["next"]).json()
    assert [r["score"] for r in second["results"]] == [3, 4] and second["next"] is None


def test_responses_of_unknown_survey_404(api):
    assert api("get", "/api/v1/surveys/999999/responses/").status_code == 404
