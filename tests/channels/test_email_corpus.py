"""Every mail in channels_app/adapters/email/fixtures through the real webhook and pipeline, with its own
expectations."""

from __future__ import annotations

import time

import pytest

from channels_app.adapters.api import sign
from channels_app.email.parse import parse_mail
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from profiles.models import Customer
from tests.pipeline import fixture_bytes, fixture_names, post_webhook, process_all
from tickets.models import Attachment, AttachmentStatus, Conversation, ConversationStatus, Message

pytestmark = pytest.mark.django_db
SECRET = "mail-inbound-secret-0123456789"

# fixture: (sender, display name, subject, visible text, full text kept?, automated, charset)
# Visible text is the start of what the agent sees; None for mails that must fail.
MAILS: dict[str, tuple] = {
    "autoreply__outlook_ooo_pl.eml": (
        "anna.wisniewska@firma.pl",
        "Anna Wiśniewska",
        "Automatyczna odpowiedź: Re: Faktura",
        "Dzień dobry,",
        False,
        "auto_reply",
        "utf-8",
    ),
    "autoreply__rfc3834_sieve_vacation.eml": (
        "marta.zielinska@example.pl",
        "Marta Zielińska",
        "Auto: Re: Zwrot 7781",
        "Dzień dobry,",
        False,
        "auto_reply",
        "utf-8",
    ),
    "bounce__exchange_online_rfc822.eml": (
        "postmaster@firma.onmicrosoft.com",
        "",
        "Undeliverable: Faktura korygujaca",
        "Your message to a.nowak@firma.pl",
        False,
        "bounce",
        "us-ascii",
    ),
    "bounce__exim_plain_text.eml": (
        "mailer-daemon@mx1.hosting.example",
        "Mail Delivery System",
        "Mail delivery failed: returning message to sender",
        "This message was created automatically",
        False,
        "bounce",
        "us-ascii",
    ),
    "bounce__gmail_rfc822.eml": (
        "mailer-daemon@googlemail.com",
        "Mail Delivery Subsystem",
        "Delivery Status Notification (Failure)",
        "** Address not found **",
        False,
        "bounce",
        "utf-8",
    ),
    "bounce__postfix_rfc822_headers.eml": (
        "mailer-daemon@mail.shop.example",
        "Mail Delivery System",
        "Undelivered Mail Returned to Sender",
        "This is the mail system",
        False,
        "bounce",
        "utf-8",
    ),
    "reply__gmail_pl_wrapped_header.eml": (
        "jan.kowalski@gmail.com",
        "Jan Kowalski",
        "Re: Zamówienie 5512",
        "Dzień dobry,\n\npaczka nadal nie dotarła",
        True,
        "",
        "utf-8",
    ),
    "reply__gmail_ru_wrapped_header.eml": (
        "ivan.petrov.1987@gmail.com",
        "Иван Петров",
        "Re: Доставка 48213",
        "Добрый день!\n\nКурьер так и не приехал.",
        True,
        "",
        "utf-8",
    ),
    "apple_en_reply.eml": (
        "lucy.hart@icloud.com",
        "Lucy Hart",
        "Re: Size exchange",
        "Medium would be perfect.",
        True,
        "",
        "ascii",
    ),
    "apple_pl_reply.eml": (
        "piotr.zielinski@icloud.com",
        "Piotr Zieliński",
        "Re: Zwrot",
        "Odesłałem towar kurierem.",
        True,
        "",
        "utf-8",
    ),
    "attachment_cyrillic_rfc2231.eml": (
        "a.fedorov@mail.ru",
        "Алексей Фёдоров",
        "Документы",
        "Договор во вложении.",
        False,
        "",
        "utf-8",
    ),
    "attachment_dangerous_types.eml": (
        "someone@example.net",
        "Someone",
        "Files",
        "See files.",
        False,
        "",
        "utf-8",
    ),
    "attachment_oversized.eml": (
        "big@example.net",
        "Big Sender",
        "Video",
        "Video of the problem.",
        False,
        "",
        "utf-8",
    ),
    "attachment_pdf.eml": (
        "laura.chen@gmail.com",
        "Laura Chen",
        "Receipt attached",
        "Receipt attached.",
        False,
        "",
        "utf-8",
    ),
    "autoreply_auto_submitted.eml": (
        "rachel@green.example",
        "Rachel Green",
        "Automatic reply: Your order",
        "I am out of the office",
        False,
        "auto_reply",
        "utf-8",
    ),
    "autoreply_outlook_headers.eml": (
        "greg@hospital.example",
        "Greg House",
        "Automatic reply: Ticket",
        "I'm away.",
        False,
        "auto_reply",
        "utf-8",
    ),
    "autoreply_pl_subject.eml": (
        # A subject alone is no proof (customers write "Nieobecność…" too): a person's mail, to be read.
        "tomasz@mazur.pl",
        "Tomasz Mazur",
        "Autoodpowiedź: Zamówienie",
        "Jestem na urlopie",
        False,
        "",
        "utf-8",
    ),
    "autoreply_ru_subject.eml": (
        "elena@novikova.ru",
        "Елена Новикова",
        "Автоответ: Заказ",
        "Я в отпуске",
        False,
        "auto_reply",
        "utf-8",
    ),
    "bad_charset_label.eml": (
        "broken@old.example",
        "Broken",
        "Hello",
        "Hello, plain ASCII body",
        False,
        "",
        "utf-8",
    ),
    "base64_utf8_body.eml": (
        "maria.popova@gmail.com",
        "Maria Popova",
        "Question",
        "Здравствуйте! Есть ли этот товар",
        False,
        "",
        "utf-8",
    ),
    "bounce_dsn.eml": (
        "mailer-daemon@mx.shop.example",
        "",
        "Undelivered Mail Returned to Sender",
        "This is the mail system",
        False,
        "bounce",
        "ascii",
    ),
    "cp1250_mislabelled_win.eml": (
        "jan@wp.pl",
        "Jan Kaczmarek",
        "Adres",
        "Dziękuję za szybką odpowiedź.",
        False,
        "",
        "cp1250",
    ),
    "cp1251_declared.eml": (
        "ivan.orlov@rambler.ru",
        "Иван Орлов",
        "Не работает оплата",
        "Здравствуйте! При оплате картой",
        False,
        "",
        "cp1251",
    ),
    "deeply_nested.eml": None,
    "forwarded_rfc822.eml": (
        "assistant@client.example",
        "Assistant",
        "Fwd: Complaint",
        "Forwarding my manager's complaint.",
        False,
        "",
        "ascii",
    ),
    "garbage_not_mime.eml": None,
    "gmail_en_reply.eml": (
        "emma.clarke@gmail.com",
        "Emma Clarke",
        "Re: Order #48213 delayed",
        "Thanks, that works for me. Could you ship to my office instead?\n\nEmma",
        True,
        "",
        "utf-8",
    ),
    "gmail_en_wrapped_header.eml": (
        "oliver.grant@gmail.com",
        "Oliver Grant",
        "Re: Refund",
        "Still waiting for the refund.",
        True,
        "",
        "utf-8",
    ),
    "gmail_html_alternative.eml": (
        "grace.lee@gmail.com",
        "Grace Lee",
        "Broken zipper",
        "The zipper broke after two days.",
        False,
        "",
        "utf-8",
    ),
    "gmail_pl_reply.eml": (
        "katarzyna.nowak@gmail.com",
        "Katarzyna Nowak",
        "Re: Zamówienie 5512",
        "Dzień dobry, paczka jeszcze nie dotarła. Proszę o sprawdzenie.\n\nPozdrawiam\nKasia",
        True,
        "",
        "utf-8",
    ),
    "gmail_ru_reply.eml": (
        "dmitry.sokolov@gmail.com",
        "Дмитрий Соколов",
        "Re: Заказ 48213",
        "Добрый день! Курьер так и не приехал.",
        True,
        "",
        "utf-8",
    ),
    "gmail_ru_wrote.eml": (
        "olga.ivanova@gmail.com",
        "Ольга Иванова",
        "Re: Возврат",
        "Спасибо, деньги пришли.",
        True,
        "",
        "utf-8",
    ),
    "html_only_newsletter_style.eml": (
        "hannah@wright.example",
        "Hannah Wright",
        "Feedback",
        "Great service, thank you!\nHannah",
        False,
        "",
        "utf-8",  # the charset of the HTML part
    ),
    "inline_cid_image.eml": (
        "nina.park@icloud.com",
        "Nina Park",
        "Error screen",
        "Screenshot below.",
        False,
        "",
        "utf-8",
    ),
    "iso8859_2_declared.eml": (
        "zofia@onet.pl",
        "Zofia Kowalczyk",
        "Zażółć gęślą jaźń",
        "Proszę o zmianę adresu dostawy na Łódź, ul. Żeromskiego 5.",
        False,
        "",
        "iso8859-2",
    ),
    "koi8r_declared.eml": (
        "belov@list.ru",
        "Николай Белов",
        "Счёт на оплату",
        "Прошу выставить счёт на организацию.",
        False,
        "",
        "koi8-r",
    ),
    "mailru_ru_reply.eml": (
        "anna.kuznetsova@mail.ru",
        "Анна Кузнецова",
        "Re: Гарантия",
        "Чек приложу позже.",
        True,
        "",
        "utf-8",
    ),
    "missing_message_id.eml": (
        "noid@example.org",
        "No Id",
        "No message id",
        "This mail has no Message-ID header.",
        False,
        "",
        "utf-8",
    ),
    "outlook_en_original_message.eml": (
        "tom.baker@contoso.com",
        "Tom Baker",
        "RE: Delivery",
        "Please call me tomorrow.",
        True,
        "",
        "utf-8",
    ),
    "outlook_en_reply.eml": (
        "sarah.miller@outlook.com",
        "Sarah Miller",
        "RE: Invoice question",
        "Hi, the VAT number on the invoice is wrong.\n\nBest regards,\nSarah",
        True,
        "",
        "utf-8",
    ),
    "outlook_pl_reply.eml": (
        "anna.wisniewska@firma.pl",
        "Anna Wiśniewska",
        "ODP: Faktura",
        "Proszę o korektę faktury na NIP 525-000-00-00.",
        True,
        "",
        "utf-8",
    ),
    "outlook_ru_reply.eml": (
        "igor.smirnov@company.ru",
        "Игорь Смирнов",
        "RE: Счёт",
        "Оплату провели сегодня.",
        True,
        "",
        "utf-8",
    ),
    "rfc2047_q_polish.eml": (
        "lukasz.wojcik@interia.pl",
        "Łukasz Wójcik",
        "Pytanie o dostawę – pilne",
        "Czy dostawa w sobotę jest możliwa?",
        False,
        "",
        "utf-8",
    ),
    "rfc2047_split_words.eml": (
        "e.volkova@yandex.ru",
        "Екатерина Волкова",
        "Вопрос по доставке",
        "Подскажите сроки доставки в Казань.",
        False,
        "",
        "utf-8",
    ),
    "signature_only_ru.eml": (
        "v.lebedev@bk.ru",
        "Виктор Лебедев",
        "Вопрос",
        "Есть ли доставка в Минск?",
        True,
        "",
        "utf-8",
    ),
    "threaded_reply_references.eml": (
        "emma.clarke@gmail.com",
        "Emma Clarke",
        "Re: Re: Order #48213 delayed",
        "One more thing: please gift-wrap it.",
        False,
        "",
        "utf-8",
    ),
    "thunderbird_en_reply.eml": (
        "mark@evans.example",
        "Mark Evans",
        "Re: Warranty",
        "The serial number is SN-55102.",
        True,
        "",
        "utf-8",
    ),
    "thunderbird_pl_reply.eml": (
        "marek@lewandowski.pl",
        "Marek Lewandowski",
        "Re: Reklamacja",
        "Zdjęcia uszkodzenia w załączeniu wyślę jutro.",
        True,
        "",
        "iso8859-2",
    ),
    "thunderbird_ru_original.eml": (
        "pavel@morozov.example",
        "Павел Морозов",
        "Re: Возврат",
        "Номер заказа 77120.",
        True,
        "",
        "utf-8",
    ),
    "undeclared_8bit_cp1251.eml": (
        "user@old.example",
        "Old Mailer",
        "Order",
        "Добрый день, где мой заказ? Жду уже неделю.",
        False,
        "",
        "cp1251",
    ),
    "undeclared_8bit_koi8r.eml": (
        "user@old.example",
        "Old Mailer",
        "Order",
        "Добрый день, где мой заказ? Жду уже неделю.",
        False,
        "",
        "koi8_r",
    ),
    "undeclared_8bit_utf8.eml": (
        "user@old.example",
        "Old Mailer",
        "Order",
        "Dzień dobry, gdzie jest moja paczka?",
        False,
        "",
        "utf-8",
    ),
    "bounce_sendmail_local_daemon.eml": (
        # Sendmail's "<MAILER-DAEMON>" has no domain; the host comes from the bounce's Message-ID.
        "mailer-daemon@relay.partner.example",
        "Mail Delivery Subsystem",
        "Returned mail: see transcript for details",
        "The original message was received at",
        False,
        "bounce",
        "ascii",
    ),
    "raw_8bit_headers_koi8r.eml": (
        # Unencoded KOI8-R in From and Subject, ALL CAPS subject included.
        "petr@old-isp.example",
        "Пётр Смирнов",
        "ЗАКАЗ НЕ ПРИШЁЛ",
        "Заказ 48290 оплачен неделю назад",
        False,
        "",
        "koi8_r",
    ),
    "rfc2047_mislabelled_charsets.eml": (
        # KOI8-R name, UTF-8 subject split inside "ё", then a word labelled "win-1251".
        "buh@kontora.example",
        "Бухгалтерия",
        "Счёт на оплату №2231",
        "Здравствуйте!\n\nПрошу выставить счёт на оплату по договору 2231.",
        True,
        "",
        "cp1251",
    ),
    "rfc2047_unterminated_subject.eml": (
        # Q word with raw spaces in the name; the subject's last B word lost its "?=".
        "gosia.lis@o2.pl",
        "Małgorzata Lis",
        "Reklamacja buta – rozmiar 38 żle",
        "Prawy but ma źle przyszytą podeszwę.",
        False,
        "",
        "utf-8",
    ),
    "unknown_8bit_label.eml": (
        "legacy@old.example",
        "Legacy",
        "Pytanie",
        "Czy mogę zapłacić przy odbiorze? Źle wpisałem kod.",
        False,
        "",
        "iso8859_2",
    ),
    "uppercase_sender.eml": (
        "john.smith@example.com",
        "Mixed Case",
        "Case",
        "Address case should not create",
        False,
        "",
        "utf-8",
    ),
    "xss_encoded_entities.eml": ("mallory@evil.example", "Attacker", "Entities", "ab", False, "", "utf-8"),
    "xss_script.eml": ("mallory@evil.example", "Attacker", "Hi", "Hello", False, "", "utf-8"),
    "xss_svg_css.eml": (
        "mallory@evil.example",
        "Attacker",
        "Hi again",
        "styled\nvisible",
        False,
        "",
        "utf-8",
    ),
    "yandex_ru_reply.eml": (
        "s.petrov@yandex.ru",
        "Сергей Петров",
        "Re: Доставка",
        "Можно перенести доставку на субботу?",
        True,
        "",
        "utf-8",
    ),
}
FAILURES = {
    "deeply_nested.eml": "MIME nesting deeper than 30 levels",
    "garbage_not_mime.eml": "not an email",
}
# Nothing that can run or load from elsewhere survives sanitizing.
DANGEROUS = ("<script", "onerror", "onload", "onmouseover", "javascript:", "<svg", "<iframe", "<form",
             "style=", "<style", "@import", "data:text/html", "<base", "<math")  # fmt: skip


