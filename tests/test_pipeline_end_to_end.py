"""The whole path with a real Celery worker: chat, then email, one dialogue; replies out through the
channel the agent picks, with email threading headers."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from channels_app.adapters.api import sign
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from tests.pipeline import fixture_bytes
from tests.stubs.server import StubServer
from tests.stubs.smtp import SmtpStub
from tests.workers import celery_worker, wait_until
from tickets.models import Message
from tickets.replies import do_send_reply

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TG_SECRET = "tg-webhook-secret-0123456789"
TG_TOKEN = "7000000001:AAFakeTokenForTests"
MAIL_SECRET = "mail-inbound-secret-0123456789"


@pytest.fixture
def stubs():
    telegram = StubServer().start()
    telegram.route(
        "POST",
        f"/bot{TG_TOKEN}/sendMessage",
        lambda r: (200, {"ok": True, "result": {"message_id": 9001, "chat": {"id": r.json()["chat_id"]}}}),
    )
    smtp = SmtpStub().start()
    yield telegram, smtp
    telegram.stop()
    smtp.stop()


def test_chat_then_email_is_one_dialogue_and_replies_go_out_where_the_agent_chooses(
    stubs, settings, tmp_path, agent
):
    telegram_stub, smtp = stubs
    settings.PROVIDER_BASE_URLS = {**settings.PROVIDER_BASE_URLS, "telegram": telegram_stub.url}
    telegram = do_create_channel(
        kind="telegram", name="Bot", credentials={"bot_token": TG_TOKEN, "webhook_secret": TG_SECRET}
    )
    email = do_create_channel(
        kind="email",
        name="Mailbox",
        address="support@shop.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
        credentials={"inbound_webhook_secret": MAIL_SECRET},
    )
    # The company already knows both of this person's addresses.
    person = Customer.objects.create(name="Дмитрий Соколов")
    Identity.objects.create(customer=person, kind=IdentityKind.TELEGRAM, value="284716392")
    Identity.objects.create(customer=person, kind=IdentityKind.EMAIL, value="dmitry.sokolov@gmail.com")

    log = tmp_path / "worker.log"
    worker_env = {"TELEGRAM_API_BASE_URL": telegram_stub.url}
    with celery_worker(redis_url=settings.REDIS_URL, log=log, extra_env=worker_env):
        client = Client()
        chat = client.generic(
            "POST",
            f"/webhooks/telegram/{telegram.pk}/",
            fixture_bytes("telegram", "message__text.json"),
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TG_SECRET,
        )
        assert chat.status_code == 200
        wait_until(lambda: Message.objects.count() == 1, 30, log.read_text)

        raw = fixture_bytes("email", "gmail_ru_reply.eml")
        ts = str(int(time.time()))
        mail = client.generic(
            "POST",
            f"/webhooks/email/{email.pk}/",
            raw,
            content_type="message/rfc822",
            HTTP_X_CXM_TIMESTAMP=ts,
            HTTP_X_CXM_SIGNATURE=sign(MAIL_SECRET, ts, raw),
        )
        assert mail.status_code == 200
        wait_until(lambda: Message.objects.count() == 2, 30, log.read_text)

        first, second = Message.objects.order_by("id")
        assert first.conversation_id == second.conversation_id
        assert (first.channel_id, second.channel_id) == (telegram.pk, email.pk)
        assert first.conversation.customer_id == person.pk

        # The agent answers by email: the worker sends it through SMTP with threading headers.
        by_mail = do_send_reply(conversation=second.conversation, author=agent, channel=email, text="Едет!")
        wait_until(lambda: len(smtp.received) == 1, 30, log.read_text)
        sent = smtp.received[0].message
        assert smtp.received[0].recipients == ["dmitry.sokolov@gmail.com"]
        assert sent["In-Reply-To"] == "<CAF7k2Lw9x=dmitry.4@mail.gmail.com>"
        assert "<CAF7k2Lw9x=dmitry.4@mail.gmail.com>" in sent["References"]

        # ... and then in the chat: the Telegram stub receives it for the same person.
        by_chat = do_send_reply(conversation=second.conversation, author=agent, channel=telegram, text="Ок")
        wait_until(lambda: any("sendMessage" in r.path for r in telegram_stub.requests), 30, log.read_text)
        request = next(r for r in telegram_stub.requests if "sendMessage" in r.path)
        assert request.json() == {"chat_id": "284716392", "text": "Ок"}

        wait_until(
            lambda: (
                set(
                    OutboundMessage.objects.filter(message__in=[by_mail, by_chat]).values_list(
                        "status", flat=True
                    )
                )
                == {OutboundStatus.SENT}
            ),
            30,
            log.read_text,
        )
