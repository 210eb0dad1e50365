"""GDPR tools: erasure leaves no trace, export is complete, only the right roles use them, retention."""

from __future__ import annotations

import io
import json
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from channels_app.models import InboundEvent, InboundStatus, OutboundMessage
from channels_app.services import do_create_channel
from core.redis import get_redis
from profiles.audit import record
from profiles.merge import do_merge
from profiles.models import (
    AuditAction,
    AuditEntry,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    RetentionPolicy,
    Tag,
    TimelineEntry,
)
from profiles.privacy import do_erase_customer
from profiles.retention import DataKind, do_apply_retention
from profiles.services import do_add_note, do_attach_identity, do_suggest_merge
from profiles.timeline import event_entries, record_survey_answer
from surveys.models import Survey, SurveyResponse
from tests.pipeline import post_api, post_telegram_text, process_all
from tickets.models import Attachment, Conversation, ConversationStatus, Message
from tickets.replies import do_send_reply

pytestmark = pytest.mark.django_db

EMAIL = "anna.kowalska@example.pl"
PHONE = "+48601234567"
TELEGRAM_ID = "501234567"
OLD_EMAIL = "anna.k.2019@example.pl"
NAME = "Anna Kowalska"
IDENTIFIERS = [EMAIL, PHONE, PHONE.lstrip("+"), TELEGRAM_ID, OLD_EMAIL, "Kowalska"]
TG_SECRET = "tg-webhook-secret-0123456789"
API_SECRET = "api-signing-secret-abcdef0123456789"
ATTACHMENT_BYTES = b"%PDF-1.4 scanned form of Anna Kowalska, anna.kowalska@example.pl"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def telegram(db):
    return do_create_channel(
        kind="telegram",
        name="Acme Bot",
        credentials={"bot_token": "7000000001:AAFakeTokenForTests", "webhook_secret": TG_SECRET},
    )


@pytest.fixture
def api_channel(db):
    return do_create_channel(kind="api", name="Mobile app", credentials={"signing_secret": API_SECRET})


def deliver_telegram(client, channel, update_id: int, text: str):
    user = {"id": int(TELEGRAM_ID), "first_name": "Anna", "last_name": "Kowalska"}
    response = post_telegram_text(
        client,
        channel.pk,
        secret=TG_SECRET,
        update_id=update_id,
        user=user,
        text=text,
        date=1763800000 + update_id % 1000,
        message_id=update_id % 10_000,
    )
    assert response.status_code == 200


def deliver_api(client, channel, payload: dict):
    response = post_api(client, channel.pk, json.dumps(payload).encode(), API_SECRET)
    assert response.status_code == 200


