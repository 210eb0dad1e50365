"""Demo channels: secrets nobody can recompute, and no inbound deliveries until an admin allows them."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from io import StringIO

import pytest
from django.utils import timezone

from accounts.models import Team
from accounts.services import do_create_team
from channels_app.demo import ACCEPT_INBOUND_FLAG, DEMO_FLAG, is_demo
from channels_app.kinds import CREDENTIAL_FIELDS, ChannelKind
from channels_app.models import Channel
from channels_app.services import do_update_channel
from cxm.demo import data
from cxm.demo.services import SEED
from cxm.demo.staff import create_channels
from cxm.management.commands import serve
from tests.fixture_loader import fixture_path

pytestmark = pytest.mark.django_db

FIXTURE = fixture_path("meta", "instagram_message__text.json")


def _demo_channels() -> dict[str, Channel]:
    teams = {
        name: Team.objects.filter(name=name).first() or do_create_team(name=name, description="", members=[])
        for name in data.TEAM_NAMES
    }
    return create_channels(random.Random(SEED), teams=teams, now=timezone.now())


def _seed_generated_secrets() -> set[str]:
    """What the old seeding drew from the fixed seed: anyone with the source could recompute these."""
    rng = random.Random(SEED)
    return {
        f"demo-{field.replace('_', '-')}-{rng.getrandbits(64):016x}"
        for spec in data.CHANNELS
        for field in CREDENTIAL_FIELDS[spec.kind]
    }


def _secrets(channels: dict[str, Channel]) -> dict[tuple[str, str], str]:
    return {
        (key, field): Channel.objects.get(pk=channel.pk).secret(field)
        for key, channel in channels.items()
        for field in CREDENTIAL_FIELDS[channel.kind]
    }


def test_demo_channel_secrets_are_fresh_on_every_install():
    first = _secrets(_demo_channels())
    Channel.objects.all().delete()
    second = _secrets(_demo_channels())
    assert set(first) == set(second)
    assert all(first[key] != second[key] for key in first), "a secret repeated across installs"
    assert not set(first.values()) & _seed_generated_secrets()
    # Long enough not to be guessed: 128 random bits after the readable prefix.
    assert all(len(value.rsplit("-", 1)[-1]) >= 32 for value in first.values())


def test_web_chat_identity_hash_of_a_demo_channel_is_not_predictable():
    webchat = _demo_channels()["webchat"]
    predictable = {
        hmac.new(secret.encode(), b"customer-42", hashlib.sha256).hexdigest()
        for secret in _seed_generated_secrets()
    }
    real = hmac.new(
        Channel.objects.get(pk=webchat.pk).secret("identity_secret").encode(), b"customer-42", hashlib.sha256
    ).hexdigest()
    assert real not in predictable


def test_demo_channels_are_marked():
    channels = _demo_channels()
    assert all(is_demo(channel) and channel.config[DEMO_FLAG] is True for channel in channels.values())


def _signed_delivery(client, channel: Channel):
    body = FIXTURE.read_bytes()
    signature = hmac.new(channel.secret("app_secret").encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        f"/webhooks/meta/{channel.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=f"sha256={signature}",
    )


def test_demo_channel_refuses_even_a_correctly_signed_delivery(client):
    instagram = Channel.objects.get(pk=_demo_channels()["instagram"].pk)
    response = _signed_delivery(client, instagram)
    assert response.status_code == 403
    assert "demo channel" in response.json()["error"]


def test_admin_turns_inbound_on_from_the_channel_page(client, admin_client_):
    instagram = Channel.objects.get(pk=_demo_channels()["instagram"].pk)
    page = admin_client_.get(f"/settings/channels/{instagram.pk}/")
    assert b'data-testid="demo-inbound"' in page.content
    assert b'name="demo_accept_inbound"' in page.content

    saved = admin_client_.post(
        f"/settings/channels/{instagram.pk}/",
        {
            "name": instagram.name,
            "address": instagram.address,
            "is_active": "on",
            "teams": [team.pk for team in instagram.teams.all()],
            "demo_accept_inbound": "on",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    instagram.refresh_from_db()
    assert instagram.config[ACCEPT_INBOUND_FLAG] is True
    assert instagram.config[DEMO_FLAG] is True


def test_a_demo_channel_allowed_inbound_takes_deliveries(client):
    instagram = Channel.objects.get(pk=_demo_channels()["instagram"].pk)
    do_update_channel(
        channel=instagram,
        name=instagram.name,
        address=instagram.address,
        is_active=True,
        credential_updates={},
        teams=list(instagram.teams.all()),
        config_updates={ACCEPT_INBOUND_FLAG: True},
    )
    assert _signed_delivery(client, instagram).status_code == 200


def test_a_channel_that_is_not_demo_has_no_such_switch(admin_client_):
    from channels_app.services import do_create_channel

    channel = do_create_channel(
        kind=ChannelKind.API,
        name="Shop",
        address="",
        config={},
        credentials={"signing_secret": "s" * 40},
        teams=[],
    )
    page = admin_client_.get(f"/settings/channels/{channel.pk}/")
    assert page.status_code == 200
    assert b"demo_accept_inbound" not in page.content


def test_start_up_line_says_the_data_is_a_demo(monkeypatch):
    assert serve.describe_data() == ""
    _demo_channels()
    assert serve.describe_data() == " (the data is a demo workspace)"
    monkeypatch.setattr(serve, "_wait_until_ready", lambda *args, **kwargs: True)
    command = serve.Command(stdout=StringIO())
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    command._announce_when_ready("127.0.0.1", 8000, False, "", serve.describe_data())
    started[0].run()
    assert (
        "CXM is ready at http://127.0.0.1:8000/ (the data is a demo workspace)"
        in command.stdout._out.getvalue()
    )
