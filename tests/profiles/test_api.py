"""REST API for the company's systems: API-key auth, the events batch, identify, hostile input."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.api_keys import do_create_api_key, do_revoke_api_key
from accounts.models import ApiKey
from profiles.models import (
    Customer,
    CustomerEvent,
    Identity,
    IdentityKind,
    MergeSuggestion,
    TimelineEntry,
    TimelineKind,
)
from profiles.services import do_identify

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events/"
IDENTIFY = "/api/v1/customers/identify/"


@pytest.fixture
def key() -> tuple[ApiKey, str]:
    return do_create_api_key(name="Shop backend", created_by=None)


@pytest.fixture
def post(key):
    client = Client()

    def send(url: str, body, *, token: str | None = key[1], content_type: str = "application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(url, data, content_type=content_type, headers=headers)

    return send


def event(event_id: str, *, name: str = "order_placed", customer=None, **extra) -> dict:
    return {
        "event_id": event_id,
        "name": name,
        "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "customer": {"external_id": "shop-1"} if customer is None else customer,
        "properties": {"total": 129.9, "currency": "PLN"},
        **extra,
    }


def statuses(response) -> list[str]:
    return [item["status"] for item in response.json()["results"]]


# --- Authentication --------------------------------------------------------------------------------
def test_key_is_stored_only_as_a_hash_and_the_command_prints_it_once():
    out = StringIO()
    call_command("create_api_key", "Mobile app", stdout=out)
    plaintext = out.getvalue().splitlines()[1]
    stored = ApiKey.objects.get(name="Mobile app")
    assert plaintext.startswith(f"{stored.prefix}.") and plaintext not in stored.key_hash
    assert stored.key_hash.startswith("sha256$")
    response = Client().post(
        EVENTS, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plaintext}"
    )
    assert response.status_code == 400  # authenticated; the empty body is what is wrong


@pytest.mark.parametrize(
    "token",
    [
        "",
        "Bearer",
        "Bearer nodot",
        "Basic dXNlcjpwYXNz",
        "Bearer abc.short",
        "Bearer ABC.0123456789abcdefXYZ",
    ],
)
def test_missing_or_malformed_key_is_401(token):
    headers = {"Authorization": token} if token else {}
    response = Client().post(EVENTS, "{}", content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"error", "detail"}


def test_unknown_wrong_or_revoked_key_is_401(key, post):
    api_key, plaintext = key
    prefix, secret = plaintext.split(".")
    assert post(EVENTS, {}, token=f"{'0' * 12}.{secret}").status_code == 401
    assert post(EVENTS, {}, token=f"{prefix}.{secret[::-1]}").status_code == 401
    do_revoke_api_key(key=api_key)
    response = post(EVENTS, {"events": [event("e1")]})
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert not CustomerEvent.objects.exists()


def test_a_browser_session_alone_is_refused(agent_client):
    response = agent_client.post(
        EVENTS, json.dumps({"events": [event("e1")]}), content_type="application/json"
    )
    assert response.status_code == 401
    assert not CustomerEvent.objects.exists()


def test_last_used_is_written_at_most_once_a_minute(key, post):
    api_key, _ = key
    post(EVENTS, {})
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None
    post(EVENTS, {})
    api_key.refresh_from_db()
    assert api_key.last_used_at == first
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    post(EVENTS, {})
    api_key.refresh_from_db()
    assert api_key.last_used_at > first


def test_requests_are_throttled_per_key(settings, key, post):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"}}
    assert [post(EVENTS, {}).status_code for _ in range(2)] == [400, 400]
    response = post(EVENTS, {})
    assert response.status_code == 429
    assert response.json()["error"] == "throttled" and response.json()["retry_after"] >= 1
    assert int(response["Retry-After"]) >= 1
    _, other = do_create_api_key(name="Other system")
    assert post(EVENTS, {}, token=other).status_code == 400


# --- Events ------------------------------------------------------------------------------------------
def test_batch_stores_events_with_their_timeline_rows(post):
    customer = do_identify(identities=[("external_id", "shop-1")]).customer
    response = post(EVENTS, {"events": [event("e1"), event("e2", name="signed_up")]})
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"created": 2, "duplicate": 0, "invalid": 0}
    assert [(r["event_id"], r["status"], r["customer_id"]) for r in body["results"]] == [
        ("e1", "created", customer.pk),
        ("e2", "created", customer.pk),
    ]
    stored = CustomerEvent.objects.get(client_event_id="e1")
    assert stored.properties == {"total": 129.9, "currency": "PLN"} and body["results"][0]["id"] == stored.pk
    entry = TimelineEntry.objects.get(event=stored)
    assert (entry.customer_id, entry.kind, entry.summary) == (customer.pk, TimelineKind.EVENT, "order_placed")
    assert entry.occurred_at == stored.occurred_at


def test_a_replayed_batch_creates_nothing_and_reports_the_same_events(post):
    batch = {"events": [event("e1"), event("e2", customer={"email": "new@shop.example.pl"})]}
    first = post(EVENTS, batch).json()["results"]
    counts = (CustomerEvent.objects.count(), TimelineEntry.objects.count(), Customer.objects.count())
    second = post(EVENTS, batch).json()["results"]
    assert [r["status"] for r in second] == ["duplicate", "duplicate"]
    assert [(r["id"], r["customer_id"]) for r in second] == [(r["id"], r["customer_id"]) for r in first]
    assert (CustomerEvent.objects.count(), TimelineEntry.objects.count(), Customer.objects.count()) == counts


def test_the_same_event_id_twice_in_one_batch_is_stored_once(post):
    response = post(EVENTS, {"events": [event("e1"), event("e1", name="other"), event("e2")]})
    results = response.json()["results"]
    assert statuses(response) == ["created", "duplicate", "created"]
    assert results[1]["id"] == results[0]["id"]
    assert CustomerEvent.objects.filter(client_event_id="e1").get().name == "order_placed"


def test_invalid_items_are_reported_and_valid_ones_stored(post):
    future = (timezone.now() + timedelta(minutes=10)).isoformat()
    bad = [
        event("bad-name", name="Order Placed"),
        event("long-name", name="a" * 65),
        event("future", occurred_at=future),
        event("naive", occurred_at="2025-05-01T12:00:00"),
        event("big", properties={"blob": "x" * 17_000}),
        event("nul", properties={"note": "a\u0000b"}),
        event("email", customer={"email": "not-an-address"}),
        event("nobody", customer={}),
        event("kind", customer={"telegram": "123"}),
        event("blocked", customer={"email": "info@shop.example.pl"}),
        "not an object",
    ]
    response = post(EVENTS, {"events": [event("ok-1"), *bad, event("ok-2")]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert statuses(response) == ["created", *["invalid"] * len(bad), "created"]
    assert all(r["reason"] for r in results[1:-1])
    assert "snake_case" in results[1]["reason"] and results[1]["reason"].startswith("name:")
    assert results[8]["reason"].startswith("customer")
    assert set(CustomerEvent.objects.values_list("client_event_id", flat=True)) == {"ok-1", "ok-2"}
    assert not Identity.objects.filter(value="info@shop.example.pl").exists()


def test_unknown_customer_is_created_once_and_known_mailbox_spellings_resolve(post):
    known = do_identify(identities=[("email", "laurachen@gmail.com")]).customer
    response = post(
        EVENTS,
        {
            "events": [
                event("e1", customer={"external_id": "u-77", "email": "ola@shop.example.pl"}),
                event("e2", customer={"email": "Ola@Shop.Example.pl"}),
                event("e3", customer={"email": "Laura.Chen+shop@gmail.com"}),
                event("e4", customer={"phone": "601 234 567"}),
            ],
            "region": "pl",
        },
    )
    results = response.json()["results"]
    assert statuses(response) == ["created"] * 4
    new = Customer.objects.get(identities__kind="external_id", identities__value="u-77")
    assert set(new.identities.values_list("kind", "value", "verified", "source")) == {
        ("external_id", "u-77", True, "api"),
        ("email", "ola@shop.example.pl", True, "api"),
    }
    assert [r["customer_id"] for r in results[:3]] == [new.pk, new.pk, known.pk]
    assert Identity.objects.get(kind=IdentityKind.PHONE).value == "+48601234567"


def test_a_full_batch_costs_a_bounded_number_of_queries(post, django_assert_max_num_queries):
    customers = [{"external_id": f"shop-{n}"} for n in range(5)]
    for ref in customers:
        do_identify(identities=[("external_id", ref["external_id"])])
    batch = {"events": [event(f"e{n}", customer=customers[n % 5]) for n in range(500)]}
    with django_assert_max_num_queries(12):
        response = post(EVENTS, batch)
    assert response.json()["summary"]["created"] == 500
    assert TimelineEntry.objects.filter(kind=TimelineKind.EVENT).count() == 500


def test_new_customers_cost_queries_per_customer_not_per_event(post, django_assert_max_num_queries):
    batch = {"events": [event(f"e{n}", customer={"external_id": f"new-{n % 3}"}) for n in range(300)]}
    with django_assert_max_num_queries(12 + 3 * 20):
        response = post(EVENTS, batch)
    assert response.json()["summary"]["created"] == 300
    assert Customer.objects.count() == 3


def test_ids_stored_by_a_concurrent_batch_after_the_check_become_duplicates(post, monkeypatch):
    from profiles import customer_events

    post(EVENTS, {"events": [event("e1")]})
    real = customer_events._drop_stored
    calls = []

    def check_too_early(events, pending, outcomes):
        # The first check runs "before" the other batch committed e1: it sees nothing stored.
        calls.append(len(pending))
        return list(pending) if len(calls) == 1 else real(events, pending, outcomes)

    monkeypatch.setattr(customer_events, "_drop_stored", check_too_early)
    response = post(EVENTS, {"events": [event("e1"), event("e2")]})
    assert statuses(response) == ["duplicate", "created"] and len(calls) == 2
    assert CustomerEvent.objects.count() == 2 and TimelineEntry.objects.count() == 2


# --- Identify -----------------------------------------------------------------------------------------
def test_identify_creates_then_finds_the_customer(post):
    body = {
        "identities": {"external_id": "u-1", "email": "Anna@Example.pl", "phone": "601 234 567"},
        "attributes": {"name": "Anna Kowalska", "company": "Acme"},
        "region": "PL",
    }
    first = post(IDENTIFY, body)
    assert first.status_code == 201
    data = first.json()
    assert data["created"] is True
    assert [(i["kind"], i["value"], i["status"]) for i in data["identities"]] == [
        ("external_id", "u-1", "attached"),
        ("email", "anna@example.pl", "attached"),
        ("phone", "+48601234567", "attached"),
    ]
    assert Customer.objects.get(pk=data["customer_id"]).name == "Anna Kowalska"
    again = post(IDENTIFY, {"identities": {"email": "anna@example.pl"}})
    assert again.status_code == 200
    assert again.json()["customer_id"] == data["customer_id"] and again.json()["created"] is False


def test_identify_an_identity_of_another_customer_becomes_a_suggestion(post):
    shop_account = do_identify(identities=[("external_id", "u-1")]).customer
    other = do_identify(identities=[("email", "anna@example.pl")]).customer
    response = post(IDENTIFY, {"identities": {"external_id": "u-1", "email": "anna@example.pl"}})
    assert response.status_code == 200
    data = response.json()
    assert data["customer_id"] == shop_account.pk
    email = next(i for i in data["identities"] if i["kind"] == "email")
    assert email["status"] == "suggested" and email["other_customer_id"] == other.pk
    assert MergeSuggestion.objects.filter(pk=email["suggestion_id"]).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "identities"),
        ({"identities": {}}, "identities"),
        ({"identities": {"email": "nope"}}, "identities"),
        ({"identities": {"instagram": "x"}}, "identities"),
        ({"identities": {"email": "info@acme.example.pl"}}, "identities"),
        ({"identities": {"external_id": "u-1"}, "attributes": {"shoe_size": 42}}, "attributes"),
        ({"identities": {"external_id": "u-1"}, "attributes": {"name": {"first": "A"}}}, "attributes"),
        ({"identities": {"external_id": "u-1"}, "attributes": {"name": "a\u0000"}}, "attributes"),
        ({"identities": {"external_id": "u-1"}, "attributes": "x"}, "attributes"),
        ({"identities": {"external_id": "u-1"}, "region": "Poland"}, "region"),
    ],
)
def test_identify_validation_errors_are_400_with_field_messages(post, body, field):
    response = post(IDENTIFY, body)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "invalid" and field in data["fields"]
    assert not Customer.objects.exists()


# --- Hostile input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        b"\xff\xfe\x00garbage",
        "[1, 2, 3]",
        '{"events": "all of them"}',
        '{"events": []}',
        '{"events": [{}], "region": 7}',
        '{"events": [{"event_id": "e1", "total": NaN}]}',
        '{"events": [{"event_id": "e1", "total": 1e999}]}',
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"events": [event(f"e{n}") for n in range(501)]}),
    ],
)
def test_garbage_is_a_400_never_a_500(post, body):
    for url in (EVENTS, IDENTIFY):
        response = post(url, body)
        assert response.status_code == 400, response.content[:200]
        assert response.json()["error"] in {"invalid", "parse_error"}
    assert not CustomerEvent.objects.exists()


def test_other_content_types_methods_and_huge_bodies_are_refused_cleanly(settings, key, post):
    assert post(EVENTS, "events=1", content_type="application/x-www-form-urlencoded").status_code == 415
    client, auth = Client(), {"Authorization": f"Bearer {key[1]}"}
    odd_charset = client.generic("POST", EVENTS, b"{}", "application/json; charset=klingon", headers=auth)
    assert odd_charset.status_code == 400 and odd_charset.json()["fields"]["events"]
    assert client.get(EVENTS, headers=auth).status_code == 405
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(EVENTS, {"events": [event("e1", properties={"x": "y" * 2000})]})
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_profile_changing_meanwhile_is_a_409_to_retry(post, monkeypatch):
    from profiles import api
    from profiles.merge import MergeError

    def merged_meanwhile(**kwargs):
        raise MergeError("one of the profiles has already been merged into another")

    monkeypatch.setattr(api, "do_identify", merged_meanwhile)
    response = post(IDENTIFY, {"identities": {"external_id": "u-1"}})
    assert response.status_code == 409 and response.json()["error"] == "conflict"