def store_attachment(message: Message, filename: str, content: bytes) -> Attachment:
    attachment = Attachment(
        message=message, filename=filename, content_type="application/pdf", size=len(content)
    )
    attachment.file.save(filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


def build_anna(client, telegram, api_channel, agent) -> Customer:
    """A person as the platform really holds one: inbound through the webhook pipeline, a reply, a
    file, a survey answer, company events, a note, a suggestion and a profile merged into hers."""
    deliver_telegram(
        client, telegram, 900001, f"Dzień dobry, piszę w sprawie zamówienia. Mój e-mail: {EMAIL}"
    )
    deliver_telegram(client, telegram, 900002, f"Proszę o telefon: {PHONE}. Pozdrawiam, {NAME}")
    # A delivery about her that never became a message (unknown type): found by its content.
    deliver_api(client, api_channel, {"type": "reaction", "sender": {"id": "u-77", "email": EMAIL}})
    process_all()
    anna = Identity.objects.get(kind=IdentityKind.TELEGRAM, value=TELEGRAM_ID).customer
    for kind, value in ((IdentityKind.EMAIL, EMAIL), (IdentityKind.PHONE, PHONE)):
        do_attach_identity(customer=anna, kind=kind, value=value, verified=True, source="agent")
    assert {i.value for i in anna.identities.all()} >= {EMAIL, PHONE, TELEGRAM_ID}

    anna.company = "Kowalska Consulting"
    anna.location = "Kraków"
    anna.attributes = {"note": f"prefers calls to {PHONE}"}
    anna.consent = {"email": {"status": "granted", "at": "2026-11-01T10:00:00Z", "source": EMAIL}}
    anna.save()
    anna.tags.add(Tag.objects.create(name="vip"))

    first = Message.objects.filter(conversation__customer=anna).order_by("id").first()
    assert first is not None and first.inbound_event_id is not None
    store_attachment(first, "anna-kowalska-form.pdf", ATTACHMENT_BYTES)
    do_send_reply(
        conversation=first.conversation,
        author=agent,
        channel=telegram,
        text=f"Dziękujemy, Pani Anno! Potwierdzenie wyślemy na {EMAIL}.",
    )

    survey = Survey.objects.create(kind="nps", name="NPS", question={"en": "Recommend us?"})
    response = SurveyResponse.objects.create(
        survey=survey,
        customer=anna,
        conversation=first.conversation,
        channel=telegram,
        score=9,
        comment=f"{NAME}: szybka pomoc, dziękuję",
        created_at=timezone.now(),
    )
    record_survey_answer(response)
    events = [
        CustomerEvent.objects.create(
            customer=anna,
            name="order_placed",
            client_event_id="order-1001",
            occurred_at=timezone.now(),
            properties={"email": EMAIL, "phone": PHONE, "shipping_name": NAME},
        )
    ]
    TimelineEntry.objects.bulk_create(event_entries(events))
    do_add_note(customer=anna, author=agent, body=f"Rozmowa z {NAME}, oddzwonić na {PHONE}")

    other = Customer.objects.create(name="Jan Nowak")
    Identity.objects.create(customer=other, kind=IdentityKind.EMAIL, value="jan.nowak@example.com")
    do_suggest_merge(
        customer=anna, other=other, evidence={"kind": "email", "value": EMAIL, "source": "message"}
    )

    old = Customer.objects.create(name=NAME, company="Kowalska Consulting", location="Kraków")
    Identity.objects.create(customer=old, kind=IdentityKind.EMAIL, value=OLD_EMAIL)
    CustomerNote.objects.create(customer=old, body=f"Old profile of {NAME}")
    do_merge(survivor=anna, merged=old, actor=agent, reason=f"same person, {OLD_EMAIL}")

    LogEntry.objects.create(
        user=agent,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(anna.pk),
        object_repr=str(anna),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["name"]}}]),
    )
    return Customer.objects.get(pk=anna.pk)


def rows_mentioning(needle: str) -> list[tuple[str, str]]:
    """Every row of every table in the public schema whose text (bytea as hex too) has the needle."""
    lowered = needle.lower()
    hexed = needle.encode().hex()
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        assert "channels_app_inboundevent" in tables and "profiles_customer" in tables
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (names from the catalog)
            for (text,) in cursor.fetchall():
                if lowered in text.lower() or hexed in text.lower():
                    found.append((table, text[:200]))
    return found


def files_mentioning(root: Path, needle: str) -> list[str]:
    found = []
    lowered = needle.lower()
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if lowered in name.lower() or lowered.encode() in path.read_bytes().lower():
                found.append(str(path))
    return found


