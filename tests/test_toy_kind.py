"""A kind registered at run time, with nothing but its KindSpec and an adapter class: every table that
is keyed by kind or provider must know it. (The pipeline end to end is to be added here too.)"""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from channels_app import kinds
from channels_app.adapters.base import Adapter, get_adapter, register, unregister
from channels_app.addresses import webhook_url
from channels_app.connect_checks import is_checkable, required_credentials
from channels_app.forms import ChannelForm
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import KindSpec, ProviderSpec, register_kind, unregister_kind
from channels_app.models import Channel
from channels_app.outbound_media import MediaRule, rule_for
from channels_app.services import ChannelError, do_create_channel
from channels_app.settings_fields import SettingField, fields_for
from cxm.config import ConfigError, load_config
from surveys import chat_answers, delivery, invitations, send_chat, triggers
from surveys.invitation_models import Invitation, Trigger, medium_choices
from tickets.replies import IDENTITY_FOR_CHANNEL

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
    provider = "toyco"
    channel_kinds = (TOY,)


@pytest.fixture
def toy_kind():
    register_kind(SPEC)
    register(ToyAdapter)
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
