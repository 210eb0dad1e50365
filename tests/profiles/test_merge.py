"""Merging two profiles of one person moves everything; undo restores every related row exactly; a merge
in the middle of live ingestion loses, duplicates and strands nothing."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import DatabaseError, OperationalError, connections, transaction
from django.test import Client
from django.utils import timezone

from channels_app.ingest import process_pending
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from profiles.merge import MergeError, do_accept_suggestion, do_merge, do_undo_merge
from profiles.models import (
    AuditAction,
    AuditEntry,
    Customer,
    CustomerEvent,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    SuggestionStatus,
    Tag,
    TimelineEntry,
    TimelineKind,
)
from profiles.services import do_add_note, do_dismiss_suggestion, do_suggest_merge, lock_customer
from profiles.timeline import event_entries, record_survey_answer
from surveys.models import Survey, SurveyResponse
from tests.pipeline import post_api, post_telegram_text, process_all
from tests.workers import celery_worker, wait_until
from tickets.models import Attachment, Conversation, ConversationStatus, Message
from tickets.replies import do_send_reply

TG_SECRET = "tg-webhook-secret-0123456789"
API_SECRET = "api-signing-secret-abcdef0123456789"
TG_USER = 501234567
APP_USER = "app-user-77"
# What the merge itself writes stays as its history; everything else must come back as it was.
HISTORY = {MergeLog, AuditEntry}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def telegram(db):
    return do_create_channel(
        kind="telegram",
        name="Bot",
        credentials={"bot_token": "7000000001:AAFakeTokenForTests", "webhook_secret": TG_SECRET},
    )


@pytest.fixture
def api(db):
    return do_create_channel(kind="api", name="App", credentials={"signing_secret": API_SECRET})


def deliver_telegram(client, channel, update_id: int, text: str) -> None:
    user = {"id": TG_USER, "first_name": "Marta"}
    response = post_telegram_text(
        client, channel.pk, secret=TG_SECRET, update_id=update_id, user=user, text=text, date=int(time.time())
    )
    assert response.status_code == 200


def deliver_api(client, channel, message_id: str, text: str, **extra) -> None:
    payload = {"type": "message", "id": message_id, "sender": {"id": APP_USER, "name": "M. N."}, "text": text}
    response = post_api(client, channel.pk, json.dumps({**payload, **extra}).encode(), API_SECRET)
    assert response.status_code == 200


# --- A full dump of everything about a set of customers ----------------------------------------------
def related_rows(customer_ids: list[int]) -> dict[str, list[dict]]:
    """Every row of every model that points, directly or through other such rows, at these customers
    (conversations → messages → attachments and deliveries, tag links, timeline ...), ordered by key."""
    collected: dict[type, set] = {Customer: set(customer_ids)}
    models = [m for m in apps.get_models(include_auto_created=True) if m not in HISTORY]
    grown = True
    while grown:
        grown = False
        for model in models:
            for field in model._meta.concrete_fields:
                target = field.related_model if field.many_to_one or field.one_to_one else None
                if target not in collected:
                    continue
                pointing = model.objects.filter(**{f"{field.attname}__in": list(collected[target])})
                found = set(pointing.values_list("pk", flat=True)) - collected.get(model, set())
                if found:
                    collected.setdefault(model, set()).update(found)
                    grown = True
    return {
        model._meta.label: list(model.objects.filter(pk__in=pks).order_by("pk").values())
        for model, pks in sorted(collected.items(), key=lambda item: item[0]._meta.label)
    }


def build_pair(client, telegram, api, agent):
    """Two profiles of Marta, each with a history of its own, plus a bystander they share suggestions with."""
    deliver_telegram(client, telegram, 1, "Dzień dobry, gdzie jest moja paczka?")
    deliver_telegram(client, telegram, 2, "Numer zamówienia 1001")
    deliver_api(client, api, "m-1", "Hello from the app")
    deliver_api(client, api, "m-2", "Any news?", thread_id="order-1001")
    process_all()
    chat = Identity.objects.get(kind=IdentityKind.TELEGRAM).customer
    app = Identity.objects.get(kind=IdentityKind.EXTERNAL_ID).customer
    bystander = Customer.objects.create(name="Jan Kowalski")
    Identity.objects.create(customer=bystander, kind=IdentityKind.EMAIL, value="jan@example.pl")

    Identity.objects.create(customer=chat, kind=IdentityKind.EMAIL, value="marta@example.pl")
    Identity.objects.create(customer=app, kind=IdentityKind.PHONE, value="+48601234567", verified=True)
    week_ago = timezone.now() - timedelta(days=7)
    Customer.objects.filter(pk=chat.pk).update(
        name="Marta Nowak",
        locale="pl",
        attributes={"plan": "pro", "city": "Kraków"},
        consent={"email": {"status": "granted", "at": "2026-01-10T09:00:00+00:00", "source": "form"}},
    )
    Customer.objects.filter(pk=app.pk).update(
        name="M. N.",
        company="Nowak sp. z o.o.",
        timezone="Europe/Warsaw",
        attributes={"plan": "free", "loyalty": 3},
        consent={
            "email": {"status": "withdrawn", "at": "2026-02-01T12:00:00+00:00", "source": "app"},
            "sms": {"status": "granted", "at": "2025-12-24T08:00:00+00:00", "source": "app"},
        },
        created_at=week_ago,
        last_seen_at=timezone.now() + timedelta(minutes=5),
    )
    vip, b2b, news = (Tag.objects.create(name=n) for n in ("vip", "b2b", "newsletter"))
    chat.tags.add(vip, b2b)
    app.tags.add(b2b, news)

    survey = Survey.objects.create(kind="nps", name="NPS", question={"en": "Recommend us?"})
    for customer, score in ((chat, 9), (app, 4)):
        conversation = Conversation.objects.filter(customer=customer).first()
        response = SurveyResponse.objects.create(
            survey=survey,
            customer=customer,
            conversation=conversation,
            score=score,
            created_at=timezone.now(),
        )
        record_survey_answer(response)
        event = CustomerEvent.objects.create(
            customer=customer,
            name="order_placed",
            client_event_id=f"order-{customer.pk}",
            occurred_at=week_ago,
            properties={"total": score * 10},
        )
        TimelineEntry.objects.bulk_create(event_entries([event]))
        do_add_note(customer=customer, author=agent, body=f"note about #{customer.pk}")
    first = Message.objects.filter(conversation__customer=chat).order_by("pk").first()
    attachment = Attachment(message=first, filename="scan.pdf", content_type="application/pdf", size=4)
    attachment.file.save("scan.pdf", ContentFile(b"%PDF"), save=False)
    attachment.save()
    do_send_reply(conversation=first.conversation, author=agent, channel=telegram, text="Już sprawdzamy")

    do_suggest_merge(customer=chat, other=app, evidence={"kind": "email", "value": "x", "source": "test"})
    do_suggest_merge(customer=app, other=bystander, evidence={"kind": "phone", "value": "y", "source": "t"})
    dismissed = do_suggest_merge(customer=chat, other=bystander, evidence={"kind": "a", "value": "b"})
    do_dismiss_suggestion(suggestion=dismissed, actor=agent)
    return Customer.objects.get(pk=chat.pk), Customer.objects.get(pk=app.pk), bystander


@pytest.mark.django_db
def test_merge_moves_everything_and_undo_restores_every_row(client, telegram, api, agent, manager):
    chat, app, bystander = build_pair(client, telegram, api, agent)
    everyone = [chat.pk, app.pk, bystander.pk]
    before = related_rows(everyone)
    assert {label for label, rows in before.items() if rows} >= {
        "profiles.Identity", "tickets.Conversation", "tickets.Message", "tickets.Attachment",
        "channels_app.OutboundMessage", "profiles.TimelineEntry", "profiles.CustomerEvent",
        "profiles.CustomerNote", "profiles.Customer_tags", "profiles.MergeSuggestion",
        "surveys.SurveyResponse",
    }  # fmt: skip
    owned = {
        model: set(model.objects.filter(customer=app).values_list("pk", flat=True))
        for model in (Identity, Conversation, CustomerEvent, TimelineEntry, SurveyResponse)
    }
    messages = set(Message.objects.values_list("pk", flat=True))

    log = do_merge(survivor=chat, merged=app, actor=agent, reason="same person, confirmed by phone")

    chat.refresh_from_db()
    app.refresh_from_db()
    assert app.merged_into_id == chat.pk
    for model, pks in owned.items():
        assert pks, model
        assert set(model.objects.filter(pk__in=pks).values_list("customer_id", flat=True)) == {chat.pk}
    assert not app.notes.exists() and not app.identities.exists() and not app.conversations.exists()
    assert set(Message.objects.values_list("pk", flat=True)) == messages
    assert set(Message.objects.values_list("conversation__customer", flat=True)) == {chat.pk}
    # Conflict policy: the survivor's values win, the merged profile fills the gaps.
    assert (chat.name, chat.locale, chat.company, chat.timezone) == (
        "Marta Nowak", "pl", "Nowak sp. z o.o.", "Europe/Warsaw",
    )  # fmt: skip
    assert chat.attributes == {"plan": "pro", "city": "Kraków", "loyalty": 3}
    assert chat.consent["email"]["status"] == "withdrawn"  # the most recent decision is the wish
    assert chat.consent["sms"]["status"] == "granted"
    assert (chat.created_at, chat.last_seen_at) == (app.created_at, app.last_seen_at)
    assert set(chat.tags.values_list("name", flat=True)) == {"vip", "b2b", "newsletter"}
    accepted = MergeSuggestion.objects.get(customer_id=min(chat.pk, app.pk), other_id=max(chat.pk, app.pk))
    assert (accepted.status, accepted.decided_by) == (SuggestionStatus.ACCEPTED, agent)
    assert MergeSuggestion.objects.filter(status=SuggestionStatus.OPEN).count() == 1
    entry = TimelineEntry.objects.get(kind=TimelineKind.MERGE)
    assert entry.customer_id == chat.pk and entry.data["merge_log_id"] == log.pk
    # Who, why and when.
    log.refresh_from_db()
    assert (log.survivor_id, log.merged_id, log.actor) == (chat.pk, app.pk, agent)
    assert log.reason == "same person, confirmed by phone"
    assert abs(log.created_at - timezone.now()) < timedelta(minutes=1) and log.undone_at is None
    audit = AuditEntry.objects.get(action=AuditAction.MERGE)
    assert (audit.actor, audit.customer_id_ref, audit.details["merged_id"]) == (agent, chat.pk, app.pk)

    do_undo_merge(log=log, actor=manager)

    assert related_rows(everyone) == before
    log.refresh_from_db()
    assert log.undone_by == manager and log.undone_at is not None
    assert AuditEntry.objects.filter(action=AuditAction.UNDO_MERGE, actor=manager).count() == 1
    with pytest.raises(MergeError, match="already been undone"):
        do_undo_merge(log=log, actor=manager)
    assert related_rows(everyone) == before


def test_every_relation_to_a_customer_is_handled_by_the_merge():
    """A model added later with a customer key must be moved by the merge, or be decided to stay."""
    from profiles.merge import OWN_MOVED
    from surveys.profile_merge import MOVED as SURVEYS_MOVED
    from tickets.profile_merge import MOVED as TICKETS_MOVED

    moved_models = [*OWN_MOVED.values(), *TICKETS_MOVED.values(), *SURVEYS_MOVED.values()]
    moved = {model._meta.label for model in moved_models}
    handled_apart = {
        "profiles.Customer",  # merged_into marks the merged profile itself
        "profiles.Customer_tags",  # tags are added to the survivor, not moved
        "profiles.MergeSuggestion",  # the pair's suggestions are settled; others stay with their profile
        "profiles.MergeLog",
    }
    pointing = {
        model._meta.label
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
        if field.related_model is Customer
    }
    assert pointing - handled_apart == moved


@pytest.mark.django_db
def test_merge_refusals(agent):
    one, two, three = (Customer.objects.create(name=n) for n in ("one", "two", "three"))
    with pytest.raises(MergeError, match="itself"):
        do_merge(survivor=one, merged=Customer(pk=one.pk), actor=agent)
    first = do_merge(survivor=one, merged=two, actor=agent)
    with pytest.raises(MergeError, match="already been merged"):
        do_merge(survivor=three, merged=two, actor=agent)
    do_merge(survivor=three, merged=one, actor=agent)
    with pytest.raises(MergeError, match="merged again"):
        do_undo_merge(log=first)
    with pytest.raises(MergeError, match="no longer exists"):
        do_merge(survivor=three, merged=Customer(pk=10**9))
    assert MergeLog.objects.count() == 2


@pytest.mark.django_db
def test_accepting_a_suggestion_keeps_the_profile_with_more_history(client, telegram, api, agent):
    chat, app, _ = build_pair(client, telegram, api, agent)
    Conversation.objects.create(
        customer=app, channel=api, created_at=timezone.now(), last_activity_at=timezone.now()
    )
    suggestion = MergeSuggestion.objects.get(status=SuggestionStatus.OPEN, other__in=[chat, app])
    log = do_accept_suggestion(suggestion=suggestion, actor=agent)
    assert (log.survivor_id, log.merged_id) == (app.pk, chat.pk)
    with pytest.raises(MergeError, match="decided"):
        do_accept_suggestion(suggestion=MergeSuggestion.objects.get(pk=suggestion.pk), actor=agent)


@pytest.mark.django_db
def test_undo_returns_what_arrived_in_the_merged_profiles_conversations(client, telegram, api, agent):
    chat, app, _ = build_pair(client, telegram, api, agent)
    Conversation.objects.filter(customer=app).update(status=ConversationStatus.RESOLVED)
    log = do_merge(survivor=app, merged=chat, actor=agent)
    deliver_telegram(client, telegram, 3, "Jeszcze jedno pytanie")  # lands after the merge
    process_all()
    late = Message.objects.get(body="Jeszcze jedno pytanie")
    assert late.conversation.customer_id == app.pk

    do_undo_merge(log=log)
    late.refresh_from_db()
    assert late.conversation.customer_id == chat.pk
    entries = TimelineEntry.objects.filter(conversation=late.conversation)
    assert set(entries.values_list("customer_id", flat=True)) == {chat.pk}


def in_another_connection(function, *args):
    def run():
        try:
            return function(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).exception(timeout=30)


def lock_nowait(pk: int) -> None:
    with transaction.atomic():
        list(Customer.objects.select_for_update(nowait=True).filter(pk=pk))


@pytest.mark.django_db(transaction=True)
def test_writing_to_a_merged_profile_locks_only_the_live_one():
    """Holding the merged row while waiting for the survivor is the reverse of a merge's lock order."""
    first, second, third = (Customer.objects.create(name=n) for n in ("first", "second", "third"))
    do_merge(survivor=second, merged=first)
    do_merge(survivor=third, merged=second)
    with transaction.atomic():
        assert lock_customer(Customer(pk=first.pk)).pk == third.pk
        assert in_another_connection(lock_nowait, first.pk) is None
        assert in_another_connection(lock_nowait, second.pk) is None
        assert isinstance(in_another_connection(lock_nowait, third.pk), DatabaseError)
    do_undo_merge(log=MergeLog.objects.get(merged=second))
    with transaction.atomic():
        assert lock_customer(Customer(pk=first.pk)).pk == second.pk
    with pytest.raises(Customer.DoesNotExist), transaction.atomic():
        lock_customer(Customer(pk=10**9))