def test_erasure_leaves_no_trace(
    client, admin_client_, telegram, api_channel, agent, media, django_capture_on_commit_callbacks
):
    anna = build_anna(client, telegram, api_channel, agent)
    for needle in IDENTIFIERS:  # the search itself must be able to find them before erasure
        assert rows_mentioning(needle), needle
    assert files_mentioning(media, EMAIL)
    counts = (
        Message.objects.count(),
        Conversation.objects.count(),
        CustomerEvent.objects.count(),
        TimelineEntry.objects.count(),
    )
    message_kinds = sorted(Message.objects.values_list("channel_id", "direction", "created_at"))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            reverse("customer_erase", args=[anna.pk]),
            {"confirmation": f"ERASE-{anna.pk}", "reason": f"GDPR request #12 from {EMAIL} ({NAME})"},
        )
    assert response.status_code == 302
    assert response.url == reverse("customer_list")

    for needle in IDENTIFIERS:
        assert rows_mentioning(needle) == [], needle
        assert files_mentioning(media, needle) == [], needle
    assert (
        Message.objects.count(),
        Conversation.objects.count(),
        CustomerEvent.objects.count(),
        TimelineEntry.objects.count(),
    ) == counts
    assert sorted(Message.objects.values_list("channel_id", "direction", "created_at")) == message_kinds
    assert SurveyResponse.objects.get().score == 9
    assert CustomerEvent.objects.get().name == "order_placed"
    anna.refresh_from_db()
    assert anna.erased_at is not None and anna.name == "" and not anna.tags.exists()
    assert not Identity.objects.filter(customer=anna).exists()
    assert not Attachment.objects.exists() and not MergeSuggestion.objects.exists()
    assert Customer.objects.get(name="Jan Nowak").identities.count() == 1  # someone else is untouched
    merged = Customer.objects.get(merged_into=anna)
    assert merged.erased_at is not None and merged.company == ""
    assert MergeLog.objects.get().snapshot["survivor"]["name"] == ""
    outbound = OutboundMessage.objects.get()
    assert (outbound.recipient, outbound.payload) == ("", {})
    assert all(bytes(e.body) == b"" for e in InboundEvent.objects.all())

    entry = AuditEntry.objects.get(action=AuditAction.ERASE)
    assert entry.customer_id_ref == anna.pk and entry.actor is not None
    assert entry.details["counts"]["messages"] == counts[0]
    assert entry.details["merged_ids"] == [merged.pk]
    assert "#12" in entry.details["reason"]