@pytest.fixture
def channel(db):
    return do_create_channel(
        kind="email",
        name="Support mailbox",
        address="support@shop.example",
        credentials={"inbound_webhook_secret": SECRET},
    )


def deliver_raw(client, channel, raw: bytes, *, secret: str = SECRET):
    ts = str(int(time.time()))
    return post_webhook(
        client,
        "email",
        channel.pk,
        raw,
        content_type="message/rfc822",
        HTTP_X_CXM_TIMESTAMP=ts,
        HTTP_X_CXM_SIGNATURE=sign(secret, ts, raw),
    )


def test_every_fixture_has_expectations():
    assert sorted(MAILS) == fixture_names("email", ".eml")
    assert len(MAILS) >= 40


@pytest.mark.parametrize("name", sorted(MAILS))
def test_mail(client, channel, name):
    assert deliver_raw(client, channel, fixture_bytes("email", name)).status_code == 200
    (event,) = process_all()
    expected = MAILS[name]
    if expected is None:
        assert event.status == InboundStatus.FAILED
        assert FAILURES[name] in event.error
        assert bytes(event.body) == fixture_bytes("email", name)  # kept for a replay after a fix
        return
    sender, display, subject, text, cut, automated, charset = expected
    assert event.status == InboundStatus.DONE, event.error
    if automated:
        # Machines never open a conversation nor get a profile; with no mail of ours to refer to, the
        # stored delivery and its outcome are all that is kept.
        parsed = parse_mail(bytes(event.body))
        assert (parsed.automated, parsed.sender.value, parsed.subject) == (automated, sender, subject)
        assert parsed.text.startswith(text), parsed.text
        assert not Message.objects.exists() and not Conversation.objects.exists()
        assert not Customer.objects.exists()
        assert "no conversation or customer created" in event.outcome, event.outcome
        return
    message = Message.objects.select_related("conversation__customer").get()
    # A phone number in the signature is revealed as a second identity; the sender is the e-mail one.
    identity = message.conversation.customer.identities.get(kind="email")
    assert (identity.kind, identity.value) == ("email", sender)
    assert message.conversation.customer.name == (display or message.conversation.customer.name)
    assert message.subject == subject
    assert message.body.startswith(text), message.body
    assert bool(message.full_text) is cut
    if cut:
        assert message.full_text.startswith(message.body) and len(message.full_text) > len(message.body)
    assert message.metadata.get("automated", "") == ""
    if charset:
        assert charset in message.metadata["charsets"]
    for needle in DANGEROUS:
        assert needle not in message.html.lower(), needle


