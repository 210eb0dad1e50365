from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from channels_app.models import Channel
from channels_app.services import ChannelError, do_create_channel
from core.crypto import SecretUnavailable, mask_secret

pytestmark = pytest.mark.django_db


def test_credentials_survive_key_rotation():
    old = Fernet.generate_key()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        channel = do_create_channel(
            kind="api", name="Shop", credentials={"signing_secret": "s3cret-value-12345"}
        )
    # A new key first, the old one still listed: old rows decrypt, new writes use the new key.
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key(), old]):
        assert Channel.objects.get(pk=channel.pk).secret("signing_secret") == "s3cret-value-12345"
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key()]), pytest.raises(SecretUnavailable):
        Channel.objects.get(pk=channel.pk)


def test_a_stored_secret_is_decrypted_once_however_often_its_row_is_loaded():
    from unittest import mock

    from core import crypto

    channel = do_create_channel(kind="api", name="Shop", credentials={"signing_secret": "s3cret-value-12345"})
    crypto._plaintext.cache_clear()
    with mock.patch.object(
        crypto.MultiFernet, "decrypt", autospec=True, side_effect=crypto.MultiFernet.decrypt
    ) as spy:
        first, second = Channel.objects.get(pk=channel.pk), Channel.objects.get(pk=channel.pk)
        list(Channel.objects.all())
    assert spy.call_count == 1
    first.credentials["signing_secret"] = "changed in memory"
    assert second.credentials["signing_secret"] == "s3cret-value-12345"  # no shared mutable value


def test_missing_environment_reference_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CXM_MISSING_SECRET", raising=False)
    channel = do_create_channel(
        kind="api", name="Env", credentials={"signing_secret": "env:CXM_MISSING_SECRET"}
    )
    with pytest.raises(SecretUnavailable, match="CXM_MISSING_SECRET is not set"):
        channel.secret("signing_secret")


def test_unknown_credential_fields_are_rejected():
    with pytest.raises(ChannelError, match="bot_token"):
        do_create_channel(kind="sms", name="SMS", credentials={"bot_token": "x"})


@pytest.mark.parametrize(
    ("value", "shown"),
    [("abcdefghijkl1234", "••••••1234"), ("short", "••••••"), ("env:TWILIO_TOKEN", "env:TWILIO_TOKEN")],
)
def test_masking(value, shown):
    assert mask_secret(value) == shown
