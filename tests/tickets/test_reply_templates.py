"""The WhatsApp template picker: offered only outside the 24-hour window, only the channel's own templates,
every variable required, and the filled template reaching the provider."""

# Fixtures shared with test_conversation_page are imported, then named as test parameters.
# ruff: noqa: F811
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from channels_app.models import Channel, MessageTemplate, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from tickets.models import Message

from .test_conversation_page import (  # noqa: F401 (fixtures)
    agent,
    channels,
    client_for,
    conversation,
    customer,
    outsider,
    say,
    team,
    url,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
PHONE_NUMBER_ID = "110384756291047"
WAMID = "wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBJBQkNERUYxMjM0NTY3ODkwAA=="


@pytest.fixture
def whatsapp(channels):
    channel = channels["whatsapp"]
    channel.config = {"provider": "meta", "phone_number_id": PHONE_NUMBER_ID}
    channel.credentials = {"access_token": "EAAGtestToken"}
    channel.save()
    return channel


@pytest.fixture
def order_update(whatsapp):
    return MessageTemplate.objects.create(
        channel=whatsapp,
        name="order_update",
        language="pl",
        body="Cześć {{1}}, zamówienie {{2}} zostało wysłane.",
        variables=2,
    )


@pytest.fixture
def foreign_template(team):
    other = Channel.objects.create(kind="whatsapp", name="Other number")
    return MessageTemplate.objects.create(
        channel=other, name="other_number_only", body="Hi {{1}}", variables=1
    )


def options(user, conv, channel):
    return client_for(user).get(url("conversation_reply_options", conv), {"channel": channel.pk}, **HTMX)


def last_seen(conv) -> int:
    return Message.objects.filter(conversation=conv).order_by("-id").values_list("id", flat=True)[0]


def send_template(user, conv, channel, template, values):
    return client_for(user).post(
        url("conversation_reply", conv),
        {
            "channel": channel.pk,
            "text": "a draft the agent keeps",
            "template": template.pk,
            f"template_var_{template.pk}": values,
            "last_seen_message_id": last_seen(conv),
        },
        **HTMX,
    )


def test_picker_is_offered_only_while_the_window_is_closed(agent, conversation, whatsapp, order_update):
    body = options(agent, conversation, whatsapp).content.decode()
    assert 'data-testid="template-picker"' in body
    assert (
        "order_update (pl)" in body and 'data-body="Cześć {{1}}, zamówienie {{2}} zostało wysłane."' in body
    )
    assert f'name="template_var_{order_update.pk}"' in body
    # The customer writes on WhatsApp: free text is allowed again, and no picker is shown.
    say(conversation, "Gdzie moja paczka?", channel=whatsapp, at=timezone.now() - timedelta(hours=1))
    body = options(agent, conversation, whatsapp).content.decode()
    assert 'data-testid="template-picker"' not in body
    assert 'data-testid="reply-file-limits"' in body


def test_picker_lists_only_the_channels_own_templates(
    agent, conversation, whatsapp, order_update, foreign_template
):
    body = options(agent, conversation, whatsapp).content.decode()
    assert "order_update" in body and "other_number_only" not in body


def test_picker_is_not_offered_on_other_channels(agent, conversation, channels, order_update):
    assert (
        'data-testid="template-picker"' not in options(agent, conversation, channels["sms"]).content.decode()
    )


def test_template_reaches_the_provider_with_the_filled_variables(
    agent, conversation, whatsapp, order_update, provider_stub
):
    stub = provider_stub("meta")
    stub.route("POST", f"/{PHONE_NUMBER_ID}/messages", lambda r: (200, {"messages": [{"id": WAMID}]}))
    response = send_template(agent, conversation, whatsapp, order_update, ["Anna", "#5521"])
    assert 'data-testid="reply-sent"' in response.content.decode()
    outbound = OutboundMessage.objects.get()
    assert outbound.payload["text"] == ""
    assert outbound.payload["template"]["body"] == "Cześć Anna, zamówienie #5521 zostało wysłane."
    # The thread shows which template went out, with its values.
    assert outbound.message.body == "[Template: order_update — 1=Anna, 2=#5521]"
    assert "order_update — 1=Anna, 2=#5521" in response.content.decode()
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    (sent,) = stub.requests
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "to": "+48601234567",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "pl"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Anna"}, {"type": "text", "text": "#5521"}],
                }
            ],
        },
    }


def test_twilio_whatsapp_sends_the_content_sid_and_variables(agent, conversation, whatsapp, provider_stub):
    whatsapp.config = {"provider": "twilio"}
    whatsapp.address = "+48732100300"
    whatsapp.credentials = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}
    whatsapp.save()
    template = MessageTemplate.objects.create(
        channel=whatsapp, name="order_update", body="Hi {{1}}", variables=1, content_sid="HX" + "a" * 32
    )
    stub = provider_stub("twilio")
    stub.route(
        "POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": "SM" + "b" * 32})
    )
    send_template(agent, conversation, whatsapp, template, ["Anna"])
    assert do_send(outbound_id=OutboundMessage.objects.get().pk) == OutboundStatus.SENT
    form = stub.requests[0].form()
    assert form["ContentSid"] == "HX" + "a" * 32
    assert form["ContentVariables"] == '{"1": "Anna"}'
    assert form["To"] == "whatsapp:+48601234567"


def test_twilio_template_without_content_sid_is_refused(agent, conversation, whatsapp, order_update):
    whatsapp.config = {"provider": "twilio"}
    whatsapp.save()
    response = send_template(agent, conversation, whatsapp, order_update, ["Anna", "#1"])
    assert "no Twilio content SID" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_missing_variables_are_refused_and_nothing_is_sent(agent, conversation, whatsapp, order_update):
    response = send_template(agent, conversation, whatsapp, order_update, ["Anna", "  "])
    body = response.content.decode()
    assert 'data-testid="reply-error"' in body and "missing: {{2}}" in body
    assert "a draft the agent keeps</textarea>" in body
    # The picker reloads with the agent's choice and values.
    assert f"template={order_update.pk}" in body and "value=Anna" in body
    assert not OutboundMessage.objects.exists()
    assert not Message.objects.filter(direction="out").exists()


def test_another_channels_template_is_refused(agent, conversation, whatsapp, foreign_template):
    response = send_template(agent, conversation, whatsapp, foreign_template, ["Anna"])
    assert "Choose which approved template to send." in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_picker_is_404_for_an_agent_who_cannot_see(outsider, conversation, whatsapp, order_update):
    assert options(outsider, conversation, whatsapp).status_code == 404
    assert send_template(outsider, conversation, whatsapp, order_update, ["A", "B"]).status_code == 404


def test_template_placeholders_must_match_the_count(whatsapp):
    template = MessageTemplate(channel=whatsapp, name="x", body="Hi {{1}} and {{3}}", variables=2)
    with pytest.raises(ValidationError):
        template.clean()
    MessageTemplate(channel=whatsapp, name="x", body="Hi {{ 1 }} and {{2}}", variables=2).clean()
