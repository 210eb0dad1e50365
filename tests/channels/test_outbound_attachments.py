"""Reply attachments on the wire: each adapter sends a stored file the way its provider documents, checked
against local stub servers (HTTP) and a real SMTP server."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.outbound_media import MediaRefusal, OutgoingFile, check_outgoing_files
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from tests.stubs.smtp import SmtpStub
from tickets.models import Attachment, Conversation
from tickets.replies import ReplyError, do_send_reply
from tickets.webchat.history import chat_message

pytestmark = pytest.mark.django_db
PUBLIC = "https://cx.example.com"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE_NUMBER_ID = "110384756291047"
WAMID = "wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBJBQkNERUYxMjM0NTY3ODkwAA=="
TG_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def agent(make_user):
    return make_user(Role.AGENT)


def conversation_on(channel, kind: str, value: str) -> Conversation:
    customer = Customer.objects.create(name="Anna Kowalska")
    Identity.objects.create(customer=customer, kind=kind, value=value)
    now = timezone.now()
    return Conversation.objects.create(
        customer=customer, channel=channel, subject="Invoice", created_at=now, last_activity_at=now
    )


def png(name="receipt.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="invoice.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def reply(agent, conversation, channel, files, text="Here you go") -> OutboundMessage:
    message = do_send_reply(
        conversation=conversation, author=agent, channel=channel, text=text, attachments=files
    )
    return OutboundMessage.objects.get(message=message)


def sent(outbound: OutboundMessage) -> OutboundMessage:
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    outbound.refresh_from_db()
    return outbound


def link(outbound: OutboundMessage, index: int = 0) -> str:
    url = outbound.payload["attachments"][index]["url"]
    assert url.startswith(f"{PUBLIC}/files/")
    return url


# --- Twilio ----------------------------------------------------------------------------------------


@pytest.fixture
def twilio_stub(provider_stub):
    stub = provider_stub("twilio")
    stub.route(
        "POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": "SM" + "c" * 32})
    )
    return stub


TWILIO = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}


def test_twilio_mms_sends_every_file_as_a_media_url(agent, twilio_stub):
    sms = do_create_channel(kind="sms", name="SMS", address="+48732100200", credentials=TWILIO)
    outbound = reply(
        agent, conversation_on(sms, IdentityKind.PHONE, "+48601234567"), sms, [png("a.png"), png("b.png")]
    )
    sent(outbound)
    form = parse_qs(twilio_stub.requests[0].body.decode())
    assert form["MediaUrl"] == [link(outbound, 0), link(outbound, 1)]
    assert form["Body"] == ["Here you go"]


def test_twilio_whatsapp_file_without_text(agent, twilio_stub):
    wa = do_create_channel(
        kind="whatsapp", name="WA", address="+48732100300", config={"provider": "twilio"}, credentials=TWILIO
    )
    conversation = conversation_on(wa, IdentityKind.WHATSAPP, "+48601234567")
    say_inbound(conversation, wa)
    outbound = sent(reply(agent, conversation, wa, [pdf()], text=""))
    form = parse_qs(twilio_stub.requests[0].body.decode())
    assert form["MediaUrl"] == [link(outbound)]
    assert "Body" not in form
    assert form["To"] == ["whatsapp:+48601234567"]


def say_inbound(conversation, channel):
    from tickets.models import Message

    Message.objects.create(
        conversation=conversation, channel=channel, direction="in", body="hi", created_at=timezone.now()
    )


# --- Meta: WhatsApp Cloud, Messenger, Instagram ----------------------------------------------------


@pytest.fixture
def meta_stub(provider_stub):
    stub = provider_stub("meta")
    stub.route("POST", f"/{PHONE_NUMBER_ID}/messages", lambda r: (200, {"messages": [{"id": WAMID}]}))
    stub.route(
        "POST",
        "/me/messages",
        lambda r: (200, {"recipient_id": "1", "message_id": f"m_{len(stub.requests)}"}),
    )
    return stub


@pytest.fixture
def cloud_wa():
    return do_create_channel(
        kind="whatsapp",
        name="Cloud WA",
        config={"provider": "meta", "phone_number_id": PHONE_NUMBER_ID},
        credentials={"access_token": "EAAGtoken", "app_secret": "s", "verify_token": "v"},
    )


def test_whatsapp_cloud_image_goes_by_link_with_the_text_as_caption(agent, meta_stub, cloud_wa):
    conversation = conversation_on(cloud_wa, IdentityKind.WHATSAPP, "48601234567")
    say_inbound(conversation, cloud_wa)
    outbound = sent(reply(agent, conversation, cloud_wa, [png()]))
    (request,) = meta_stub.requests
    assert request.json() == {
        "messaging_product": "whatsapp",
        "to": "48601234567",
        "type": "image",
        "image": {"link": link(outbound), "caption": "Here you go"},
    }
    assert outbound.provider_message_id == WAMID


def test_whatsapp_cloud_document_keeps_its_filename(agent, meta_stub, cloud_wa):
    conversation = conversation_on(cloud_wa, IdentityKind.WHATSAPP, "48601234567")
    say_inbound(conversation, cloud_wa)
    outbound = sent(reply(agent, conversation, cloud_wa, [pdf("Faktura 03.pdf")], text=""))
    assert meta_stub.requests[0].json()["document"] == {"link": link(outbound), "filename": "Faktura 03.pdf"}


def test_whatsapp_file_needs_the_window_like_free_text(agent, cloud_wa):
    conversation = conversation_on(cloud_wa, IdentityKind.WHATSAPP, "48601234567")
    with pytest.raises(ReplyError, match="template"):
        reply(agent, conversation, cloud_wa, [png()])
    assert not OutboundMessage.objects.exists()


def test_messenger_sends_the_text_then_the_file_as_an_attachment(agent, meta_stub):
    page = do_create_channel(
        kind="messenger", name="Page", config={"page_id": "1"}, credentials={"page_access_token": "EAAGpage"}
    )
    outbound = sent(reply(agent, conversation_on(page, IdentityKind.MESSENGER, "6789"), page, [pdf()]))
    text, file = (r.json() for r in meta_stub.requests)
    assert text["message"] == {"text": "Here you go"}
    assert file == {
        "recipient": {"id": "6789"},
        "messaging_type": "RESPONSE",
        "message": {"attachment": {"type": "file", "payload": {"url": link(outbound), "is_reusable": False}}},
    }


def test_instagram_image_is_an_image_attachment(agent, meta_stub):
    ig = do_create_channel(
        kind="instagram", name="IG", address="1784", credentials={"page_access_token": "EAAGig"}
    )
    outbound = sent(reply(agent, conversation_on(ig, IdentityKind.INSTAGRAM, "9876"), ig, [png()], text=""))
    (request,) = meta_stub.requests
    assert request.json()["message"]["attachment"] == {
        "type": "image",
        "payload": {"url": link(outbound), "is_reusable": False},
    }


# --- Telegram --------------------------------------------------------------------------------------


@pytest.fixture
def telegram(provider_stub):
    stub = provider_stub("telegram")
    for method in ("sendMessage", "sendPhoto", "sendDocument"):
        stub.route("POST", rf"/bot.+/{method}", lambda r: (200, {"ok": True, "result": {"message_id": 77}}))
    channel = do_create_channel(
        kind="telegram", name="Bot", credentials={"bot_token": TG_TOKEN, "webhook_secret": "s"}
    )
    return channel, stub


def test_telegram_photo_by_url_with_caption(agent, telegram):
    channel, stub = telegram
    outbound = sent(
        reply(agent, conversation_on(channel, IdentityKind.TELEGRAM, "501234567"), channel, [png()])
    )
    (request,) = stub.requests
    assert request.path == f"/bot{TG_TOKEN}/sendPhoto"
    assert request.json() == {"chat_id": "501234567", "photo": link(outbound), "caption": "Here you go"}
    assert outbound.provider_message_id == "501234567:77"


def test_telegram_pdf_goes_as_a_document(agent, telegram):
    channel, stub = telegram
    outbound = sent(
        reply(agent, conversation_on(channel, IdentityKind.TELEGRAM, "501234567"), channel, [pdf()], text="")
    )
    (request,) = stub.requests
    assert request.path == f"/bot{TG_TOKEN}/sendDocument"
    assert request.json() == {"chat_id": "501234567", "document": link(outbound)}


def test_telegram_refuses_a_type_it_cannot_fetch_by_url(agent, telegram):
    channel, stub = telegram
    doc = SimpleUploadedFile(
        "notes.docx",
        b"PK\x03\x04",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    with pytest.raises(ReplyError, match="cannot send"):
        reply(agent, conversation_on(channel, IdentityKind.TELEGRAM, "501234567"), channel, [doc])
    assert not OutboundMessage.objects.exists() and not stub.requests


# --- Email, API, web chat ----------------------------------------------------------------------------


@pytest.fixture
def smtp():
    stub = SmtpStub().start()
    yield stub
    stub.stop()


def test_email_carries_the_files_as_mime_attachments(agent, smtp):
    mailbox = do_create_channel(
        kind="email",
        name="Support",
        address="support@shop.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
    )
    conversation = conversation_on(mailbox, IdentityKind.EMAIL, "anna@kowalska.test")
    sent(reply(agent, conversation, mailbox, [png(), pdf("Faktura.pdf")]))
    (mail,) = smtp.received
    files = {part.get_filename(): part for part in mail.message.iter_attachments()}
    assert files["receipt.png"].get_content_type() == "image/png"
    assert files["receipt.png"].get_content() == PNG
    assert files["Faktura.pdf"].get_content() == PDF
    assert mail.message.get_body(("plain",)).get_content().strip() == "Here you go"


def test_email_reads_the_files_from_storage_and_fails_for_good_once_they_are_gone(agent, smtp):
    mailbox = do_create_channel(
        kind="email",
        name="Support",
        address="support@shop.example",
        config={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"},
    )
    conversation = conversation_on(mailbox, IdentityKind.EMAIL, "anna@kowalska.test")
    outbound = reply(agent, conversation, mailbox, [pdf("Faktura.pdf")])
    (item,) = outbound.payload["attachments"]
    row = Attachment.objects.get(pk=item["id"])
    # The mail adapter reads the file by its storage name: it does not query the tickets' tables.
    assert item["storage_name"] == row.file.name
    row.file.delete(save=False)  # erased while the reply waited
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert f"attachment {row.pk} is no longer stored" in outbound.error
    assert smtp.received == []


def test_api_callback_gets_the_files_as_links(agent, provider_stub):
    stub = provider_stub("api")
    stub.route("POST", "/callback", lambda r: (200, {"ok": True}))
    api = do_create_channel(
        kind="api",
        name="App",
        config={"callback_url": f"{stub.url}/callback"},
        credentials={"signing_secret": "x" * 32},
    )
    outbound = sent(reply(agent, conversation_on(api, IdentityKind.EXTERNAL_ID, "user-42"), api, [pdf()]))
    (item,) = stub.requests[0].json()["attachments"]
    assert item == {
        "id": item["id"],
        "filename": "invoice.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "url": link(outbound),
    }


def test_web_chat_message_lists_the_files_as_links(agent):
    chat = do_create_channel(kind="webchat", name="Site")
    conversation = conversation_on(chat, IdentityKind.WEBCHAT, "v_" + "a" * 22)
    outbound = reply(agent, conversation, chat, [pdf()])
    shown = chat_message(outbound.message)
    assert [(a["filename"], a["url"].startswith(f"{PUBLIC}/files/")) for a in shown["attachments"]] == [
        ("invoice.pdf", True)
    ]


# --- Limits, per provider documentation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config", "content_type", "size", "ok"),
    [
        ("whatsapp", {"provider": "meta"}, "image/png", 5 * 1024 * 1024, True),
        ("whatsapp", {"provider": "meta"}, "image/png", 5 * 1024 * 1024 + 1, False),
        ("whatsapp", {"provider": "meta"}, "video/mp4", 16 * 1024 * 1024, True),
        ("whatsapp", {"provider": "meta"}, "application/zip", 10, False),
        ("whatsapp", {"provider": "twilio"}, "application/pdf", 16 * 1024 * 1024, True),
        ("sms", {}, "image/gif", 5 * 1024 * 1024 + 1, False),
        ("telegram", {}, "application/pdf", 20 * 1024 * 1024, True),
        ("telegram", {}, "application/pdf", 20 * 1024 * 1024 + 1, False),
        ("messenger", {}, "application/x-anything", 25 * 1024 * 1024, True),
        ("messenger", {}, "application/x-anything", 25 * 1024 * 1024 + 1, False),
        ("instagram", {}, "image/png", 8 * 1024 * 1024 + 1, False),
        ("email", {}, "application/zip", 20 * 1024 * 1024, True),
        ("email", {}, "application/zip", 20 * 1024 * 1024 + 1, False),
    ],
)
def test_documented_limits(kind, config, content_type, size, ok):
    files = [OutgoingFile("f", content_type, size)]
    if ok:
        check_outgoing_files(kind=kind, config=config, files=files)
    else:
        with pytest.raises(MediaRefusal):
            check_outgoing_files(kind=kind, config=config, files=files)