def test_erasure_forgets_undelivered_realtime_events(
    client, telegram, api_channel, agent, admin_user, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    redis = get_redis()
    # The suite always runs on real Redis (scripts/test.sh starts it): the layer keeps undelivered
    # events there, which is exactly what erasure must clear.
    assert redis is not None and hasattr(layer, "prefix"), "this test needs the Redis channel layer"
    inbox = "privacytest.inbox"
    key = f"{layer.prefix}{inbox}"
    redis.delete(key)
    async_to_sync(layer.group_add)("role.admin", inbox)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            anna = build_anna(client, telegram, api_channel, agent)
        other = Customer.objects.create(name="Jan Nowak 2")
        conversation = Conversation.objects.create(
            customer=other, channel=telegram, created_at=timezone.now(), last_activity_at=timezone.now()
        )
        Identity.objects.create(customer=other, kind=IdentityKind.TELEGRAM, value="777000111")
        with django_capture_on_commit_callbacks(execute=True):
            do_send_reply(
                conversation=conversation, author=agent, channel=telegram, text="Dzień dobry, Janie"
            )
        waiting = redis.zcard(key)
        assert waiting >= 2  # her reply's event and Jan's are waiting for a socket that never reads

        with django_capture_on_commit_callbacks(execute=True):
            do_erase_customer(customer=anna, actor=admin_user)

        left = [layer.deserialize(m) for m in redis.zrange(key, 0, -1)]
        assert [e["payload"]["conversation_id"] for e in left] == [conversation.pk]
    finally:
        redis.delete(key)
        async_to_sync(layer.group_discard)("role.admin", inbox)


def test_export_is_complete(client, manager_client, telegram, api_channel, agent, media):
    anna = build_anna(client, telegram, api_channel, agent)
    ids = [anna.pk, Customer.objects.get(merged_into=anna).pk]

    response = manager_client.post(reverse("customer_export", args=[anna.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("customer.json"))

    assert data["profile"]["name"] == NAME and data["profile"]["tags"] == ["vip"]
    assert [p["id"] for p in data["merged_profiles"]] == ids[1:]
    assert (
        {i["value"] for i in data["identities"]}
        == set(Identity.objects.filter(customer_id__in=ids).values_list("value", flat=True))
        >= {EMAIL, PHONE, TELEGRAM_ID, OLD_EMAIL}
    )
    assert {n["id"] for n in data["notes"]} == set(
        CustomerNote.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
    )
    assert len(data["notes"]) == 2
    exported = {m["id"]: m for c in data["conversations"] for m in c["messages"]}
    assert set(exported) == set(Message.objects.values_list("pk", flat=True))
    reply = Message.objects.get(direction="out")
    assert exported[reply.pk]["delivery_status"] == "queued"
    assert EMAIL in exported[reply.pk]["body"]
    assert {e["id"] for e in data["events"]} == set(CustomerEvent.objects.values_list("pk", flat=True))
    assert [r["comment"] for r in data["survey_responses"]] == [f"{NAME}: szybka pomoc, dziękuję"]
    assert {t["id"] for t in data["timeline"]} == set(
        TimelineEntry.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
    )
    assert [m["merged_id"] for m in data["merge_history"]] == ids[1:]

    attachment = Attachment.objects.get()
    path = f"attachments/{attachment.message_id}/anna-kowalska-form.pdf"
    assert archive.read(path) == ATTACHMENT_BYTES
    assert exported[attachment.message_id]["attachments"][0]["file"] == path

    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.customer_id_ref == anna.pk and entry.details["files"] == 1
    details = json.dumps(entry.details).lower()
    assert not [needle for needle in IDENTIFIERS if needle.lower() in details]


def test_authorization(client, agent_client, manager_client, admin_client_, media):
    customer = Customer.objects.create(name="Ewa Zielińska")
    export = reverse("customer_export", args=[customer.pk])
    erase = reverse("customer_erase", args=[customer.pk])
    audit = reverse("audit_log")
    retention = reverse("retention_settings")
    confirm = {"confirmation": f"ERASE-{customer.pk}"}

    for url in (export, erase, audit, retention):
        response = client.post(url) if url == export else client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url

    assert agent_client.post(export).status_code == 403
    assert agent_client.get(erase).status_code == 403
    assert agent_client.post(erase, confirm).status_code == 403
    assert agent_client.get(audit).status_code == 403
    assert agent_client.get(retention).status_code == 403

    assert manager_client.post(export).status_code == 200
    assert manager_client.get(export).status_code == 405  # a download that is audited is a POST
    assert manager_client.get(erase).status_code == 403
    assert manager_client.post(erase, confirm).status_code == 403
    assert manager_client.get(audit).status_code == 403
    assert manager_client.get(retention).status_code == 403
    customer.refresh_from_db()
    assert customer.erased_at is None

    page = admin_client_.get(erase)
    assert page.status_code == 200 and f"ERASE-{customer.pk}".encode() in page.content
    wrong = admin_client_.post(erase, {"confirmation": "erase"})
    assert wrong.status_code == 400
    customer.refresh_from_db()
    assert customer.erased_at is None
    assert admin_client_.post(erase, confirm).status_code == 302
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.name == ""

    actions = sorted(AuditEntry.objects.values_list("action", flat=True))
    assert actions == [AuditAction.ERASE, AuditAction.EXPORT]
    for entry in AuditEntry.objects.all():
        assert "zieli" not in json.dumps(entry.details, ensure_ascii=False).lower()


def test_audit_log_page_filters_and_keeps_query_count(
    admin_client_, admin_user, django_assert_max_num_queries
):
    for n in range(3):
        record(actor=admin_user, action=AuditAction.VIEW, customer_id=100 + n)
    record(actor=admin_user, action=AuditAction.EXPORT, customer_id=200, files=2)
    with django_assert_max_num_queries(8) as few:
        assert admin_client_.get(reverse("audit_log")).status_code == 200
    for n in range(60):
        record(actor=admin_user, action=AuditAction.VIEW, customer_id=300 + n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client_.get(reverse("audit_log"))
    assert page.context["page"].paginator.count == 64 and len(page.context["entries"]) == 50

    exports = admin_client_.get(reverse("audit_log"), {"action": "export"})
    assert [e.customer_id_ref for e in exports.context["entries"]] == [200]
    one = admin_client_.get(reverse("audit_log"), {"customer": "101"})
    assert [e.customer_id_ref for e in one.context["entries"]] == [101]
    second = admin_client_.get(reverse("audit_log"), {"page": "2"})
    assert len(second.context["entries"]) == 14


def test_audit_record_refuses_personal_keys_and_redacts_text(admin_user):
    with pytest.raises(ValueError, match="email"):
        record(actor=admin_user, action=AuditAction.VIEW, customer_id=1, email=EMAIL)
    entry = record(
        actor=admin_user, action=AuditAction.VIEW, customer_id=1, reason=f"asked by {EMAIL} {PHONE}"
    )
    assert EMAIL not in entry.details["reason"] and PHONE not in entry.details["reason"]


def test_retention_settings_form(admin_client_):
    url = reverse("retention_settings")
    response = admin_client_.post(url, {DataKind.AUDIT_LOG: "365", DataKind.MESSAGES: ""})
    assert response.status_code == 302
    assert dict(RetentionPolicy.objects.values_list("data_kind", "days")) == {DataKind.AUDIT_LOG: 365}
    assert admin_client_.get(url).context["form"].initial == {DataKind.AUDIT_LOG: 365}
    assert admin_client_.post(url, {DataKind.AUDIT_LOG: "0"}).status_code == 200  # at least one day
    admin_client_.post(url, {DataKind.AUDIT_LOG: ""})
    assert not RetentionPolicy.objects.exists()
    assert admin_client_.get(url).context["form"].initial == {}


def test_retention_cleans_only_what_is_older(telegram, agent, media, django_capture_on_commit_callbacks):
    now = timezone.now()
    old, recent = now - timedelta(days=40), now - timedelta(days=5)
    for kind in DataKind.values:
        RetentionPolicy.objects.create(data_kind=kind, days=30)

    def conversation(at, text):
        customer = Customer.objects.create(name=text)
        conv = Conversation.objects.create(
            customer=customer,
            channel=telegram,
            subject=text,
            status=ConversationStatus.RESOLVED,
            created_at=at,
            last_activity_at=at,
            resolved_at=at,
        )
        event = InboundEvent.objects.create(
            channel=telegram,
            provider="telegram",
            dedup_key=text,
            body=text.encode(),
            headers={"x": text},
            status=InboundStatus.DONE,
        )
        InboundEvent.objects.filter(pk=event.pk).update(received_at=at, processed_at=at)
        message = Message.objects.create(
            conversation=conv, channel=telegram, direction="in", body=text, created_at=at, inbound_event=event
        )
        store_attachment(message, f"{text}.pdf", text.encode())
        return conv, message, event

    old_conv, old_message, old_event = conversation(old, "old text")
    new_conv, new_message, new_event = conversation(recent, "new text")
    pending = InboundEvent.objects.create(
        channel=telegram, provider="telegram", dedup_key="p", body=b"pending"
    )
    InboundEvent.objects.filter(pk=pending.pk).update(received_at=old)
    old_audit = record(actor=None, action=AuditAction.VIEW, customer_id=1)
    AuditEntry.objects.filter(pk=old_audit.pk).update(at=old)
    new_audit = record(actor=None, action=AuditAction.VIEW, customer_id=2)

    with django_capture_on_commit_callbacks(execute=True):
        cleaned = do_apply_retention(now=now)

    assert cleaned == {
        DataKind.RAW_INBOUND_EVENTS: 1,
        DataKind.MESSAGES: 1,
        DataKind.ATTACHMENTS: 1,
        DataKind.AUDIT_LOG: 1,
    }
    old_message.refresh_from_db()
    new_message.refresh_from_db()
    assert (old_message.body, new_message.body) == ("", "new text")
    assert Conversation.objects.get(pk=old_conv.pk).subject == ""
    assert Conversation.objects.get(pk=new_conv.pk).subject == "new text"
    assert bytes(InboundEvent.objects.get(pk=old_event.pk).body) == b""
    assert bytes(InboundEvent.objects.get(pk=new_event.pk).body) == b"new text"
    assert bytes(InboundEvent.objects.get(pk=pending.pk).body) == b"pending"
    assert list(Attachment.objects.values_list("message_id", flat=True)) == [new_message.pk]
    assert files_mentioning(media, "old text") == [] and files_mentioning(media, "new text")
    assert not AuditEntry.objects.filter(pk=old_audit.pk).exists()
    assert AuditEntry.objects.filter(pk=new_audit.pk).exists()
    # A second run finds nothing left to clean.
    assert set(do_apply_retention(now=now).values()) == {0}
