"""Agent replies by email go out over real SMTP (a local aiosmtpd server) with threading headers."""

from __future__ import annotations

import pytest

from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import RetryLater, do_send
from channels_app.services import do_create_channel
from tests.channels.test_email_corpus import SECRET, deliver_raw
from tests.pipeline import fixture_bytes, process_all
from tests.stubs.smtp import SmtpStub
from tests.workers import free_port
from tickets.models import Message
from tickets.replies import do_send_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp():
    stub = SmtpStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def channel(db, smtp):
    return do_create_channel(
        kind="email",
        name="Support mailbox",
        address="support@shop.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
        credentials={"inbound_webhook_secret": SECRET},
    )


def customer_mail(client, channel, name: str) -> Message:
    deliver_raw(client, channel, fixture_bytes("email", name))
    process_all()
    return Message.objects.select_related("conversation").latest("id")


def test_reply_carries_threading_headers_and_the_next_customer_mail_threads_onto_it(
    client, channel, smtp, agent
):
    inbound = customer_mail(client, channel, "gmail_en_reply.eml")
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=channel, text="Done!")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT

    (mail,) = smtp.received
    sent = mail.message
    assert mail.recipients == ["emma.clarke@gmail.com"]
    assert sent["In-Reply-To"] == "<CAF7k2Lw9x=emma.1@mail.gmail.com>"
    assert "<CAF7k2Lw9x=emma.1@mail.gmail.com>" in sent["References"]
    assert sent["Subject"] == "Re: Order #48213 delayed"  # no "Re: Re:"
    assert sent["From"].addresses[0].addr_spec == "support@shop.example"
    assert sent.get_body(("plain",)).get_content().strip() == "Done!"
    outbound.refresh_from_db()
    assert outbound.provider_message_id == sent["Message-ID"]

    # The customer answers our mail: their client quotes our Message-ID, so it lands in the same thread
    # even though the conversation was resolved meanwhile.
    inbound.conversation.status = "resolved"
    inbound.conversation.save()
    answer = (
        fixture_bytes("email", "threaded_reply_references.eml")
        .replace(b"<CAF7k2Lw9x=emma.1@mail.gmail.com>", sent["Message-ID"].encode())
        .replace(b"<CAF7k2Lw9x=emma.7@mail.gmail.com>", b"<CAF7k2Lw9x=emma.8@mail.gmail.com>")
    )
    deliver_raw(client, channel, answer)
    process_all()
    assert Message.objects.latest("id").conversation_id == inbound.conversation_id


def test_non_ascii_subject_and_names_are_encoded(client, channel, smtp, agent):
    inbound = customer_mail(client, channel, "gmail_ru_reply.eml")
    channel.config["from_name"] = "Служба поддержки"
    channel.save()
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=channel, text="Уже едет.")
    do_send(outbound_id=OutboundMessage.objects.get(message=reply).pk)
    (mail,) = smtp.received
    assert b"=?utf-8?" in mail.data.split(b"\r\n\r\n")[0].lower()  # headers are RFC 2047, not raw 8-bit
    assert mail.message["Subject"] == "Re: Заказ 48213"
    assert mail.message["From"].addresses[0].display_name == "Служба поддержки"


def test_temporary_smtp_refusal_is_retried_and_kept_on_the_row(client, channel, smtp, agent):
    inbound = customer_mail(client, channel, "gmail_en_reply.eml")
    smtp.refuse_with = "451 4.3.0 Mailbox temporarily unavailable"
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=channel, text="Hi")
    outbound = OutboundMessage.objects.get(message=reply)
    with pytest.raises(RetryLater):
        do_send(outbound_id=outbound.pk)
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.QUEUED
    assert "451" in outbound.error


def test_permanent_smtp_refusal_fails_the_message(client, channel, smtp, agent):
    inbound = customer_mail(client, channel, "gmail_en_reply.eml")
    smtp.refuse_with = "550 5.1.1 No such user"
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=channel, text="Hi")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED and "550" in outbound.error


def test_unreachable_smtp_server_is_temporary(client, channel, agent):
    inbound = customer_mail(client, channel, "gmail_en_reply.eml")
    channel.config["smtp_port"] = free_port()  # nothing listens there
    channel.save()
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=channel, text="Hi")
    with pytest.raises(RetryLater):
        do_send(outbound_id=OutboundMessage.objects.get(message=reply).pk)
