"""The embedded survey widget's endpoints: who may be asked, CORS, tokens, and the settings page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from profiles.models import Identity, IdentityKind, TimelineEntry, TimelineKind
from surveys import public_rate
from surveys import widget_services as ws
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.models import SurveyKind, SurveyResponse

from . import factories as f

pytestmark = pytest.mark.django_db
SITE = "https://shop.example.com"
VISITOR = "0f8e2a4c-1b6d-4e3f-9a7b-5c2d1e0f3a4b"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings, fresh_survey_rates):
    settings.SURVEY_PUBLIC_RATE_PER_MINUTE = 10_000


def widget_survey(**extra):
    extra.setdefault("followup_question", {"en": "What is the main reason?"})
    extra.setdefault("public_key", "k" + str(timezone.now().timestamp()).replace(".", "")[-12:])
    return f.survey(**extra)


def show(client: Client, survey, origin: str = SITE, **body):
    body.setdefault("language", "en-US")
    body.setdefault("path", "/")
    if "customer" not in body:
        body.setdefault("visitor", VISITOR)
    return client.post(
        f"/s/w/{survey.public_key}/show",
        json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )


def answer(client: Client, origin: str = SITE, raw: str | None = None, **body):
    data = raw if raw is not None else json.dumps(body)
    return client.post("/s/w/answer", data, content_type="application/json", HTTP_ORIGIN=origin)


def signed(customer_id: str) -> dict:
    return {"customer": customer_id, "signature": ws.signature_for(customer_id)}


# --- Showing ------------------------------------------------------------------------------------------
def test_anonymous_visitor_gets_texts_choices_and_a_widget_invitation(client):
    survey = widget_survey(question={"pl": "Czy polecisz nas?"})
    response = show(client, survey, language="pl-PL")
    body = response.json()
    assert response.status_code == 200 and body["show"] is True
    assert body["question"] == "Czy polecisz nas?"
    assert [c["value"] for c in body["choices"]] == list(range(11))
    assert body["follow_up"] == "What is the main reason?" and body["labels"]["close"]
    invitation = Invitation.objects.get(token=body["token"])
    assert (invitation.medium, invitation.trigger, invitation.status) == (
        Medium.WIDGET,
        TriggerKind.WIDGET,
        InvitationStatus.SENT,
    )
    assert invitation.customer is None and invitation.recipient == f"visitor:{VISITOR}"
    assert response["Access-Control-Allow-Origin"] == SITE


def test_texts_follow_the_visitors_language_and_fall_back_to_english(client):
    survey = widget_survey()
    assert show(client, survey, language="pl").json()["language"] == "pl"
    body = show(client, survey, language="xx-YY", visitor="a" * 32).json()
    assert body["language"] == "en"
    assert body["question"].startswith("How likely")


def test_get_returns_rules_without_creating_anything(client):
    survey = widget_survey(
        widget_rules={"delay_seconds": 5, "paths": ["/checkout*"], "signed_in_only": False}
    )
    response = client.get(f"/s/w/{survey.public_key}/show", HTTP_ORIGIN=SITE)
    assert response.json() == {
        "rules": {"delay_seconds": 5, "paths": ["/checkout*"], "signed_in_only": False},
        "recontact_days": 90,
    }
    assert not Invitation.objects.exists()


def test_display_rules_path_and_signed_in_only(client):
    survey = widget_survey(widget_rules={"paths": ["/checkout*"]})
    assert show(client, survey, path="/blog/post").json() == {"show": False, "reason": "path"}
    assert show(client, survey, path="/checkout/done").json()["show"] is True
    survey.widget_rules = {"signed_in_only": True}
    survey.save()
    assert show(client, survey, visitor="b" * 32).json() == {"show": False, "reason": "signed_in_only"}
    assert show(client, survey, **signed("cust-1")).json()["show"] is True


def test_inactive_survey_is_not_shown(client):
    survey = widget_survey(is_active=False)
    assert show(client, survey).json() == {"show": False, "reason": "inactive"}
    assert not Invitation.objects.exists()


def test_anonymous_sampling_is_stable_per_visitor(client):
    survey = widget_survey(sampling_percent=50)
    visitors = [f"{i:032x}" for i in range(40)]
    first = [show(client, survey, visitor=v).json()["show"] for v in visitors]
    assert 5 < sum(first) < 35
    again = [show(client, survey, visitor=v).json()["show"] for v in visitors]
    assert first == again
    assert Invitation.objects.count() == 2 * sum(first)  # only shown ones exist


def test_unknown_key_bad_json_and_bad_visitor_are_json_errors(client):
    survey = widget_survey()
    assert client.post("/s/w/nope/show", "{}", content_type="application/json").json() == {
        "error": "not_found"
    }
    bad = client.post(f"/s/w/{survey.public_key}/show", "{not json", content_type="application/json")
    assert (bad.status_code, bad.json()) == (400, {"error": "bad_json"})
    listed = client.post(f"/s/w/{survey.public_key}/show", "[1]", content_type="application/json")
    assert listed.status_code == 400
    assert show(client, survey, visitor="<script>").json() == {"error": "bad_visitor"}
    assert show(client, survey, visitor=None).status_code == 400
    assert client.put(f"/s/w/{survey.public_key}/show").status_code == 405


# --- Signed-in visitors -------------------------------------------------------------------------------
def test_signature_is_required_and_checked(client):
    survey = widget_survey()
    refused = show(client, survey, customer="cust-7", signature="0" * 64)
    assert (refused.status_code, refused.json()) == (403, {"error": "bad_signature"})
    assert show(client, survey, customer="cust-7").status_code == 403
    assert show(client, survey, customer="cust-7", signature=ws.signature_for("cust-8")).status_code == 403
    assert not Invitation.objects.exists() and not Identity.objects.exists()

    body = show(client, survey, **signed("cust-7")).json()
    identity = Identity.objects.get(kind=IdentityKind.EXTERNAL_ID, value="cust-7")
    assert identity.verified
    assert Invitation.objects.get(token=body["token"]).customer == identity.customer


def test_signed_in_answer_lands_on_the_existing_profile_and_timeline(client):
    person = f.customer()
    Identity.objects.create(customer=person, kind=IdentityKind.EXTERNAL_ID, value="user-42")
    survey = widget_survey()
    token = show(client, survey, **signed("user-42")).json()["token"]
    assert answer(client, token=token, score=3).json() == {"ok": True, "complete": False}
    assert answer(client, token=token, comment=" Too slow ").json() == {"ok": True, "complete": True}
    stored = SurveyResponse.objects.get()
    assert (stored.customer, stored.medium, stored.score, stored.comment, stored.is_complete) == (
        person,
        Medium.WIDGET,
        3,
        "Too slow",
        True,
    )
    assert TimelineEntry.objects.filter(customer=person, kind=TimelineKind.SURVEY_ANSWER).exists()


def test_fatigue_is_respected_for_signed_in_customers(client, settings):
    survey = widget_survey()
    first = show(client, survey, **signed("u-1")).json()
    assert first["show"] is True
    # Asked already (the shown invitation counts): not again within recontact_days, nor another survey.
    again = show(client, survey, **signed("u-1")).json()
    assert again == {"show": False, "reason": "throttled"}
    other = widget_survey(public_key="other")
    assert show(client, other, **signed("u-1")).json() == {"show": False, "reason": "throttled"}
    # A reload with the still-open token shows the same invitation rather than a new one.
    resumed = show(client, survey, token=first["token"], **signed("u-1")).json()
    assert resumed["token"] == first["token"]
    # Nobody else may resume it.
    stolen = show(client, survey, token=first["token"], **signed("u-2")).json()
    assert stolen["token"] != first["token"]
    assert Invitation.objects.count() == 2


def test_opted_out_and_out_of_sample_customers_are_not_asked(client):
    survey = widget_survey()
    person = f.customer(consent={"surveys": {"status": "opted_out"}})
    Identity.objects.create(customer=person, kind=IdentityKind.EXTERNAL_ID, value="optout")
    assert show(client, survey, **signed("optout")).json()["show"] is False
    sampled = widget_survey(public_key="zero", sampling_percent=0)
    assert show(client, sampled, **signed("someone")).json()["show"] is False
    assert not Invitation.objects.exists()


# --- CORS ---------------------------------------------------------------------------------------------
def test_preflight_and_allowed_origins(client):
    survey = widget_survey(widget_rules={"allowed_origins": [SITE]})
    pre = client.options(f"/s/w/{survey.public_key}/show", HTTP_ORIGIN=SITE)
    assert pre.status_code == 204
    assert pre["Access-Control-Allow-Origin"] == SITE
    assert "POST" in pre["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre["Access-Control-Allow-Headers"]
    assert client.options("/s/w/answer", HTTP_ORIGIN=SITE).status_code == 204

    ok = show(client, survey, origin="https://SHOP.example.com:443")
    assert ok.status_code == 200 and ok.json()["show"] is True
    refused = show(client, survey, origin="https://evil.example.net", visitor="c" * 32)
    assert (refused.status_code, refused.json()) == (403, {"error": "origin"})
    assert (
        client.get(f"/s/w/{survey.public_key}/show", HTTP_ORIGIN="https://evil.example.net").status_code
        == 403
    )
    # An answer from a site the survey does not list is refused too, even with a valid token.
    token = ok.json()["token"]
    assert answer(client, origin="https://evil.example.net", token=token, score=9).status_code == 403
    assert answer(client, token=token, score=9).status_code == 200


def test_any_origin_when_the_list_is_empty(client):
    survey = widget_survey()
    response = show(client, survey, origin="https://anything.example")
    assert response.json()["show"] is True
    assert response["Access-Control-Allow-Origin"] == "https://anything.example"
    assert "Origin" in response["Vary"]


# --- Answers ------------------------------------------------------------------------------------------
def test_anonymous_answer_with_score_and_comment(client):
    survey = widget_survey()
    token = show(client, survey).json()["token"]
    assert answer(client, token=token, score="9", comment="Great").json() == {"ok": True, "complete": True}
    stored = SurveyResponse.objects.get()
    assert (stored.customer, stored.medium, stored.score, stored.comment) == (None, Medium.WIDGET, 9, "Great")


def test_token_required_and_checked(client):
    widget_survey()
    assert (answer(client, score=9).status_code, answer(client, score=9).json()) == (
        404,
        {"error": "unknown"},
    )
    assert answer(client, token="x" * 40, score=9).status_code == 404
    assert answer(client, token=["list"], score=9).status_code == 404
    # A token of another medium is not answered through the widget.
    other = f.invitation(f.survey(), None, medium=Medium.EMAIL)
    assert answer(client, token=other.token, score=9).status_code == 404
    assert answer(client, raw="nonsense").json() == {"error": "bad_json"}
    assert client.get("/s/w/answer").status_code == 405
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("score", [11, -1, "ten", None, True, 7.5, ""])
def test_invalid_score_is_refused(client, score):
    token = show(client, widget_survey()).json()["token"]
    response = answer(client, token=token, score=score)
    assert (response.status_code, response.json()) == (400, {"error": "invalid"})


def test_without_a_follow_up_question_the_score_completes_the_answer(client):
    token = show(client, widget_survey(followup_question={"off": True})).json()["token"]
    assert answer(client, token=token, score=10).json() == {"ok": True, "complete": True}


def test_csat_scale_is_checked(client):
    token = show(client, widget_survey(kind=SurveyKind.CSAT)).json()["token"]
    assert answer(client, token=token, score=0).status_code == 400
    assert answer(client, token=token, score=5).status_code == 200


def test_second_answer_and_second_comment_are_refused(client):
    token = show(client, widget_survey()).json()["token"]
    assert answer(client, token=token, score=9).status_code == 200
    again = answer(client, token=token, score=0)
    assert (again.status_code, again.json()) == (409, {"error": "answered"})
    assert answer(client, token=token, comment="first").status_code == 200
    assert answer(client, token=token, comment="second").status_code == 409
    assert SurveyResponse.objects.get().comment == "first"


def test_comment_without_a_score_first_is_refused(client):
    token = show(client, widget_survey()).json()["token"]
    assert answer(client, token=token, comment="hi").status_code == 404


def test_expired_invitation_is_refused(client):
    token = show(client, widget_survey()).json()["token"]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert answer(client, token=token, score=9).json() == {"error": "expired"}


def test_rate_limited(client, settings):
    survey = widget_survey()
    settings.SURVEY_PUBLIC_RATE_PER_MINUTE = 2
    public_rate.reset_counts()
    codes = [show(client, survey, visitor=f"{i:032x}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_show_query_count_is_bounded(client, django_assert_max_num_queries):
    """Counts include savepoints; none of them grows with the number of invitations or answers."""
    survey = widget_survey()
    for i in range(5):
        show(client, widget_survey(public_key=f"old{i}"), **signed("warm"))
    for who, limit in (("new-person", 14), ("warm", 8)):
        with CaptureQueriesContext(connection) as ctx:
            show(client, survey, **signed(who))
        assert len(ctx.captured_queries) <= limit, [q["sql"] for q in ctx.captured_queries]
    with django_assert_max_num_queries(6):
        show(client, survey, visitor="d" * 32)
    with django_assert_max_num_queries(1):
        client.get(f"/s/w/{survey.public_key}/show")


# --- Preview and script -------------------------------------------------------------------------------
def test_preview_needs_a_manager_and_creates_nothing(client, manager_client):
    survey = widget_survey()
    body = json.dumps({"preview": True, "language": "en"})
    url = f"/s/w/{survey.public_key}/show"
    assert client.post(url, body, content_type="application/json").status_code == 403
    preview = manager_client.post(url, body, content_type="application/json").json()
    assert preview["preview"] is True and preview["token"] == "" and preview["question"]
    assert not Invitation.objects.exists()


def test_script_is_served_for_any_site(client):
    response = client.get("/s/w/widget.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    # Loaded on every page of the company's site: it must stay small (uncompressed; ~4 KB gzipped).
    assert len(b"".join(response)) < 11 * 1024
    assert client.get("/s/w/widget.js", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


# --- Settings page ------------------------------------------------------------------------------------
def test_settings_page_needs_manage_surveys(client, agent_client):
    survey = f.survey()
    url = reverse("survey_widget_settings", args=[survey.pk])
    assert client.get(url).status_code == 302
    assert agent_client.get(url).status_code == 403


def test_settings_enable_then_save_rules(manager_client):
    survey = f.survey()
    url = reverse("survey_widget_settings", args=[survey.pk])
    assert "widget-disabled" in manager_client.get(url).content.decode()
    manager_client.post(url, {"action": "enable"})
    survey.refresh_from_db()
    assert survey.public_key
    page = manager_client.get(url).content.decode()
    assert f'data-survey="{survey.public_key}"' in page and "/s/w/widget.js" in page

    bad = manager_client.post(
        url, {"delay_seconds": "5", "paths": "checkout", "allowed_origins": "not a site"}
    )
    assert bad.status_code == 200 and "field-errors" in bad.content.decode()
    manager_client.post(
        url,
        {
            "delay_seconds": "5",
            "paths": "/checkout*\n\n/account/*",
            "signed_in_only": "on",
            "allowed_origins": "https://Shop.Example.com/\nhttp://localhost:8000",
        },
    )
    survey.refresh_from_db()
    assert survey.widget_rules == {
        "delay_seconds": 5,
        "paths": ["/checkout*", "/account/*"],
        "signed_in_only": True,
        "allowed_origins": ["https://shop.example.com", "http://localhost:8000"],
    }
