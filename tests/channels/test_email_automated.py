"""Mail no person wrote (bounces, auto-replies) through the real webhook, worker and SMTP path: it never
opens a conversation or makes a customer, and lands on the conversation of the mail it refers to."""

from __future__ import annotations

import pytest

from channels_app.email.parse import parse_mail
from channels_app.email.quotes import split_reply
from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity
from tests.channels.test_email_corpus import SECRET, deliver_raw
from tests.pipeline import fixture_bytes, process_all
from tests.stubs.smtp import SmtpStub
from tickets.models import Attachment, Conversation, ConversationStatus, Message
from tickets.replies import do_send_reply

pytestmark = pytest.mark.django_db

# fixture: (the Message-ID of ours it returns, the status code, words of the diagnostic)
BOUNCES = {
    "bounce__postfix_rfc822_headers.eml": (
        "<176390280641.2214.1583920475510032@shop.example>",
        "5.1.1",
        "User unknown in virtual mailbox table",
    ),
    "bounce__exchange_online_rfc822.eml": (
        "<176390311020.2214.7719283554651092@shop.example>",
        "5.1.10",
        "RESOLVER.ADR.RecipientNotFound",
    ),
    "bounce__gmail_rfc822.eml": (
        "<176390322233.2214.9015532210448861@shop.example>",
        "5.1.1",
        "The email account that you tried to reach does not exist",
    ),
    "bounce__exim_plain_text.eml": (
        "<176390333344.2214.3300118850021177@shop.example>",
        "5.2.2",
        "Mailbox is full",
    ),
}
AUTO_REPLIES = {
    "autoreply__rfc3834_sieve_vacation.eml": "<176390344455.2214.4812290310016619@shop.example>",
    "autoreply__outlook_ooo_pl.eml": "<176390355566.2214.5512001133442231@shop.example>",
}


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