# --- A merge in the middle of live ingestion ---------------------------------------------------------
PER_SENDER = 60
SENDERS = 4  # threads posting webhooks, each for every SENDERS-th message of both customers
DEADLINE_S = 120


def run_concurrently(jobs, deadline: float) -> list[BaseException]:
    """Run each job in its own thread with its own database connection; fail if any outlives the deadline."""
    errors: list[BaseException] = []

    def run(job):
        try:
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not [t for t in threads if t.is_alive()], "ingestion or the merge hung"
    return errors


def merge_during_ingestion(telegram, api, agent, *, drain) -> tuple[Customer, Customer]:
    """Both profiles of one person write on both channels while the two are merged; `drain` records."""
    setup = Client()
    deliver_telegram(setup, telegram, 10_000, "first chat message")
    deliver_api(setup, api, "setup", "first app message")
    process_pending(limit=100)
    chat = Identity.objects.get(kind=IdentityKind.TELEGRAM).customer
    app = Identity.objects.get(kind=IdentityKind.EXTERNAL_ID).customer
    started = time.monotonic()
    deadline = started + DEADLINE_S

    def post(first: int):
        client = Client()
        for n in range(first, PER_SENDER, SENDERS):
            deliver_telegram(client, telegram, n + 1, f"chat {n}")
            # Every third app message carries a thread id: not plain, so recorded on the single path.
            deliver_api(client, api, f"a-{n}", f"app {n}", **({"thread_id": "t"} if n % 3 == 0 else {}))
            drain()

    def merge():
        while Message.objects.count() < PER_SENDER // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        do_merge(survivor=app, merged=chat, actor=agent, reason="during ingestion")

    jobs = [lambda first=first: post(first) for first in range(SENDERS)]
    errors = run_concurrently([*jobs, merge], deadline)
    assert not errors, errors
    return chat, app