def test_xss_corpus_keeps_the_harmless_text(client, channel):
    deliver_raw(client, channel, fixture_bytes("email", "xss_svg_css.eml"))
    process_all()
    html = Message.objects.get().html
    assert "<p>visible</p>" in html and "<div>styled</div>" in html


def test_inline_cid_image_is_kept_and_unknown_cids_are_dropped(client, channel):
    deliver_raw(client, channel, fixture_bytes("email", "inline_cid_image.eml"))
    process_all()
    message = Message.objects.get()
    assert 'src="cid:shot1@apple"' in message.html
    assert "cid:missing@x" not in message.html
    (image,) = Attachment.objects.filter(message=message)
    assert (image.content_id, image.content_type, image.status) == ("shot1@apple", "image/png", "stored")
    assert image.file.read().startswith(b"\x89PNG")


def test_attachments_are_stored_with_safe_names_and_types(client, channel, settings):
    settings.MAX_ATTACHMENT_BYTES = 200_000
    for name in ("attachment_pdf.eml", "attachment_cyrillic_rfc2231.eml", "attachment_dangerous_types.eml",
                 "attachment_oversized.eml"):  # fmt: skip
        deliver_raw(client, channel, fixture_bytes("email", name))
    process_all()
    stored = {a.filename: a for a in Attachment.objects.all()}
    assert stored["receipt.pdf"].content_type == "application/pdf"
    assert stored["receipt.pdf"].file.read().startswith(b"%PDF")
    # RFC 2231 name decoded; "№" is not a safe file-name character.
    assert stored["Договор _8.pdf"].file.read().startswith(b"%PDF")
    # Executables and HTML are kept as opaque downloads, and the path in the name is gone.
    assert stored["setup.exe"].content_type == "application/octet-stream"
    assert stored["page.html"].content_type == "application/octet-stream"
    video = stored["problem.mp4"]
    assert (video.status, video.reason) == (AttachmentStatus.SKIPPED, "larger than 0 MB")
    assert not video.file


