"""Retention: how long each kind of data is kept, and the nightly clean-up that enforces it.

A kind without a policy row is kept forever. Only what is older than the policy's days is touched,
and cleaning is idempotent: rows already emptied are not counted again. Profiles cleans its own kinds
and the raw deliveries; the kinds of the apps above (message texts, attachments) are cleaned by the
functions their personal-data providers register.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.config_audit import CURRENT, track
from profiles.audit import record
from profiles.models import AuditAction, AuditEntry, RetentionPolicy
from profiles.personal_data import providers


class DataKind(models.TextChoices):
    RAW_INBOUND_EVENTS = "raw_inbound_events", _("Raw provider deliveries (after processing)")
    MESSAGES = "messages", _("Message texts of resolved conversations")
    ATTACHMENTS = "attachments", _("Message attachments")
    AUDIT_LOG = "audit_log", _("Audit log")


def policies() -> dict[str, int]:
    """Days to keep per data kind; kinds missing here are kept forever."""
    return dict(
        RetentionPolicy.objects.filter(data_kind__in=DataKind.values).values_list("data_kind", "days")
    )


@transaction.atomic
def do_save_policies(days_by_kind: dict[str, int | None], *, actor=None) -> None:
    """None removes a kind's policy (keep forever)."""
    changes = track(among=RetentionPolicy.objects.filter(data_kind__in=DataKind.values))
    for kind in DataKind.values:
        days = days_by_kind.get(kind)
        if days is None:
            RetentionPolicy.objects.filter(data_kind=kind).delete()
        else:
            RetentionPolicy.objects.update_or_create(data_kind=kind, defaults={"days": days})
    changes.record(actor=actor or CURRENT)


def _raw_inbound_events(cutoff: datetime) -> int:
    from channels_app.models import InboundEvent, InboundStatus

    # Pending events are still to be parsed; emptying them would lose the delivery itself.
    done = InboundEvent.objects.exclude(status=InboundStatus.PENDING).filter(
        models.Q(processed_at__lt=cutoff) | models.Q(processed_at__isnull=True, received_at__lt=cutoff)
    )
    return done.exclude(body=b"", headers={}).update(body=b"", headers={})


def _audit_log(cutoff: datetime) -> int:
    count, _deleted = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return count


def delete_files_after_commit(names: list[str]) -> None:
    """Files go only once the rows are gone for good: a rolled-back clean-up must not leave rows
    pointing at missing files."""
    from django.core.files.storage import default_storage

    def delete() -> None:
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


_OWN_CLEANERS: dict[str, Callable[[datetime], int]] = {
    DataKind.RAW_INBOUND_EVENTS: _raw_inbound_events,
    DataKind.AUDIT_LOG: _audit_log,
}


def cleaners() -> dict[str, Callable[[datetime], int]]:
    found = dict(_OWN_CLEANERS)
    for provider in providers():
        found.update(provider.retention)
    return found


def do_apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Apply every policy; returns how many rows each kind cleaned. One transaction per kind, so a
    failure in one kind does not undo the others."""
    now = now or timezone.now()
    cleaned: dict[str, int] = {}
    by_kind = cleaners()
    for kind, days in policies().items():
        if kind not in by_kind:
            # The app that holds this kind is not installed: there is nothing of it to clean.
            continue
        with transaction.atomic():
            cleaned[kind] = by_kind[kind](now - timedelta(days=days))
    if any(cleaned.values()):
        record(actor=None, action=AuditAction.ERASE, customer_id=None, retention=cleaned)
    return cleaned
