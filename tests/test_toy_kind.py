"""A kind registered at run time, with nothing but its KindSpec and an adapter class: every table that
is keyed by kind or provider must know it, and it goes end to end through the pipeline: a signed
webhook, the worker's processing into a conversation, an agent's reply sent through its adapter, a
survey invitation in its medium, and the customer's pressed button recorded as the answer."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar

import pytest
from django import forms
from django.core.exceptions import ValidationError

from accounts.roles import Role
from channels_app import kinds
from channels_app.adapters.base import Adapter, SignatureError, get_adapter, register, unregister
from channels_app.addresses import webhook_url
from channels_app.connect_checks import is_checkable, required_credentials
from channels_app.forms import ChannelForm
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import KindSpec, ProviderSpec, register_kind, unregister_kind
from channels_app.models import Channel, OutboundMessage
from channels_app.normalized import NormalizedMessage, Sender
from channels_app.outbound import do_send
from channels_app.outbound_media import MediaRule, rule_for
from channels_app.services import ChannelError, do_create_channel
from channels_app.settings_fields import SettingField, fields_for
from cxm.config import ConfigError, load_config
from profiles.models import Identity
from surveys import chat_answers, delivery, invitations, send_chat, triggers
from surveys.delivery import do_send_due_invitations
from surveys.invitation_models import Invitation, InvitationStatus, Trigger, TriggerKind, medium_choices
from surveys.invitations import do_invite
from surveys.models import SurveyResponse
from tests.pipeline import post_webhook, process_all
from tests.surveys import factories as f
from tickets.models import Conversation, Direction
from tickets.replies import IDENTITY_FOR_CHANNEL, do_send_reply

TOY = "toy"
TOY_MEDIA = MediaRule(types={"image/png": 1024}, max_count=2)
ROOM = SettingField("room", lambda: forms.CharField(label="Room", required=False))
SPEC = KindSpec(
    TOY,
    "Toy chat",
    identity_kind=IdentityKind.EXTERNAL_ID,
    providers=(
        ProviderSpec(
            "toyco",
            "ToyCo",
            base_url_env="TOYCO_API_BASE_URL",
            base_url="https://api.toyco.example",
            check_requires=("api_key",),
        ),
        ProviderSpec("toyrelay", "Toy relay"),
    ),
    credential_fields=("api_key",),
    credential_labels={"api_key": "Toy API key"},
    settings_fields=(ROOM,),
    media=TOY_MEDIA,
    chat=True,
    survey_buttons=4,
)


class ToyAdapter(Adapter):
    """ToyCo signs each delivery with HMAC-SHA256 of the body under the channel's API key and sends
    {"id", "from", "text"} or, for a pressed button, {"id", "from", "button"}."""

    provider = "toyco"
    channel_kinds = (TOY,)
    sent: ClassVar[list[dict]] = []

    def verify(self, request, channel):
        expected = hmac.new(channel.credentials["api_key"].encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Toy-Signature", "")):
            raise SignatureError

    def parse(self, event, channel):
        data = json.loads(bytes(event.body))
        button = data.get("button", "")
        return [
            NormalizedMessage(
                sender=Sender(kind=IdentityKind.EXTERNAL_ID, value=data["from"], display="Toy fan"),
                provider_message_id=data["id"],
                text=data.get("text", ""),
                metadata={"button": True, "callback_data": button} if button else {},
            )
        ]

    def send(self, outbound, channel):
        ToyAdapter.sent.append({"recipient": outbound.recipient, **outbound.payload})
        return f"toy-{len(ToyAdapter.sent)}"


@pytest.fixture
def toy_kind():
    register_kind(SPEC)
    register(ToyAdapter)
    ToyAdapter.sent.clear()
    yield SPEC
    unregister("toyco")
    unregister_kind(TOY)


def test_channel_tables_know_the_toy(toy_kind):
    assert kinds.kind_spec(TOY) is SPEC
    assert (TOY, "Toy chat") in kinds.kind_choices()
    assert kinds.CREDENTIAL_FIELDS[TOY] == ("api_key",)
    assert kinds.CREDENTIAL_LABELS["api_key"] == "Toy API key"
    assert kinds.IDENTITY_FOR_KIND[TOY] == IdentityKind.EXTERNAL_ID
    assert kinds.WEBHOOK_PROVIDER[TOY] == "toyco"
    assert kinds.PROVIDER_CHOICES[TOY] == ("toyco", "toyrelay")
    assert kinds.provider_for(TOY, {}) == "toyco"
    assert kinds.provider_for(TOY, {"provider": "toyrelay"}) == "toyrelay"
    assert kinds.provider_for(TOY, {"provider": "meta"}) == "toyco"  # not one of the toy's
    assert isinstance(get_adapter(kinds.provider_for(TOY, {})), ToyAdapter)
    assert kinds.provider_base_urls()["toyco"] == ("TOYCO_API_BASE_URL", "https://api.toyco.example")
    assert kinds.connection_requirements()[("toyco", TOY)] == ("api_key",)
    assert rule_for(TOY, {}) is TOY_MEDIA
    assert [field.key for field in fields_for(TOY)] == ["threading", "provider", "room"]


def test_settings_form_and_model_accept_the_toy(toy_kind):
    form = ChannelForm(kind=TOY)
    assert {"conf_threading", "conf_provider", "conf_room", "cred_api_key"} <= set(form.fields)
    assert form.fields["cred_api_key"].label == "Toy API key"
    assert [value for value, _label in form.fields["conf_provider"].choices] == ["toyco", "toyrelay"]
    assert (TOY, "Toy chat") in form.fields["kind"].choices
    field = Channel._meta.get_field("kind")
    assert field.clean(TOY, Channel()) == TOY
    channel = Channel(kind=TOY, name="Toys", credentials={})
    assert is_checkable(channel) and required_credentials(channel) == ("api_key",)
    assert not is_checkable(Channel(kind=TOY, config={"provider": "toyrelay"}, credentials={}))


def test_the_toy_is_no_choice_once_unregistered():
    field = Channel._meta.get_field("kind")
    with pytest.raises(ValidationError):
        field.clean(TOY, Channel())
    assert TOY not in kinds.CREDENTIAL_FIELDS
    assert "toyco" not in kinds.provider_base_urls()


def test_survey_tables_know_the_toy(toy_kind):
    assert IDENTITY_FOR_CHANNEL[TOY] == IdentityKind.EXTERNAL_ID
    assert (TOY, "Toy chat") in medium_choices()
    assert Invitation._meta.get_field("medium").clean(TOY, Invitation()) == TOY
    assert Trigger._meta.get_field("medium").clean(TOY, Trigger()) == TOY
    assert triggers.MEDIUM_FOR_CHANNEL_KIND[TOY] == TOY
    assert delivery.SENDERS[TOY] == "surveys.send_chat.send_chat_invitation"
    assert send_chat.CHANNEL_FOR_MEDIUM[TOY] == TOY
    assert send_chat.MAX_BUTTONS[TOY] == 4
    assert TOY in chat_answers.CHAT_MEDIA
    assert TOY in invitations.PUSHED


def test_config_reads_the_toy_providers_base_url(toy_kind):
    assert load_config({}).provider_base_urls["toyco"] == "https://api.toyco.example"
    moved = load_config({"TOYCO_API_BASE_URL": "http://127.0.0.1:8025/toy/"})
    assert moved.provider_base_urls["toyco"] == "http://127.0.0.1:8025/toy"
    with pytest.raises(ConfigError, match="TOYCO_API_BASE_URL"):
        load_config({"TOYCO_API_BASE_URL": "ftp://toy"})


def test_registering_refuses_a_taken_kind_and_a_contradicting_provider(toy_kind):
    with pytest.raises(ValueError, match="already registered"):
        register_kind(SPEC)
    other_meta = ProviderSpec(
        "meta", base_url_env="META_GRAPH_BASE_URL", base_url="https://elsewhere.example"
    )
    with pytest.raises(ValueError, match="meta"):
        register_kind(
            KindSpec("toy2", "Toy 2", identity_kind=IdentityKind.EXTERNAL_ID, providers=(other_meta,))
        )
    assert kinds.find_kind("toy2") is None


@pytest.mark.django_db
def test_a_toy_channel_is_created_with_its_credentials_and_webhook_address(toy_kind):
    channel = do_create_channel(kind=TOY, name="Toys", credentials={"api_key": "k" * 20})
    channel.full_clean()
    assert (
        webhook_url(channel, base="https://cx.example") == f"https://cx.example/webhooks/toyco/{channel.pk}/"
    )
    with pytest.raises(ChannelError):
        do_create_channel(kind=TOY, name="Toys", credentials={"bot_token": "x"})


def post_toy(client, channel, payload: dict):
    body = json.dumps(payload).encode()
    signature = hmac.new(channel.credentials["api_key"].encode(), body, hashlib.sha256).hexdigest()
    return post_webhook(
        client, "toyco", channel.pk, body, content_type="application/json", HTTP_X_TOY_SIGNATURE=signature
    )


@pytest.mark.django_db
def test_the_toy_goes_end_to_end_through_the_pipeline(toy_kind, client, make_user, settings):
    settings.SURVEY_QUIET_HOURS = (0, 0)
    channel = do_create_channel(kind=TOY, name="Toys", credentials={"api_key": "k" * 20})
    agent = make_user(Role.ADMIN)

    # Inbound: refused unsigned, stored when signed, then recorded by the worker's processing.
    assert (
        post_webhook(client, "toyco", channel.pk, b"{}", content_type="application/json").status_code == 403
    )
    assert (
        post_toy(client, channel, {"id": "t1", "from": "fan-42", "text": "Where is my robot?"}).status_code
        == 200
    )
    assert [event.status for event in process_all()] == ["done"]
    conversation = Conversation.objects.get()
    assert conversation.channel == channel
    assert conversation.messages.get().body == "Where is my robot?"
    identity = Identity.objects.get(kind=IdentityKind.EXTERNAL_ID, value="fan-42")
    assert identity.customer_id == conversation.customer_id

    # The agent's reply leaves through the toy adapter, to the toy identity.
    reply = do_send_reply(conversation=conversation, author=agent, channel=channel, text="On its way!")
    assert reply.direction == Direction.OUTBOUND
    outbound = OutboundMessage.objects.get(message=reply)
    do_send(outbound_id=outbound.pk)
    assert ToyAdapter.sent[-1]["recipient"] == "fan-42" and ToyAdapter.sent[-1]["text"] == "On its way!"
    outbound.refresh_from_db()
    assert outbound.provider_message_id == "toy-1"

    # A survey in the toy medium: asked with the toy's buttons, answered by pressing one.
    survey = f.survey("csat", scale_max=3)
    invitation = do_invite(
        survey=survey, customer=conversation.customer, medium=TOY, trigger=TriggerKind.MANUAL,
        channel=channel, conversation=conversation, enforce_fatigue=False,
    )  # fmt: skip
    assert do_send_due_invitations() == 1
    do_send(outbound_id=OutboundMessage.objects.filter(message__isnull=True).get().pk)
    asked = ToyAdapter.sent[-1]
    assert asked["survey_invitation"] == invitation.pk and len(asked["buttons"]) == 3
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT

    best = asked["buttons"][-1]["payload"]
    assert post_toy(client, channel, {"id": "t2", "from": "fan-42", "button": best}).status_code == 200
    assert [event.status for event in process_all()][-1] == "done"
    answer = SurveyResponse.objects.get(invitation=invitation)
    assert (answer.score, answer.medium) == (3, TOY)
    assert conversation.messages.count() == 2  # the pressed button is an answer, not a message
