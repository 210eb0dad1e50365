"""GDPR tools for one person: export everything we hold on them, or erase it.

Both read one registry of where personal data lives (profiles.personal_data). Erasure keeps the shape
of the data that statistics are built on (conversation and message rows with their times, channels
and directions, survey scores, event names and times) and removes every text and value that says who
the person is or what they wrote. It also makes every key the person still holds useless: survey
tokens are replaced, web chat visitor ids revoked, and signed file links point at files that are gone.
"""

from __future__ import annotations

import json
import logging
from typing import cast

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.events import CustomerErased, publish
from profiles.audit import record
from profiles.models import AuditAction, Customer
from profiles.personal_data import providers
from profiles.privacy_erase import erase_rows, redacted
from profiles.privacy_export import EXPORT_FORMAT_VERSION, ExportFile, do_export_customer, export_data
from profiles.privacy_rows import collect, person_ids
from profiles.revocation import WEBCHAT_VISITOR, do_revoke_keys

logger = logging.getLogger(__name__)

__all__ = [
    "EXPORT_FORMAT_VERSION",
    "ErasureError",
    "ExportFile",
    "do_erase_customer",
    "do_export_customer",
    "export_data",
    "person_ids",
]


class ErasureError(ValueError):
    pass


def _close_visitor_sockets(webchat_ids: list[str]) -> None:
    """Open widget sockets of the visitor end at once; a reconnect comes back as a new visitor."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from channels_app.kinds import ChannelKind
    from channels_app.models import Channel
    from channels_app.webchat.identity import visitor_group

    layer = get_channel_layer()
    if layer is None or not webchat_ids:
        return
    for channel_id in Channel.objects.filter(kind=ChannelKind.WEBCHAT).values_list("pk", flat=True):
        for visitor_id in webchat_ids:
            async_to_sync(layer.group_send)(
                visitor_group(channel_id, visitor_id), {"type": "webchat.revoked"}
            )


def _forget_realtime(*, conversation_ids: set[int], webchat_ids: list[str], needles: list[str]) -> int:
    """Undelivered realtime events (message previews waiting in the channel layer for up to its
    expiry) and the web chat visitor's socket groups. Nothing else in Redis is keyed by a person."""
    from channels.layers import get_channel_layer

    from core.redis import get_redis

    client = get_redis()
    layer = get_channel_layer()
    prefix = getattr(layer, "prefix", None)
    if client is None or layer is None or not prefix or not hasattr(layer, "deserialize"):
        return 0
    removed = 0
    for visitor_id in webchat_ids:
        for key in client.scan_iter(match=f"{prefix}:group:webchat.*.{visitor_id}", count=500):
            removed += client.delete(key)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        if b":group:" in key or client.type(key) != b"zset":
            continue
        for member in cast(list[bytes], client.zrange(key, 0, -1)):
            try:
                event = layer.deserialize(member)
            except Exception:  # a foreign or corrupt entry is not ours to judge
                logger.debug("realtime entry in %r could not be read", key)
                continue
            payload = event.get("payload") if isinstance(event, dict) else None
            text = json.dumps(event, default=str).lower()
            if (isinstance(payload, dict) and payload.get("conversation_id") in conversation_ids) or any(
                needle in text for needle in needles
            ):
                removed += int(client.zrem(key, member))
    return removed


def do_erase_customer(*, customer: Customer, actor, reason: str = "") -> None:
    """Erase the person's personal data everywhere the registry says it lives, in one transaction.
    Stored files and realtime caches are cleared once it commits (a rollback must not leave rows
    without files)."""
    with transaction.atomic():
        root = Customer.objects.select_for_update().get(pk=customer.pk)
        if root.merged_into_id:
            raise ErasureError(f"profile #{root.pk} was merged into #{root.merged_into_id}; erase that one")
        ids = person_ids(root)
        people = list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        found = collect(ids)
        counts, files = erase_rows(found.rows, secrets=found.secrets)
        counts["merged_profiles"] = len(ids) - 1
        for provider in providers():
            if provider.erased is not None:
                provider.erased(found)
        # Signed visitors get their id from the site's user id: the site decides whether they return.
        anonymous = [visitor_id for visitor_id in found.webchat_ids if visitor_id.startswith("a")]
        do_revoke_keys(kind=WEBCHAT_VISITOR, values=anonymous)
        now = timezone.now()
        Customer.tags.through.objects.filter(customer_id__in=[p.pk for p in people]).delete()
        Customer.objects.filter(pk__in=ids).update(erased_at=now)
        record(
            actor=actor,
            action=AuditAction.ERASE,
            customer_id=root.pk,
            merged_ids=ids[1:],
            counts=counts,
            # Known names are redacted from the reason too: an admin may well write who asked.
            reason=redacted(reason.strip(), found.secrets),
        )

        def after_commit() -> None:
            for name in files:
                default_storage.delete(name)
            try:
                _close_visitor_sockets(found.webchat_ids)
                _forget_realtime(
                    conversation_ids=set(found.conversation_ids),
                    webchat_ids=found.webchat_ids,
                    needles=found.needles,
                )
            except Exception:  # Redis down: the events expire on their own within the layer's expiry
                logger.warning("erasure of customer %s: realtime cache not cleared", root.pk, exc_info=True)

        transaction.on_commit(after_commit)
        publish(CustomerErased(customer_id=root.pk))
