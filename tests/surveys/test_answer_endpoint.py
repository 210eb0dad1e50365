"""The public JSON answer endpoint: the ASGI fast path (batched writer) and the Django view keep one
contract, and the batch statement applies the same rules as the Python services."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from unittest import mock

import pytest
from channels.testing import HttpCommunicator
from django.test import Client
from django.utils import timezone

from cxm.asgi import application
from profiles.models import TimelineEntry, TimelineKind
from surveys import answer_asgi, answer_writer
from surveys.answer_events import announce_responses
from surveys.closed_loop import do_open_missing_follow_ups
from surveys.invitation_models import FollowUp, InvitationStatus
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.conftest import run_async

from . import factories as f

pytestmark = pytest.mark.django_db(transaction=True)  # the writer commits on its own connection
PATH = "/s/api/answers/"


@pytest.fixture
def announced() -> list[list[int]]:
    return []


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch, announced):
    """Follow-ups and announcements are queued to a worker; here the queued ids are collected instead."""
    queued: list[list[int]] = []
    monkeypatch.setattr(answer_writer, "_open_follow_ups_later", queued.append)
    monkeypatch.setattr(answer_writer, "_announce_later", announced.append)
    answer_asgi._failures.clear()
    return queued


def post_all(*payloads, client_ip: str = "10.0.0.1") -> list[dict]:
    async def one(payload) -> dict:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        communicator = HttpCommunicator(
            application, "POST", PATH, body=body,
            headers=[(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        )  # fmt: skip
        communicator.scope["client"] = (client_ip, 5000)
        return await communicator.get_response(timeout=10)

    async def scenario():
        try:
            return await asyncio.gather(*(one(p) for p in payloads))
        finally:
            await answer_writer.close_writer()

    return run_async(scenario)


def result(response: dict) -> tuple[int, dict]:
    return response["status"], json.loads(response["body"] or b"{}")


def test_answers_in_one_batch_are_stored_with_timeline_entries(_no_broker):
    survey = f.survey()
    people = [f.customer(f"P{n}", phone=f"+4860100000{n}") for n in range(5)]
    invitations = [f.invitation(survey, person) for person in people]
    responses = post_all(
        *({"token": inv.token, "score": 9, "comment": f"  fine  {n} "} for n, inv in enumerate(invitations))
    )
    assert all(r["status"] == 200 for r in responses)
    assert dict(responses[0]["headers"])[b"access-control-allow-origin"] == b"*"
    stored = SurveyResponse.objects.order_by("customer__name")
    assert [(r.score, r.comment, r.customer.name) for r in stored] == [
        (9, f"fine  {n}", f"P{n}") for n in range(5)
    ]
    assert all(
        inv.status == InvitationStatus.ANSWERED
        for inv in (i.__class__.objects.get(pk=i.pk) for i in invitations)
    )
    entries = TimelineEntry.objects.filter(kind=TimelineKind.SURVEY_ANSWER).order_by("customer__name")
    assert [e.summary for e in entries] == [
        f"fine {n}" for n in range(5)
    ]  # whitespace flattened, as in Python
    assert entries[0].data == {"survey_kind": "nps", "score": 9}
    assert _no_broker == []  # promoters need no follow-up


def test_the_same_token_twice_in_one_batch_is_stored_once():
    invitation = f.invitation(f.survey(), f.customer())
    responses = post_all(*({"token": invitation.token, "score": n} for n in (7, 8, 9, 10)))
    statuses = sorted(r["status"] for r in responses)
    assert statuses == [200, 409, 409, 409]
    [winner] = [n for n, r in zip((7, 8, 9, 10), responses, strict=True) if r["status"] == 200]
    assert SurveyResponse.objects.get().score == winner  # the one told "stored" is the one stored


def test_refusals_carry_their_reason():
    survey = f.survey(SurveyKind.CES)
    person = f.customer()
    answered = f.invitation(survey, person)
    SurveyResponse.objects.create(survey=survey, invitation=answered, score=5, created_at=timezone.now())
    answered.status = InvitationStatus.ANSWERED
    answered.save()
    expired = f.invitation(survey, None, sent_at=timezone.now() - timedelta(days=30))
    throttled = f.invitation(survey, None, status=InvitationStatus.THROTTLED)
    fresh = f.invitation(survey, None)
    cases = [
        ({"token": answered.token, "score": 5}, 409, "answered"),
        ({"token": expired.token, "score": 5}, 410, "expired"),
        ({"token": throttled.token, "score": 5}, 403, "not_sent"),
        ({"token": fresh.token, "score": 8}, 400, "invalid"),  # CES is 1–7
        ({"token": fresh.token, "score": "x"}, 400, "invalid"),
        ({"token": fresh.token, "score": True}, 400, "invalid"),
        ({"token": "A" * 43, "score": 5}, 404, "unknown"),
        ({"score": 5}, 404, "unknown"),  # ballot stuffing without a token
        (b"{not json", 400, "invalid"),
        ([1, 2], 400, "invalid"),
    ]
    responses = post_all(*(payload for payload, _, _ in cases))
    assert [result(r) for r in responses] == [
        (status, {"ok": False, "error": code}) for _, status, code in cases
    ]
    assert SurveyResponse.objects.count() == 1
    assert Survey.objects.get().invitations.get(pk=fresh.pk).status == InvitationStatus.SENT


def test_detractors_are_queued_for_follow_up_and_the_sweep_catches_lost_ones(_no_broker):
    survey = f.survey()
    person = f.customer()
    detractor = f.invitation(survey, person, channel=f.sms_channel())
    anonymous = f.invitation(survey, None)
    post_all(
        {"token": detractor.token, "score": 2, "comment": "late"}, {"token": anonymous.token, "score": 1}
    )
    response = SurveyResponse.objects.get(customer=person)
    assert _no_broker == [[response.pk]]  # the anonymous detractor has nobody to follow up with
    # The queued task never ran (say the broker lost it): the sweep opens the follow-up.
    assert do_open_missing_follow_ups() == 1
    follow_up = FollowUp.objects.get(response=response)
    assert "late" in follow_up.conversation.messages.get().body
    assert do_open_missing_follow_ups() == 0


@pytest.mark.parametrize(
    ("kind", "scale_max", "threshold"),
    [(SurveyKind.NPS, None, None), (SurveyKind.CSAT, None, None), (SurveyKind.CSAT, 3, None),
     (SurveyKind.CES, None, None), (SurveyKind.NPS, None, 8)],
)  # fmt: skip
def test_the_batch_statement_agrees_with_the_python_rules(kind, scale_max, threshold, _no_broker):
    survey = f.survey(kind, scale_max=scale_max, detractor_threshold=threshold)
    low, high = survey.scale
    scores = list(range(low - 1, high + 2))
    invitations = [f.invitation(survey, f.customer(f"C{s}", phone=f"+4870000{s + 10:04d}")) for s in scores]
    responses = post_all(
        *({"token": inv.token, "score": s} for inv, s in zip(invitations, scores, strict=True))
    )
    accepted = [s for s, r in zip(scores, responses, strict=True) if r["status"] == 200]
    assert accepted == list(range(low, high + 1))
    queued = {pk for batch in _no_broker for pk in batch}
    detractor_scores = set(SurveyResponse.objects.filter(pk__in=queued).values_list("score", flat=True))
    assert detractor_scores == {s for s in accepted if s <= survey.detractor_at_or_below}


def test_repeated_failures_from_one_address_are_refused_for_a_while():
    invitation = f.invitation(f.survey(), None)
    with mock.patch("surveys.answer_http.FAILURES_PER_MINUTE", 3):
        answer_asgi._failures.clear()
        bad = post_all(*({"token": "B" * 43, "score": 5} for _ in range(3)), client_ip="10.9.9.9")
        assert [r["status"] for r in bad] == [404, 404, 404]
        [blocked] = post_all({"token": invitation.token, "score": 5}, client_ip="10.9.9.9")
        assert result(blocked) == (429, {"ok": False, "error": "rate_limited"})
        [other] = post_all({"token": invitation.token, "score": 5}, client_ip="10.1.1.1")
        assert other["status"] == 200


def test_preflight_and_wrong_method():
    async def call(method):
        communicator = HttpCommunicator(application, method, PATH, headers=[(b"host", b"127.0.0.1")])
        return await communicator.get_response(timeout=10)

    preflight = run_async(call, "OPTIONS")
    assert preflight["status"] == 204
    assert dict(preflight["headers"])[b"access-control-allow-methods"] == b"POST, OPTIONS"
    assert run_async(call, "GET")["status"] == 405


def test_the_django_view_keeps_the_same_contract():
    invitation = f.invitation(f.survey(), f.customer())
    client = Client()
    ok = client.post(PATH, {"token": invitation.token, "score": 10}, content_type="application/json")
    assert (ok.status_code, ok.json()["ok"], ok["Access-Control-Allow-Origin"]) == (200, True, "*")
    again = client.post(PATH, {"token": invitation.token, "score": 9}, content_type="application/json")
    assert (again.status_code, again.json()) == (409, {"ok": False, "error": "answered"})
    assert client.post(PATH, {"score": 9}, content_type="application/json").status_code == 404


def test_the_same_token_in_two_batches_in_flight_is_stored_once():
    invitation = f.invitation(f.survey(), f.customer())

    async def scenario():
        writer = answer_writer.AnswerWriter()
        writer.lanes = 2  # as a deployment with more cores may set it
        try:
            first = asyncio.ensure_future(writer.store(answer_writer.Answer(invitation.token, 9)))
            await asyncio.sleep(0)  # the first lane has taken its batch
            second = asyncio.ensure_future(writer.store(answer_writer.Answer(invitation.token, 3)))
            await asyncio.sleep(0)
            assert len(writer._flushers) == 2  # two batches in flight, one answer each
            return await asyncio.gather(first, second)
        finally:
            await writer.close()

    results = run_async(scenario)
    assert sorted(isinstance(r, answer_writer.Stored) for r in results) == [False, True]
    assert "answered" in results
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1


def test_follow_ups_of_answers_in_quick_succession_are_queued_together(_no_broker):
    survey = f.survey()
    invitations = [f.invitation(survey, f.customer(phone=f"+4860123456{n}")) for n in range(4)]

    async def one_after_another():
        try:
            for invitation in invitations:  # each its own batch: the last was stored before the next
                body = json.dumps({"token": invitation.token, "score": 0}).encode()
                communicator = HttpCommunicator(
                    application, "POST", PATH, body=body,
                    headers=[(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
                )  # fmt: skip
                assert (await communicator.get_response(timeout=10))["status"] == 200
        finally:
            await answer_writer.close_writer()

    run_async(one_after_another)
    stored = sorted(SurveyResponse.objects.values_list("pk", flat=True))
    assert [sorted(ids) for ids in _no_broker] == [stored]  # one publish for the four


def test_every_stored_answer_is_handed_over_and_announced_by_the_worker(
    _no_broker, announced, domain_events_seen
):
    survey = f.survey()
    unhappy = f.invitation(survey, f.customer("Unhappy", phone="+48600000001"), channel=f.sms_channel())
    happy = f.invitation(survey, f.customer("Happy", phone="+48600000002"))
    post_all({"token": unhappy.token, "score": 1}, {"token": happy.token, "score": 10})
    by_token = {r.invitation.token: r.pk for r in SurveyResponse.objects.select_related("invitation")}
    assert _no_broker == [[by_token[unhappy.token]]]
    assert announced == [[by_token[happy.token]]]
    # What the two worker tasks do with them: announce, and the closed loop follows up the detractor.
    assert announce_responses(announced[0]) == 1
    assert announce_responses(_no_broker[0]) == 1
    answered = [e for e in domain_events_seen if e.name == "survey.answered"]
    assert [(e.response_id, e.score, e.detractor) for e in answered] == [
        (by_token[happy.token], 10, False),
        (by_token[unhappy.token], 1, True),
    ]
    assert FollowUp.objects.get().response_id == by_token[unhappy.token]
