"""Inbound mail from email service providers: Mailgun, SendGrid Inbound Parse and Postmark, each in the
shapes they document, through the real webhook and worker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time

import pytest

from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tickets.models import Attachment, Message

SECRET = "mailgun-signing-key-esp-0123456789"
BASIC_AUTH = "inbound-hook:Vw7pQ2xL9sR4tY8zK3"
# SendGrid's own boundary; the test gives the content type, the fixture file holds the body.
MULTIPART = "multipart/form-data; boundary=xYzZY"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"
# The shapes that authenticate with basic auth: (fixture, content type).
BASIC_AUTH_SHAPES = [
    pytest.param("sendgrid_parsed_pl.multipart", MULTIPART, id="sendgrid-parsed"),
    pytest.param("sendgrid_raw_cp1251.multipart", MULTIPART, id="sendgrid-raw"),
    pytest.param("postmark_parsed_ru.json", JSON, id="postmark-parsed"),
    pytest.param("postmark_raw_pl.json", JSON, id="postmark-raw"),
]


@pytest.fixture
def channel(db):
    return do_create_channel(
        kind="email",
        name="Support mailbox",
        address="support@shop.example",
        credentials={"inbound_webhook_secret": SECRET, "inbound_basic_auth": BASIC_AUTH},
    )


def auth(value: str = BASIC_AUTH) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(value.encode()).decode()}


def fixture(name: str) -> bytes:
    return fixture_bytes("email", f"esp/{name}")


def signed_mailgun(body: bytes, *, token: str | None = None) -> bytes:
    """The fixture with a fresh timestamp and token (Mailgun accepts each token once), signed again."""
    ts = str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(SECRET.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    body = re.sub(rb"(^|&)timestamp=\d+", rb"\g<1>timestamp=" + ts.encode(), body)
    body = re.sub(rb"(^|&)token=[0-9a-f]+", rb"\g<1>token=" + token.encode(), body)
    return re.sub(rb"(^|&)signature=[0-9a-f]+", rb"\g<1>signature=" + signature.encode(), body)


def deliver(client, channel, body: bytes, content_type: str, **headers: str):
    return post_webhook(client, "email", channel.pk, body, content_type=content_type, **headers)


def received() -> tuple[InboundEvent, Message]:
    (event,) = process_all()
    assert event.status == InboundStatus.DONE, event.error
    return event, Message.objects.select_related("conversation__customer").get()


def sender_of(message: Message) -> tuple[str, str]:
    customer = message.conversation.customer
    return customer.identities.get(kind="email").value, customer.name


def test_mailgun_parsed_fields(client, channel):
    body = signed_mailgun(fixture("mailgun_parsed_en.urlencoded"))
    assert deliver(client, channel, body, URLENCODED).status_code == 200
    event, message = received()
    assert (bytes(event.body), event.content_type) == (body, URLENCODED)
    assert event.dedup_key == (
        "message-id:<PAXPR83MB0521C3E1F0E2A1B4C9D7A6E5F8@PAXPR83MB0521.EURPRD83.prod.outlook.com>"
    )
    assert sender_of(message) == ("michael.turner@outlook.com", "Michael Turner")
    assert message.subject == "Order #10482 arrived damaged"
    assert message.body.startswith("Hello,\n\nMy order #10482 arrived this morning")
    assert "the ceramic mug inside is broken" in message.body
    assert message.provider_message_id.startswith("<PAXPR83MB0521C3E1")


def test_sendgrid_parsed_fields_with_an_attachment(client, channel):
    body = fixture("sendgrid_parsed_pl.multipart")
    assert deliver(client, channel, body, MULTIPART, **auth()).status_code == 200
    event, message = received()
    # Kept as it came, boundary included, so the worker (and a replay) can read the form again.
    assert (bytes(event.body), event.content_type) == (body, MULTIPART)
    assert event.dedup_key == "message-id:<20251117110205.4b7c1a9e@wp.pl>"
    assert sender_of(message) == ("k.wojcik@wp.pl", "Katarzyna Wójcik")
    assert message.subject == "Faktura do zamówienia 10511 - błędny NIP"
    # The text field is ISO-8859-2, as the charsets field says.
    assert message.body.startswith("Dzień dobry,\n\nw fakturze do zamówienia nr 10511 jest błędny NIP")
    (pdf,) = Attachment.objects.filter(message=message)
    assert (pdf.filename, pdf.content_type) == ("faktura-FV-2025-11-0412.pdf", "application/pdf")
    assert pdf.file.read().startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def test_sendgrid_raw_keeps_the_8bit_windows_1251_mail_byte_for_byte(client, channel):
    raw = fixture("sendgrid_raw_cp1251.eml")
    assert b"\xc7\xe4\xf0\xe0\xe2\xf1\xf2\xe2\xf3\xe9\xf2\xe5" in raw  # "Здравствуйте" in windows-1251
    body = fixture("sendgrid_raw_cp1251.multipart")
    assert deliver(client, channel, body, MULTIPART, **auth()).status_code == 200
    event, message = received()
    assert (bytes(event.body), event.content_type) == (raw, "message/rfc822")
    assert event.dedup_key == "message-id:<1763374844.291735@mail.yandex.ru>"
    assert sender_of(message) == ("o.smirnova@yandex.ru", "Ольга Смирнова")
    assert message.subject == "Заказ 10533: оплата прошла, статус не изменился"
    assert message.body.startswith("Здравствуйте!\n\nЯ оплатила заказ № 10533 ещё 12 ноября")
    assert "«ожидает оплаты»" in message.body


def test_postmark_parsed_fields_with_attachments(client, channel):
    body = fixture("postmark_parsed_ru.json")
    assert deliver(client, channel, body, JSON, **auth()).status_code == 200
    event, message = received()
    assert (bytes(event.body), event.content_type) == (body, JSON)
    assert event.dedup_key == "message-id:<1763383269.718204331@f512.i.mail.ru>"
    assert sender_of(message) == ("d.kuznetsov@mail.ru", "Дмитрий Кузнецов")
    assert message.subject == "Возврат товара по заказу 10547"
    assert message.body.startswith("Добрый день!\n\nХочу вернуть кроссовки из заказа 10547")
    stored = {a.filename: a for a in Attachment.objects.filter(message=message)}
    assert sorted(stored) == ["upakovka.png", "заявление_на_возврат.pdf"]
    expected = {a["Name"]: base64.b64decode(a["Content"]) for a in json.loads(body)["Attachments"]}
    for name, attachment in stored.items():
        assert attachment.file.read() == expected[name]
    assert stored["upakovka.png"].content_type == "image/png"


def test_postmark_raw_email(client, channel):
    body = fixture("postmark_raw_pl.json")
    assert deliver(client, channel, body, JSON, **auth()).status_code == 200
    event, message = received()
    assert (bytes(event.body), event.content_type) == (body, JSON)
    assert event.dedup_key == "message-id:<CAJ8wPq3nF0x=Tk2mZ7rHs5bV1yLq9@mail.gmail.com>"
    assert sender_of(message) == ("tomasz.lewandowski@gmail.com", "Tomasz Lewandowski")
    assert message.subject == "Zmiana adresu dostawy – zamówienie 10560"
    assert message.body.startswith("Dzień dobry,\n\nproszę o zmianę adresu dostawy zamówienia 10560")
    assert message.provider_message_id == "<CAJ8wPq3nF0x=Tk2mZ7rHs5bV1yLq9@mail.gmail.com>"


@pytest.mark.parametrize(("name", "content_type"), BASIC_AUTH_SHAPES)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param(auth("inbound-hook:wrong-password"), id="wrong"),
        pytest.param(auth(BASIC_AUTH.upper()), id="case"),
        pytest.param({"HTTP_AUTHORIZATION": "Basic !!not-base64!!"}, id="malformed"),
        pytest.param({"HTTP_AUTHORIZATION": "Bearer " + BASIC_AUTH}, id="not-basic"),
    ],
)
def test_wrong_or_missing_basic_auth_is_refused_and_nothing_is_stored(
    client, channel, name, content_type, headers
):
    assert deliver(client, channel, fixture(name), content_type, **headers).status_code == 403
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(("name", "content_type"), BASIC_AUTH_SHAPES)
def test_a_channel_without_basic_auth_refuses_sendgrid_and_postmark(client, db, name, content_type):
    # Only the webhook secret: raw MIME and Mailgun work, nothing that authenticates by basic auth.
    channel = do_create_channel(kind="email", name="Mail", credentials={"inbound_webhook_secret": SECRET})
    assert deliver(client, channel, fixture(name), content_type, **auth()).status_code == 403
    assert not InboundEvent.objects.exists()


def test_basic_auth_does_not_stand_in_for_a_mailgun_signature(client, channel):
    body = fixture("mailgun_parsed_en.urlencoded")  # signed, but long ago
    assert deliver(client, channel, body, URLENCODED, **auth()).status_code == 403
    assert not InboundEvent.objects.exists()


def test_a_form_from_no_known_esp_is_refused(client, channel):
    body = b"from=someone%40example.com&subject=Hello&text=Hi"
    assert deliver(client, channel, body, URLENCODED, **auth()).status_code == 403
    assert not InboundEvent.objects.exists()


# Postmark's bounce webhook, pointed at the inbound URL by mistake.
POSTMARK_BOUNCE = json.dumps(
    {"RecordType": "Bounce", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Type": "HardBounce",
     "TypeCode": 1, "Email": "nobody@example.com", "BouncedAt": "2025-11-17T10:04:12Z"}
).encode()  # fmt: skip


def _postmark(**changes) -> bytes:
    data = json.loads(fixture("postmark_parsed_ru.json"))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            b'{"FromFull": {"Email": "a@b.example"', "Postmark post that is not JSON", id="truncated"
        ),
        pytest.param(b"[1, 2, 3]", "not a Postmark inbound message", id="array"),
        pytest.param(b'{"hello": "world"}', "not a Postmark inbound message", id="other-object"),
        pytest.param(POSTMARK_BOUNCE, "Postmark's *Bounce* webhook", id="bounce-webhook"),
        pytest.param(
            _postmark(Attachments=[{"Name": "a.pdf", "Content": "%%% not base64", "ContentType": "x/y"}]),
            "could not read this Postmark post as a mail",
            id="bad-attachment",
        ),
        pytest.param(
            _postmark(FromFull="Дмитрий"), "could not read this Postmark post", id="from-not-object"
        ),
        pytest.param(_postmark(FromFull={"Email": "", "Name": ""}), "Invalid address", id="no-sender"),
    ],
)
def test_garbage_postmark_json_is_kept_and_fails_with_the_reason(client, channel, body, reason):
    assert deliver(client, channel, body, JSON, **auth()).status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert reason in event.error, event.error
    assert bytes(event.body) == body  # kept for a replay after a fix
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [*BASIC_AUTH_SHAPES, pytest.param("mailgun_parsed_en.urlencoded", URLENCODED, id="mailgun-parsed")],
)
def test_duplicate_delivery_is_stored_once(client, channel, name, content_type):
    for attempt in range(3):
        body = fixture(name)
        if name.startswith("mailgun"):
            # A Mailgun retry is signed again: another body, the same mail.
            body = signed_mailgun(body, token=f"{attempt:x}" * 50)
        assert deliver(client, channel, body, content_type, **auth()).status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.DONE, event.error
    assert Message.objects.count() == 1


def test_postmark_without_a_message_id_header_is_deduplicated_by_postmarks_id(client, channel):
    data = json.loads(fixture("postmark_parsed_ru.json"))
    data["Headers"] = [h for h in data["Headers"] if h["Name"] != "Message-ID"]
    for indent in (None, 2):  # the same delivery, serialised differently
        assert (
            deliver(client, channel, json.dumps(data, indent=indent).encode(), JSON, **auth()).status_code
            == 200
        )
    (event,) = process_all()
    assert event.dedup_key == "postmark:a8c1f3e2-5b7d-4e9a-9c61-2f0d7b3e4a15"
    # The generated Message-ID depends on the stored body only, so a replay gives the same one.
    assert Message.objects.get().provider_message_id.endswith("@generated.cxm>")


@pytest.mark.django_db(transaction=True)  # the ASGI writer commits on its own connection
def test_basic_auth_through_the_asgi_front_door():
    from channels_app.ingest import process_pending
    from tests.channels.test_webhook_asgi import call

    channel = do_create_channel(
        kind="email",
        name="Mail",
        credentials={"inbound_webhook_secret": SECRET, "inbound_basic_auth": BASIC_AUTH},
    )

    def request(name: str, content_type: str, user_password: str = BASIC_AUTH) -> tuple:
        body = fixture(name)
        headers = [
            (b"host", b"127.0.0.1"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", b"Basic " + base64.b64encode(user_password.encode())),
        ]
        return f"/webhooks/email/{channel.pk}/", body, headers

    responses = call(
        request("sendgrid_raw_cp1251.multipart", MULTIPART),
        request("postmark_parsed_ru.json", JSON),
        request("sendgrid_parsed_pl.multipart", MULTIPART, "inbound-hook:guess"),
    )
    assert [r["status"] for r in responses] == [200, 200, 403]
    assert sorted(InboundEvent.objects.values_list("content_type", flat=True)) == [JSON, "message/rfc822"]
    process_pending(limit=10)
    assert Message.objects.count() == 2