def test_duplicate_delivery_is_stored_once(client, channel):
    raw = fixture_bytes("email", "gmail_en_reply.eml")
    for _ in range(3):
        assert deliver_raw(client, channel, raw).status_code == 200
    events = process_all()
    assert len(events) == 1 and events[0].dedup_key == "message-id:<CAF7k2Lw9x=emma.1@mail.gmail.com>"
    assert Message.objects.count() == 1


def test_missing_message_id_gets_a_stable_generated_one(client, channel):
    raw = fixture_bytes("email", "missing_message_id.eml")
    deliver_raw(client, channel, raw)
    deliver_raw(client, channel, raw)
    process_all()
    (message,) = Message.objects.all()
    assert message.provider_message_id.endswith("@generated.cxm>")


def test_reply_threads_onto_the_earlier_mail_by_in_reply_to(client, channel):
    deliver_raw(client, channel, fixture_bytes("email", "gmail_en_reply.eml"))
    process_all()
    first = Message.objects.get()
    first.conversation.status = ConversationStatus.RESOLVED
    first.conversation.save()
    deliver_raw(client, channel, fixture_bytes("email", "threaded_reply_references.eml"))
    process_all()
    second = Message.objects.exclude(pk=first.pk).get()
    assert second.conversation_id == first.conversation_id
    second.conversation.refresh_from_db()
    assert second.conversation.status == ConversationStatus.OPEN


