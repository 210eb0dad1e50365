"""Proving a channel is connected, and remembering the answer on the channel.

The provider is asked whether the credentials work (Telegram is also told where to deliver, with a
secret token). A channel whose check fails is kept, so the admin can fix it, but switched off with the
provider's reason: an inbox that silently receives nothing is worse than one that says why.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from channels_app import channel_cache
from channels_app.adapters.base import AdapterError, get_adapter
from channels_app.addresses import webhook_url
from channels_app.kinds import CREDENTIAL_LABELS, ChannelKind, provider_for, provider_spec
from channels_app.models import Channel
from core.crypto import SecretUnavailable

CONFIG_KEY = "connection"
CONNECTED = "connected"
FAILED = "failed"

# Settings that change which account the credentials must reach.
CHECKED_SETTINGS = ("provider", "phone_number_id", "page_id")


@dataclass(frozen=True)
class Connection:
    """The last check's outcome as stored in ``channel.config["connection"]``."""

    status: str = ""  # CONNECTED, FAILED, or "" when never checked
    checked_at: datetime | None = None
    account: str = ""
    error: str = ""
    webhook_url: str = ""

    @classmethod
    def of(cls, channel: Channel) -> Connection:
        stored = (channel.config or {}).get(CONFIG_KEY)
        if not isinstance(stored, dict):
            return cls()
        return cls(
            status=str(stored.get("status") or ""),
            checked_at=parse_datetime(str(stored.get("checked_at") or "")),
            account=str(stored.get("account") or ""),
            error=str(stored.get("error") or ""),
            webhook_url=str(stored.get("webhook_url") or ""),
        )

    @property
    def connected(self) -> bool:
        return self.status == CONNECTED

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def required_credentials(channel: Channel) -> tuple[str, ...] | None:
    """What the check of this channel's provider cannot start without (ProviderSpec.check_requires);
    None when its provider has no check."""
    provider = provider_spec(channel.kind, channel.config)
    return provider.check_requires if provider and provider.check_requires else None


def is_checkable(channel: Channel) -> bool:
    return required_credentials(channel) is not None


def should_check_after_update(
    *, channel: Channel, was_active: bool, old_config: dict, credentials_changed: bool
) -> bool:
    """A save proves the connection again when it could have changed it: new credentials, another
    number or page, a channel switched back on, or one that never checked out."""
    if not is_checkable(channel) or not channel.is_active:
        return False
    moved = any(old_config.get(key) != channel.config.get(key) for key in CHECKED_SETTINGS)
    return credentials_changed or moved or not was_active or not Connection.of(channel).connected


def do_check_connection(*, channel: Channel, base_url: str) -> Connection:
    """Ask the provider, then record the outcome (and switch the channel off when it failed).

    Runs outside a transaction on purpose: the provider may take seconds to answer, and no row is
    locked while it does.
    """
    if not is_checkable(channel):
        return Connection.of(channel)
    provider = provider_for(channel.kind, channel.config)
    if channel.kind == ChannelKind.TELEGRAM:
        _ensure_webhook_secret(channel)
    url = webhook_url(channel, base=base_url) or ""
    missing = [
        str(CREDENTIAL_LABELS[f])
        for f in required_credentials(channel) or ()
        if not channel.credentials.get(f)
    ]
    adapter = get_adapter(provider)
    account, error = "", ""
    if missing:
        error = _("Missing credentials: %(fields)s.") % {"fields": ", ".join(missing)}
    elif adapter is not None:
        try:
            account = adapter.check_connection(channel, webhook_url=url) or ""
        except AdapterError as exc:
            error = _scrub(str(exc), channel)
        except SecretUnavailable as exc:  # an env: reference whose variable is not set
            error = str(exc)
    return _record(channel=channel, account=account, error=error, webhook_url=url)


@transaction.atomic
def _record(*, channel: Channel, account: str, error: str, webhook_url: str) -> Connection:
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    previous = Connection.of(locked)
    connection = Connection(
        status=FAILED if error else CONNECTED,
        checked_at=timezone.now(),
        account=account[:200],
        error=error[:1000],
        webhook_url=webhook_url,
    )
    locked.config = {
        **locked.config,
        CONFIG_KEY: {
            "status": connection.status,
            "checked_at": connection.checked_at.isoformat() if connection.checked_at else "",
            "account": connection.account,
            "error": connection.error,
            "webhook_url": connection.webhook_url,
        },
    }
    if connection.failed:
        locked.is_active = False
    elif previous.failed:
        locked.is_active = True  # it was switched off by the failed check, not by an admin
    locked.save(update_fields=["config", "is_active", "updated_at"])
    channel.config, channel.is_active = locked.config, locked.is_active
    transaction.on_commit(partial(channel_cache.forget, channel.pk))
    return connection


@transaction.atomic
def _ensure_webhook_secret(channel: Channel) -> None:
    """Telegram repeats this token in every delivery's X-Telegram-Bot-Api-Secret-Token header; its
    alphabet (A-Z, a-z, 0-9, _ and -, up to 256 characters) is exactly token_urlsafe's."""
    if channel.credentials.get("webhook_secret"):
        return
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    if not locked.credentials.get("webhook_secret"):
        locked.credentials = {**locked.credentials, "webhook_secret": secrets.token_urlsafe(32)}
        locked.save(update_fields=["credentials", "updated_at"])
        transaction.on_commit(partial(channel_cache.forget, channel.pk))
    channel.credentials = locked.credentials


def _scrub(message: str, channel: Channel) -> str:
    """Provider errors are shown on the page: make sure no secret rides along (a token in a URL)."""
    for field in channel.credentials:
        try:
            value = channel.secret(field)
        except SecretUnavailable:
            continue
        if len(value) >= 6:
            message = message.replace(value, "•••")
    return message