def assert_nothing_lost_or_stranded(chat: Customer, app: Customer, telegram, api) -> None:
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}
    inbound = list(Message.objects.filter(direction="in").values_list("channel", "provider_message_id"))
    assert len(inbound) == len(set(inbound)) == 2 * (PER_SENDER + 1)  # all there, nothing twice
    assert {pid for channel, pid in inbound if channel == api.pk} == {
        "setup",
        *(f"a-{n}" for n in range(PER_SENDER)),
    }
    assert set(Message.objects.values_list("conversation__customer", flat=True)) == {app.pk}
    assert Customer.objects.get(pk=chat.pk).merged_into_id == app.pk
    assert not Identity.objects.filter(customer=chat).exists()
    assert set(TimelineEntry.objects.values_list("customer_id", flat=True)) == {app.pk}
    per_message = TimelineEntry.objects.filter(kind=TimelineKind.MESSAGE).values_list("message", flat=True)
    assert sorted(per_message) == sorted(Message.objects.values_list("pk", flat=True))
    assert MergeLog.objects.get().survivor_id == app.pk


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_merge_while_threads_drain_concurrently(telegram, api, agent):
    conflicts: list[OperationalError] = []

    def drain():
        try:
            process_pending(limit=7)
        except OperationalError as exc:
            # The worker's task fails the same way and the sweeper drains again: nothing is lost.
            conflicts.append(exc)

    started = time.monotonic()
    chat, app = merge_during_ingestion(telegram, api, agent, drain=drain)
    process_pending(limit=1000)
    assert time.monotonic() - started < DEADLINE_S
    assert_nothing_lost_or_stranded(chat, app, telegram, api)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_merge_while_a_celery_worker_drains(telegram, api, agent, settings, tmp_path):
    from channels_app.tasks import DRAIN_FLAG
    from core.redis import get_redis

    get_redis().delete(DRAIN_FLAG)  # a flag left by an earlier test would hold the first drain back
    log = tmp_path / "worker.log"
    with celery_worker(redis_url=settings.REDIS_URL, log=log):
        started = time.monotonic()
        chat, app = merge_during_ingestion(telegram, api, agent, drain=lambda: None)
        wait_until(
            lambda: not InboundEvent.objects.filter(status=InboundStatus.PENDING).exists(),
            max(1, DEADLINE_S - (time.monotonic() - started)),
            log.read_text,
        )
    assert_nothing_lost_or_stranded(chat, app, telegram, api)