def test_bounce_names_the_mail_that_bounced_and_opens_nothing(client, channel):
    # More on bounces and auto-replies, with mail we really sent, in test_email_automated.py.
    raw = fixture_bytes("email", "bounce_dsn.eml")
    assert parse_mail(raw).in_reply_to[0] == "<reply-2002@shop.example>"
    deliver_raw(client, channel, raw)
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not Message.objects.exists() and not Customer.objects.exists()
    assert "<reply-2002@shop.example>" in event.outcome


def test_uppercase_and_lowercase_addresses_are_one_customer(client, channel):
    raw = fixture_bytes("email", "uppercase_sender.eml")
    deliver_raw(client, channel, raw)
    deliver_raw(client, channel, raw.replace(b"John.SMITH@Example.COM", b"john.smith@example.com").replace(
        b"<case-1@example.com>", b"<case-2@example.com>"))  # fmt: skip
    process_all()
    assert Message.objects.values("conversation__customer").distinct().count() == 1


def test_bad_signature_is_refused_and_nothing_is_stored(client, channel):
    raw = fixture_bytes("email", "gmail_en_reply.eml")
    assert deliver_raw(client, channel, raw, secret="wrong").status_code == 403
    response = post_webhook(client, "email", channel.pk, raw, content_type="message/rfc822")
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


