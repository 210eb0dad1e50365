"""The person's data export: every field the registry marks exported, with the context to read it.

The personal fields of each row come from profiles.personal_data, so a field added to the registry
reaches the export without a change here; the ids, times and states around them are spelled out.
Sections of the apps above profiles (conversations, survey answers) come from their providers, which
build their rows with the helpers here so every section reads the same way.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from profiles.audit import record
from profiles.models import (
    AuditAction,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    MergeLog,
    TimelineEntry,
)
from profiles.personal_data import exported_fields, providers
from profiles.privacy_rows import person_ids

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 2

# Where each of profiles' models' rows are in customer.json; providers add theirs.
_OWN_SECTIONS = {
    "profiles.Customer": "profile",
    "profiles.Identity": "identities",
    "profiles.CustomerNote": "notes",
    "profiles.CustomerEvent": "events",
    "profiles.TimelineEntry": "timeline",
    "profiles.MergeLog": "merge_history",
}


def export_sections() -> dict[str, str]:
    """Where each model's rows are in customer.json ("conversations.messages": nested in each one)."""
    sections = dict(_OWN_SECTIONS)
    for provider in providers():
        sections.update(provider.sections)
    return sections


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def personal_values(obj: models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    fields = exported_fields(obj._meta.label)
    return {name: getattr(obj, name) for name in fields if name not in skip}


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        **personal_values(customer),
        "locale": customer.locale,
        "timezone": customer.timezone,
        "tags": [tag.name for tag in customer.tags.all()],
        "created_at": iso(customer.created_at),
        "last_seen_at": iso(customer.last_seen_at),
        "merged_into": customer.merged_into_id,
        "erased_at": iso(customer.erased_at),
    }


@dataclass
class ExportFile:
    path: str
    storage_name: str


@dataclass
class ExportContext:
    """What a provider's export gets: the person's profile ids, the files list to add stored files to,
    and what earlier providers found (conversations) or counted for the audit entry."""

    ids: list[int]
    files: list[ExportFile] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def attachment_path(message_id: int, filename: str, taken: set[str], attachment_id: int) -> str:
    safe = filename.replace("/", "_").replace("\\", "_").strip(". ") or f"attachment-{attachment_id}"
    path = f"attachments/{message_id}/{safe}"
    if path in taken:
        path = f"attachments/{message_id}/{attachment_id}-{safe}"
    taken.add(path)
    return path


def export_row(obj: models.Model, **context: Any) -> dict[str, Any]:
    return {"id": obj.pk, **{k: iso(v) for k, v in context.items()}, **personal_values(obj)}


def export_data(customer: Customer) -> tuple[dict[str, Any], list[ExportFile]]:
    """Everything held on the person, as JSON-ready data, plus the stored files to put beside it."""
    data, context = _export(customer)
    return data, context.files


def _export(customer: Customer) -> tuple[dict[str, Any], ExportContext]:
    ids = person_ids(customer)
    profiles = {c.pk: c for c in Customer.objects.filter(pk__in=ids).prefetch_related("tags")}
    context = ExportContext(ids=ids)
    provided: dict[str, Any] = {}
    for provider in providers():
        if provider.export is not None:
            provided.update(provider.export(context))
    merges = MergeLog.objects.filter(models.Q(survivor_id__in=ids) | models.Q(merged_id__in=ids))
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": iso(timezone.now()),
        "profile": _profile(profiles[customer.pk]),
        "merged_profiles": [_profile(profiles[pk]) for pk in ids[1:] if pk in profiles],
        "identities": [
            export_row(
                i,
                customer_id=i.customer_id,
                kind=i.kind,
                verified=i.verified,
                source=i.source,
                created_at=i.created_at,
            )
            for i in Identity.objects.filter(customer_id__in=ids).order_by("pk")
        ],
        "notes": [
            export_row(n, customer_id=n.customer_id, created_at=n.created_at)
            for n in CustomerNote.objects.filter(customer_id__in=ids).order_by("created_at", "pk")
        ],
        **provided,
        "events": [
            export_row(
                e,
                customer_id=e.customer_id,
                name=e.name,
                client_event_id=e.client_event_id,
                occurred_at=e.occurred_at,
            )
            for e in CustomerEvent.objects.filter(customer_id__in=ids).order_by("occurred_at", "pk")
        ],
        "timeline": [
            export_row(
                t,
                customer_id=t.customer_id,
                kind=t.kind,
                occurred_at=t.occurred_at,
                conversation_id=t.conversation_id,
                message_id=t.message_id,
                event_id=t.event_id,
                survey_response_id=t.survey_response_id,
            )
            for t in TimelineEntry.objects.filter(customer_id__in=ids).order_by("occurred_at", "pk")
        ],
        "merge_history": [
            export_row(
                log,
                survivor_id=log.survivor_id,
                merged_id=log.merged_id,
                created_at=log.created_at,
                undone_at=log.undone_at,
            )
            for log in merges.order_by("created_at", "pk")
        ],
    }
    return data, context


def do_export_customer(*, customer: Customer, actor) -> bytes:
    """One ZIP: customer.json and attachments/<message id>/<filename> for every stored file."""
    data, context = _export(customer)
    files = context.files
    buffer = io.BytesIO()
    missing = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for item in files:
            try:
                with default_storage.open(item.storage_name, "rb") as handle:
                    archive.writestr(item.path, handle.read())
            except FileNotFoundError:
                # The row outlived its file (restored backup, manual clean-up): say so, not fail.
                missing += 1
                logger.warning("export of customer %s: attachment file is missing", customer.pk)
    record(
        actor=actor,
        action=AuditAction.EXPORT,
        customer_id=customer.pk,
        merged_ids=[p["id"] for p in data["merged_profiles"]],
        **context.counts,
        files=len(files) - missing,
        missing_files=missing,
    )
    return buffer.getvalue()