def answered_and_resolved(client, channel, agent) -> OutboundMessage:
    """A customer's mail, the agent's reply really sent over SMTP, and the conversation resolved."""
    deliver_raw(client, channel, fixture_bytes("email", "gmail_pl_reply.eml"))
    process_all()
    inbound = Message.objects.select_related("conversation").get()
    reply = do_send_reply(
        conversation=inbound.conversation, author=agent, channel=channel, text="Sprawdzamy."
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    Conversation.objects.filter(pk=inbound.conversation_id).update(
        status=ConversationStatus.RESOLVED, waiting_since=None
    )
    outbound.refresh_from_db()
    return outbound


def deliver_about(client, channel, name: str, fixture_id: str, outbound: OutboundMessage) -> InboundEvent:
    """The fixture, made to refer to the mail we really sent instead of the id it was written with."""
    raw = fixture_bytes("email", name).replace(fixture_id.encode(), outbound.provider_message_id.encode())
    assert deliver_raw(client, channel, raw).status_code == 200
    process_all()
    return InboundEvent.objects.latest("id")


@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_bounce_lands_on_the_reply_that_bounced_and_fails_it(client, channel, agent, name):
    fixture_id, status, words = BOUNCES[name]
    assert parse_mail(fixture_bytes("email", name)).in_reply_to[0] == fixture_id
    outbound = answered_and_resolved(client, channel, agent)
    conversation = outbound.message.conversation
    customers = list(Customer.objects.values_list("id", flat=True))

    event = deliver_about(client, channel, name, fixture_id, outbound)

    assert event.status == InboundStatus.DONE, event.error
    # No profile for mailer-daemon/postmaster, no new conversation, nothing reopened.
    assert list(Customer.objects.values_list("id", flat=True)) == customers
    assert not Identity.objects.filter(value__regex=r"^(mailer-daemon|postmaster)@").exists()
    assert Conversation.objects.get() == conversation
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED and conversation.waiting_since is None
    bounce = Message.objects.get(conversation=conversation, metadata__automated="bounce")
    assert bounce.metadata["bounce"]["status"] == status and bounce.inbound_event_id == event.pk
    # The reply is failed with the reason an agent can act on.
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED
    assert status in outbound.error and words in outbound.error, outbound.error
    assert f"attached to conversation {conversation.pk}" in event.outcome
    assert "marked failed" in event.outcome


def test_delivery_report_parts_are_not_stored_as_attachments(client, channel, agent):
    outbound = answered_and_resolved(client, channel, agent)
    for name in ("bounce__postfix_rfc822_headers.eml", "bounce__exchange_online_rfc822.eml"):
        deliver_about(client, channel, name, BOUNCES[name][0], outbound)
    bounces = Message.objects.filter(metadata__automated="bounce")
    assert bounces.count() == 2
    # Neither the report fields, the returned headers, nor the returned original's PDF.
    assert not Attachment.objects.filter(message__in=bounces).exists()
    assert not Attachment.objects.filter(filename__startswith="attachment").exists()
    for bounce in bounces:
        assert "Dzien dobry, w zalaczniku" not in bounce.body  # the returned original is not its text


def test_a_delay_warning_leaves_the_reply_as_it_was(client, channel, agent):
    name = "bounce__postfix_rfc822_headers.eml"
    outbound = answered_and_resolved(client, channel, agent)
    raw = (
        fixture_bytes("email", name)
        .replace(b"Action: failed", b"Action: delayed")
        .replace(b"Status: 5.1.1", b"Status: 4.4.1")
        .replace(BOUNCES[name][0].encode(), outbound.provider_message_id.encode())
    )
    deliver_raw(client, channel, raw)
    process_all()
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.SENT
    assert Message.objects.filter(metadata__automated="bounce").count() == 1


def test_a_bounce_never_moves_a_status_backwards(client, channel, agent):
    name = "bounce__gmail_rfc822.eml"
    outbound = answered_and_resolved(client, channel, agent)
    OutboundMessage.objects.filter(pk=outbound.pk).update(status=OutboundStatus.READ)
    event = deliver_about(client, channel, name, BOUNCES[name][0], outbound)
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.READ
    assert "already read" in event.outcome


def test_a_bounce_about_mail_nobody_knows_is_kept_on_the_event_only(client, channel):
    deliver_raw(client, channel, fixture_bytes("email", "bounce__postfix_rfc822_headers.eml"))
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not Customer.objects.exists() and not Conversation.objects.exists()
    assert "<176390280641.2214.1583920475510032@shop.example>" in event.outcome
    assert "no conversation or customer created" in event.outcome


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_auto_reply_to_our_mail_is_shown_there_without_reopening_it(client, channel, agent, name):
    outbound = answered_and_resolved(client, channel, agent)
    conversation = outbound.message.conversation
    customers = Customer.objects.count()

    event = deliver_about(client, channel, name, AUTO_REPLIES[name], outbound)

    assert event.status == InboundStatus.DONE, event.error
    assert Customer.objects.count() == customers  # the out-of-office sender gets no profile
    assert Conversation.objects.get() == conversation
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED and conversation.waiting_since is None
    auto = Message.objects.get(conversation=conversation, metadata__automated="auto_reply")
    assert auto.body.startswith("Dzień dobry")
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.SENT  # an auto-reply says nothing about delivery


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_auto_reply_to_nothing_known_opens_nothing(client, channel, name):
    deliver_raw(client, channel, fixture_bytes("email", name))
    (event,) = process_all()
    assert event.status == InboundStatus.DONE, event.error
    assert not Customer.objects.exists() and not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert (
        event.outcome.startswith("auto-reply from ")
        and "no conversation or customer created" in event.outcome
    )
    assert bytes(event.body) == fixture_bytes("email", name)


def test_auto_reply_threads_onto_a_customer_mail_it_quotes(client, channel):
    deliver_raw(client, channel, fixture_bytes("email", "gmail_en_reply.eml"))
    process_all()
    conversation = Message.objects.get().conversation
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.RESOLVED)
    auto = fixture_bytes("email", "autoreply_auto_submitted.eml").replace(
        b"<reply-1001@shop.example>", b"<CAF7k2Lw9x=emma.1@mail.gmail.com>"
    )
    deliver_raw(client, channel, auto)
    process_all()
    assert Message.objects.filter(conversation=conversation).count() == 2
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    assert Customer.objects.count() == 1


def test_out_of_office_subject_alone_is_a_person_writing(client, channel):
    # "Nieobecność" (absence) or "Out of office?" may be a customer's own subject; and Exchange's
    # X-Auto-Response-Suppress sits on plenty of ordinary mail. Each alone proves nothing.
    plain = fixture_bytes("email", "autoreply__outlook_ooo_pl.eml")
    no_suppress = plain.replace(b"X-Auto-Response-Suppress: All\r\n", b"").replace(
        b"X-MS-Exchange-Inbox-Rules-Loop: anna.wisniewska@firma.pl\r\n", b""
    )
    assert parse_mail(no_suppress).automated == ""
    ordinary = fixture_bytes("email", "outlook_pl_reply.eml").replace(
        b"MIME-Version", b"X-Auto-Response-Suppress: All\r\nMIME-Version"
    )
    assert parse_mail(ordinary).automated == ""
    deliver_raw(client, channel, no_suppress)
    process_all()
    assert Message.objects.get().conversation.status == ConversationStatus.OPEN