def mailgun_form(raw: bytes, key: str = SECRET, *, timestamp: str | None = None) -> dict[str, str]:
    import hashlib
    import hmac

    ts = timestamp or str(int(time.time()))
    import secrets

    # A fresh token per post, as Mailgun sends: a token is accepted once.
    token = secrets.token_hex(25)
    signature = hmac.new(key.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": ts, "token": token, "signature": signature, "body-mime": raw.decode("utf-8"),
            "recipient": "support@shop.example", "sender": "emma.clarke@gmail.com"}  # fmt: skip


def test_mailgun_forwarded_mime(client, channel):
    raw = fixture_bytes("email", "gmail_pl_reply.eml")
    response = client.post(f"/webhooks/email/{channel.pk}/", mailgun_form(raw))
    assert response.status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.DONE and event.content_type == "message/rfc822"
    assert bytes(event.body) == raw
    assert Message.objects.get().body.startswith("Dzień dobry")


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda raw: mailgun_form(raw, "other-key"), id="wrong-key"),
        pytest.param(lambda raw: mailgun_form(raw, timestamp="1600000000"), id="stale"),
        pytest.param(
            lambda raw: {k: v for k, v in mailgun_form(raw).items() if k != "signature"}, id="unsigned"
        ),
    ],
)
def test_mailgun_bad_signature(client, channel, form):
    raw = fixture_bytes("email", "gmail_pl_reply.eml")
    assert client.post(f"/webhooks/email/{channel.pk}/", form(raw)).status_code == 403
    assert not InboundEvent.objects.exists()


