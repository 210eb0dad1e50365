"""With a real worker: a reply the provider refuses for now stays queued, is sent again after the
backoff, and only then does "Send and resolve" resolve the conversation."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from tests.pipeline import fixture_bytes
from tests.stubs.server import StubServer
from tests.workers import celery_worker, wait_until
from tickets.models import Conversation, ConversationStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TOKEN = "7000000001:AAFakeTokenForTests"


def test_temporary_refusal_is_retried_with_backoff_then_the_conversation_resolves(
    settings, tmp_path, make_user
):
    answers = [
        json.loads(fixture_bytes("telegram", "api/sendMessage__too_many_requests.json")),
        json.loads(fixture_bytes("telegram", "api/sendMessage__ok.json")),
    ]
    stub = StubServer().start()
    stub.route(
        "POST",
        f"/bot{TOKEN}/sendMessage",
        lambda r: (429, answers[0]) if len(stub.requests) == 1 else (200, answers[1]),
    )
    manager = make_user(Role.MANAGER)
    bot = do_create_channel(kind="telegram", name="Acme Bot", credentials={"bot_token": TOKEN})
    customer = Customer.objects.create(name="Дмитрий Соколов")
    Identity.objects.create(customer=customer, kind=IdentityKind.TELEGRAM, value="284716392")
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer, channel=bot, subject="Где мой заказ?", created_at=now, last_activity_at=now
    )
    client = Client()
    client.force_login(manager)
    log = tmp_path / "worker.log"
    try:
        with celery_worker(
            redis_url=settings.REDIS_URL, log=log, extra_env={"TELEGRAM_API_BASE_URL": stub.url}
        ):
            client.post(
                reverse("conversation_reply", kwargs={"pk": conversation.pk}),
                {"channel": bot.pk, "text": "Заказ в пути!", "resolve": "1", "force": "1"},
            )
            outbound = OutboundMessage.objects.get()
            # The first attempt is refused for now: still queued, the attempt and its reason recorded.
            wait_until(lambda: OutboundMessage.objects.get().attempts == 1, 30, log.read_text)
            first = OutboundMessage.objects.get()
            assert first.status == OutboundStatus.QUEUED and "Too Many Requests" in first.error
            conversation.refresh_from_db()
            assert conversation.status == ConversationStatus.OPEN
            # The worker tries again by itself after the backoff, and the send resolves the conversation.
            wait_until(
                lambda: Conversation.objects.get(pk=conversation.pk).status == ConversationStatus.RESOLVED,
                60,
                log.read_text,
            )
    finally:
        stub.stop()
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == (OutboundStatus.SENT, 2)
    assert len(stub.requests) == 2