@pytest.mark.parametrize(
    ("name", "visible"),
    [
        (
            "reply__gmail_pl_wrapped_header.eml",
            "Dzień dobry,\n\npaczka nadal nie dotarła, a status w śledzeniu nie zmienia się od wtorku.\n"
            "Proszę o sprawdzenie u przewoźnika.\n\nPozdrawiam\nJan Kowalski",
        ),
        (
            "reply__gmail_ru_wrapped_header.eml",
            "Добрый день!\n\nКурьер так и не приехал. Перенесите, пожалуйста, доставку на субботу.\n\n"
            "С уважением,\nИван Петров",
        ),
    ],
)
def test_gmail_quote_header_wrapped_over_two_lines_is_cut(client, channel, name, visible):
    deliver_raw(client, channel, fixture_bytes("email", name))
    process_all()
    message = Message.objects.get()
    assert message.body == visible
    assert "> " in message.full_text  # the quote is kept beside it


QUOTE_HEADERS = [
    "pt., 20 lis 2026 o 12:00 Jan Kowalski <jan@example.pl> napisał(a):",
    "pt., 20 lis 2026 o 12:00 Jan Kowalski <jan@example.pl>\nnapisał(a):",
    "pt., 20 lis 2026 o 12:00 Obsługa Sklepu Internetowego <\nsupport@shop.example> napisał(a):",
    "W dniu 20.11.2026 o 12:00, Jan Kowalski pisze:",
    "W dniu 20.11.2026 o 12:00, Obsługa Sklepu Internetowego <support@shop.example>\npisze:",
    "Od: Jan Kowalski <jan@example.pl>\nWysłano: piątek, 20 listopada 2026 12:00\nDo: Sklep\nTemat: Faktura",
    "Od: Jan Kowalski <jan@example.pl>\nDo: Sklep <support@shop.example>\nTemat: Faktura",
    "пт, 20 нояб. 2026 г. в 12:00, Иван <ivan@example.ru>:",
    "пт, 20 нояб. 2026 г. в 12:00, Служба поддержки интернет-магазина <\nsupport@shop.example>:",
    "От: Иван Петров <ivan@example.ru>\nОтправлено: 20 ноября 2026 г. 12:00\nКому: Магазин\nТема: Счёт",
]


@pytest.mark.parametrize("header", QUOTE_HEADERS)
@pytest.mark.parametrize("marked", [True, False], ids=["quoted", "html-derived"])
def test_polish_and_russian_quote_headers(header, marked):
    quote = "> Paczka wysłana.\n> Pozdrawiamy" if marked else "Paczka wysłana.\nPozdrawiamy"
    text = f"Gdzie jest paczka?\nProszę o numer.\n\n{header}\n\n{quote}\n"
    assert split_reply(text) == ("Gdzie jest paczka?\nProszę o numer.", True)


@pytest.mark.parametrize(
    "line",
    [
        "Kolega napisał:",  # no date: a customer quoting someone in their own words
        "3 dni temu kurier pisze, że paczka jest w drodze, a jej nie ma:",
    ],
)
def test_ordinary_lines_are_not_quote_headers(line):
    text = f"Dzień dobry.\n{line}\nNadal czekam."
    assert split_reply(text) == (text, False)


def test_the_thread_shows_a_bounce_as_the_mail_system_not_the_customer(
    client, channel, agent, manager_client
):
    name = "bounce__postfix_rfc822_headers.eml"
    outbound = answered_and_resolved(client, channel, agent)
    deliver_about(client, channel, name, BOUNCES[name][0], outbound)
    bounce = Message.objects.get(metadata__automated="bounce")
    page = manager_client.get(f"/inbox/{bounce.conversation_id}/").content.decode()
    item = page[page.index(f'data-message-id="{bounce.pk}"') :]
    item = item[: item.index("</li>")]
    assert 'data-automated="bounce"' in item and "Mail delivery system" in item
    assert "Katarzyna Nowak" not in item