def multipart_form(fields: dict[str, str | bytes], boundary: str = "----MailgunBoundary7MA4YWxk") -> bytes:
    """A multipart/form-data body byte for byte, so 8-bit mail bytes reach the server untouched."""
    parts = []
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else value.encode()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def test_mailgun_mime_keeps_8bit_bytes_of_an_undeclared_charset(client, channel):
    raw = fixture_bytes("email", "raw_8bit_headers_koi8r.eml")
    form = {**mailgun_form(b""), "body-mime": raw}
    response = post_webhook(
        client,
        "email",
        channel.pk,
        multipart_form(form),
        content_type="multipart/form-data; boundary=----MailgunBoundary7MA4YWxk",
    )
    assert response.status_code == 200
    (event,) = process_all()
    assert bytes(event.body) == raw and event.dedup_key == "message-id:<20261117084000.3F1A@old-isp.example>"
    message = Message.objects.get()
    assert (message.subject, message.body) == (
        "ЗАКАЗ НЕ ПРИШЁЛ",
        raw.decode("koi8-r").split("\r\n\r\n")[1].strip(),
    )


def test_mailgun_urlencoded_mime_is_read_from_the_raw_bytes(client, channel):
    from urllib.parse import quote_from_bytes

    raw = fixture_bytes("email", "undeclared_8bit_cp1251.eml")
    fields = {k: v for k, v in mailgun_form(b"").items() if k != "body-mime"}
    body = (
        "&".join(f"{k}={v}" for k, v in fields.items()).encode()
        + b"&body-mime="
        + quote_from_bytes(raw).encode()
    )
    assert (
        post_webhook(
            client, "email", channel.pk, body, content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    (event,) = process_all()
    assert bytes(event.body) == raw
    assert "cp1251" in Message.objects.get().metadata["charsets"]


def test_mailgun_route_without_mime_is_read_from_the_parsed_fields(client, channel):
    # Mailgun's parsed-fields post (no "…/mime" on the route) is kept as it came and turned into a mail by
    # anymail in the worker (more shapes in test_email_esp.py).
    import json

    fields = {k: v for k, v in mailgun_form(b"").items() if k != "body-mime"}
    headers = [["From", "Emma <emma.clarke@gmail.com>"], ["To", "support@shop.example"], ["Subject", "Hello"],
               ["Message-Id", "<CAF7k2Lw9x=parsed.1@mail.gmail.com>"]]  # fmt: skip
    fields.update({"subject": "Hello", "body-plain": "Hi there", "from": "Emma <emma.clarke@gmail.com>",
                   "message-headers": json.dumps(headers)})  # fmt: skip
    assert client.post(f"/webhooks/email/{channel.pk}/", fields).status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.DONE, event.error
    assert event.content_type.startswith("multipart/form-data; boundary=")
    assert event.dedup_key == "message-id:<CAF7k2Lw9x=parsed.1@mail.gmail.com>"
    message = Message.objects.get()
    assert (message.subject, message.body) == ("Hello", "Hi there")
