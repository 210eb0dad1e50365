"""Polling an IMAP mailbox: new mail by UID, remembered per folder and UIDVALIDITY.

The last UID is advanced only after the mails up to it are stored, so a crash or a dropped connection
mid-batch means those mails are fetched again next time, and the Message-ID dedup key makes the second
store a no-op. Nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from imapclient import IMAPClient, imap4, tls

from channels_app.adapters.base import AdapterError
from channels_app.email.services import do_store_mail
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from core import outbound_guard

logger = logging.getLogger(__name__)
BATCH = 50
STATE_KEY = "imap_state"


class _GuardedIMAP4(imap4.IMAP4WithTimeout):
    def _create_socket(self, timeout=None):
        return outbound_guard.connect(self.host, self.port, timeout=timeout or self._timeout)


class _GuardedIMAP4TLS(tls.IMAP4_TLS):
    def _create_socket(self, timeout=None):
        sock = outbound_guard.connect(self.host, self.port, timeout=timeout or self._timeout)
        # Verified against the configured name, not the address connected to.
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class GuardedIMAPClient(IMAPClient):
    """IMAPClient connecting only where the outbound guard allows, to the address it checked."""

    def _create_IMAP4(self):
        timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _GuardedIMAP4TLS(self.host, self.port, self.ssl_context, timeout)
        return _GuardedIMAP4(self.host, self.port, timeout)


def poll_all() -> dict[int, int | str]:
    """Poll every active email channel with an IMAP host; one failing mailbox does not stop the rest."""
    results: dict[int, int | str] = {}
    for channel in Channel.objects.filter(kind=ChannelKind.EMAIL, is_active=True):
        if not channel.config.get("imap_host"):
            continue
        try:
            results[channel.pk] = poll_mailbox(channel)
        except Exception as exc:
            logger.warning("IMAP poll of channel %s failed: %s", channel.pk, exc)
            results[channel.pk] = f"error: {exc}"
    return results


def poll_mailbox(channel: Channel) -> int:
    """Store the mail that arrived since the last poll; returns how many new mails were stored."""
    config = channel.config
    security = config.get("imap_security") or "ssl"
    port = int(config.get("imap_port") or (993 if security == "ssl" else 143))
    folder = config.get("imap_folder") or "INBOX"
    stored = 0
    try:
        with GuardedIMAPClient(
            config["imap_host"], port=port, ssl=security == "ssl", timeout=settings.PROVIDER_HTTP_TIMEOUT
        ) as client:
            if security == "starttls":
                client.starttls()
            client.login(config.get("imap_user") or channel.address, channel.secret("imap_password"))
            info = client.select_folder(folder, readonly=True)
            validity = int(info.get(b"UIDVALIDITY", 0))
            state = (config.get(STATE_KEY) or {}).get(folder) or {}
            # A new UIDVALIDITY means the server renumbered the folder: start over (dedup keeps it safe).
            last = int(state.get("last_uid", 0)) if state.get("uidvalidity") == validity else 0
            uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
            for start in range(0, len(uids), BATCH):
                batch = uids[start : start + BATCH]
                fetched = client.fetch(batch, ["BODY.PEEK[]"])
                for uid in batch:
                    raw = fetched.get(uid, {}).get(b"BODY[]")
                    if raw is None:
                        continue
                    if do_store_mail(channel=channel, raw=bytes(raw), source=f"imap:{folder}:{uid}"):
                        stored += 1
                _remember(channel, folder, validity, batch[-1])
    except AdapterError:
        raise
    except outbound_guard.OutboundRefused as exc:
        raise AdapterError(f"IMAP server refused: {exc}", permanent=True) from exc
    except Exception as exc:
        raise AdapterError(f"IMAP: {type(exc).__name__}: {exc}", permanent=False) from exc
    return stored


def _remember(channel: Channel, folder: str, validity: int, last_uid: int) -> None:
    with transaction.atomic():
        # Merge under a row lock so an admin saving the channel meanwhile keeps both changes.
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        state = dict(locked.config.get(STATE_KEY) or {})
        state[folder] = {"uidvalidity": validity, "last_uid": last_uid}
        locked.config = {**locked.config, STATE_KEY: state}
        locked.save(update_fields=["config"])
        channel.config = locked.config
