"""The person's data export: every field the registry marks exported, with the context to read it.

The personal fields of each row come from profiles.personal_data, so a field added to the registry
reaches the export without a change here; the ids, times and states around them are spelled out.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
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
from profiles.personal_data import exported_fields
from profiles.privacy_rows import person_ids

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 2

# Where each model's rows are in customer.json ("conversations.messages": nested in each conversation).
SECTIONS = {
    "profiles.Customer": "profile",
    "profiles.Identity": "identities",
    "profiles.CustomerNote": "notes",
    "profiles.CustomerEvent": "events",
    "profiles.TimelineEntry": "timeline",
    "profiles.MergeLog": "merge_history",
    "tickets.Conversation": "conversations",
    "tickets.Message": "conversations.messages",
    "tickets.Attachment": "conversations.messages.attachments",
    "tickets.InternalNote": "internal_notes",
    "surveys.Invitation": "survey_invitations",
    "surveys.SurveyResponse": "survey_responses",
    "surveys.FollowUp": "survey_follow_ups",
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _personal(obj: models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    fields = exported_fields(obj._meta.label)
    return {name: getattr(obj, name) for name in fields if name not in skip}


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        **_personal(customer),
        "locale": customer.locale,
        "timezone": customer.timezone,
        "tags": [tag.name for tag in customer.tags.all()],
        "created_at": _iso(customer.created_at),
        "last_seen_at": _iso(customer.last_seen_at),
        "merged_into": customer.merged_into_id,
        "erased_at": _iso(customer.erased_at),
    }


@dataclass
class ExportFile:
    path: str
    storage_name: str


def _attachment_path(message_id: int, filename: str, taken: set[str], attachment_id: int) -> str:
    safe = filename.replace("/", "_").replace("\\", "_").strip(". ") or f"attachment-{attachment_id}"
    path = f"attachments/{message_id}/{safe}"
    if path in taken:
        path = f"attachments/{message_id}/{attachment_id}-{safe}"
    taken.add(path)
    return path


def _row(obj: models.Model, **context: Any) -> dict[str, Any]:
    return {"id": obj.pk, **{k: _iso(v) for k, v in context.items()}, **_personal(obj)}


def _conversations(ids: list[int], files: list[ExportFile]) -> tuple[list[dict[str, Any]], list[int]]:
    from tickets.models import Attachment, AttachmentStatus, Conversation, Message

    taken: set[str] = set()

    def attachment_row(message: Message, attachment: Attachment) -> dict[str, Any]:
        item = {
            "id": attachment.pk,
            **_personal(attachment, skip=("file",)),
            "content_type": attachment.content_type,
            "size": attachment.size,
            "status": attachment.status,
            "file": None,
        }
        if attachment.file and attachment.status == AttachmentStatus.STORED:
            path = _attachment_path(message.pk, attachment.filename, taken, attachment.pk)
            item["file"] = path
            files.append(ExportFile(path=path, storage_name=str(attachment.file.name)))
        return item

    def message_row(message: Message) -> dict[str, Any]:
        delivery = getattr(message, "delivery", None) if message.direction == "out" else None
        return _row(
            message,
            direction=message.direction,
            channel=message.channel.name,
            channel_kind=message.channel.kind,
            created_at=message.created_at,
            delivery_status=delivery.status if delivery else None,
            delivery_status_at=delivery.status_at if delivery else None,
        ) | {"attachments": [attachment_row(message, a) for a in message.attachments.all()]}

    messages = Message.objects.select_related("channel", "delivery").prefetch_related(
        models.Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    conversations = list(
        Conversation.objects.filter(customer_id__in=ids)
        .select_related("channel")
        .prefetch_related(models.Prefetch("messages", queryset=messages.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    rows = [
        _row(
            c,
            customer_id=c.customer_id,
            channel=c.channel.name,
            channel_kind=c.channel.kind,
            status=c.status,
            created_at=c.created_at,
            resolved_at=c.resolved_at,
        )
        | {"messages": [message_row(m) for m in c.messages.all()]}
        for c in conversations
    ]
    return rows, [c.pk for c in conversations]


def _surveys(ids: list[int], conversation_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    from surveys.invitation_models import FollowUp, Invitation
    from surveys.models import SurveyResponse

    mine = models.Q(customer_id__in=ids) | models.Q(conversation_id__in=conversation_ids)
    invitations = (
        Invitation.objects.filter(mine).select_related("survey", "channel").order_by("created_at", "pk")
    )
    responses = SurveyResponse.objects.filter(mine).select_related("survey").order_by("created_at", "pk")
    follow_ups = FollowUp.objects.filter(
        models.Q(response__customer_id__in=ids) | models.Q(conversation_id__in=conversation_ids)
    ).order_by("opened_at", "pk")
    return {
        "survey_invitations": [
            _row(
                i,
                survey=i.survey.name,
                medium=i.medium,
                channel=i.channel.name if i.channel else None,
                status=i.status,
                created_at=i.created_at,
                sent_at=i.sent_at,
                answered_at=i.answered_at,
            )
            for i in invitations
        ],
        "survey_responses": [
            _row(
                r,
                customer_id=r.customer_id,
                survey=r.survey.name,
                survey_kind=r.survey.kind,
                score=r.score,
                conversation_id=r.conversation_id,
                invitation_id=r.invitation_id,
                created_at=r.created_at,
            )
            for r in responses
        ],
        "survey_follow_ups": [
            _row(
                f,
                response_id=f.response_id,
                conversation_id=f.conversation_id,
                outcome=f.outcome,
                opened_at=f.opened_at,
                closed_at=f.closed_at,
            )
            for f in follow_ups
        ],
    }


def export_data(customer: Customer) -> tuple[dict[str, Any], list[ExportFile]]:
    """Everything held on the person, as JSON-ready data, plus the stored files to put beside it."""
    from tickets.models import InternalNote

    ids = person_ids(customer)
    profiles = {c.pk: c for c in Customer.objects.filter(pk__in=ids).prefetch_related("tags")}
    files: list[ExportFile] = []
    conversations, conversation_ids = _conversations(ids, files)
    notes = InternalNote.objects.filter(conversation_id__in=conversation_ids).order_by("created_at", "pk")
    merges = MergeLog.objects.filter(models.Q(survivor_id__in=ids) | models.Q(merged_id__in=ids))
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _iso(timezone.now()),
        "profile": _profile(profiles[customer.pk]),
        "merged_profiles": [_profile(profiles[pk]) for pk in ids[1:] if pk in profiles],
        "identities": [
            _row(
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
            _row(n, customer_id=n.customer_id, created_at=n.created_at)
            for n in CustomerNote.objects.filter(customer_id__in=ids).order_by("created_at", "pk")
        ],
        "conversations": conversations,
        # Notes agents left on the person's conversations: they are about the person.
        "internal_notes": [
            _row(n, conversation_id=n.conversation_id, created_at=n.created_at) for n in notes
        ],
        "events": [
            _row(
                e,
                customer_id=e.customer_id,
                name=e.name,
                client_event_id=e.client_event_id,
                occurred_at=e.occurred_at,
            )
            for e in CustomerEvent.objects.filter(customer_id__in=ids).order_by("occurred_at", "pk")
        ],
        **_surveys(ids, conversation_ids),
        "timeline": [
            _row(
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
            _row(
                log,
                survivor_id=log.survivor_id,
                merged_id=log.merged_id,
                created_at=log.created_at,
                undone_at=log.undone_at,
            )
            for log in merges.order_by("created_at", "pk")
        ],
    }
    return data, files


def do_export_customer(*, customer: Customer, actor) -> bytes:
    """One ZIP: customer.json and attachments/<message id>/<filename> for every stored file."""
    data, files = export_data(customer)
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
        conversations=len(data["conversations"]),
        messages=sum(len(c["messages"]) for c in data["conversations"]),
        files=len(files) - missing,
        missing_files=missing,
    )
    return buffer.getvalue()
