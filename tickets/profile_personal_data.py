"""The personal data conversations hold, for profiles' privacy tools: which fields, which of the
person's rows, what the export carries, and the retention clean-ups of message texts and attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models

from channels_app.models import OutboundMessage
from profiles import personal_data
from profiles.models import TimelineEntry, TimelineKind
from profiles.personal_data import Erase, Kind, NotPersonal, Personal, Provider
from profiles.privacy_export import ExportContext, ExportFile, attachment_path, export_row, personal_values
from profiles.privacy_rows import PersonRows
from profiles.retention import DataKind, delete_files_after_commit
from tickets.models import (
    Attachment,
    AttachmentStatus,
    Conversation,
    ConversationStatus,
    InternalNote,
    Message,
)

_M, _R = "tickets.Message", "messages"
PERSONAL: tuple[Personal, ...] = (
    Personal("tickets.Conversation", "subject", Kind.FREE_TEXT, Erase.BLANK, "conversations"),
    Personal(_M, "subject", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "body", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "html", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "full_text", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "metadata", Kind.METADATA, Erase.BLANK, _R),
    # Every id goes, not only those that spell a needle: many carry the handle where no text search
    # sees it (WhatsApp's wamid holds the number in base64), and a kept Message-ID would let a later
    # mail thread into the erased conversation through In-Reply-To.
    Personal(_M, "provider_message_id", Kind.IDENTIFIER, Erase.MARKER, _R, False),
    Personal("tickets.Attachment", "file", Kind.FILE, Erase.DELETE_FILE, "attachments"),
    Personal("tickets.Attachment", "filename", Kind.NAME, Erase.DELETE_ROW, "attachments"),
    Personal("tickets.Attachment", "content_id", Kind.IDENTIFIER, Erase.DELETE_ROW, "attachments", False),
    Personal("tickets.Attachment", "source_url", Kind.IDENTIFIER, Erase.DELETE_ROW, "attachments", False),
    Personal("tickets.Attachment", "reason", Kind.FREE_TEXT, Erase.DELETE_ROW, "attachments", False),
    # Notes on the person's conversations are about the person, whoever wrote them.
    Personal("tickets.InternalNote", "body", Kind.FREE_TEXT, Erase.BLANK, "internal_notes"),
)

NOT_PERSONAL: tuple[NotPersonal, ...] = (
    NotPersonal("tickets.Conversation", ("status", "priority"), "workflow states"),
    NotPersonal("tickets.Message", ("direction",), "in or out"),
    NotPersonal("tickets.Attachment", ("content_type", "status"), "a file type and a state"),
    NotPersonal("tickets.SavedView", (), "agents' inbox filters"),
    NotPersonal("tickets.BusinessHours", (), "the company's working hours"),
    NotPersonal("tickets.Holiday", (), "the company's holidays"),
    NotPersonal("tickets.SlaPolicy", (), "SLA settings"),
    NotPersonal("tickets.SlaBreachNotice", (), "which deadline of a conversation was announced as breached"),
    NotPersonal("tickets.Label", (), "labels shared by many conversations"),
    NotPersonal("tickets.AssignmentRule", (), "assignment settings"),
    NotPersonal("tickets.CannedResponse", (), "the company's reply templates"),
)


def _pks(queryset: models.QuerySet) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def collect(found: PersonRows) -> None:
    conversations = _pks(Conversation.objects.filter(customer_id__in=found.ids))
    messages = _pks(Message.objects.filter(conversation_id__in=conversations))
    linked = Message.objects.filter(pk__in=messages, inbound_event__isnull=False)
    found.conversation_ids = conversations
    found.rows.update(
        {
            "conversations": conversations,
            "messages": messages,
            "attachments": _pks(Attachment.objects.filter(message_id__in=messages)),
            "internal_notes": _pks(InternalNote.objects.filter(conversation_id__in=conversations)),
            # The raw deliveries and the sends of the person's messages; profiles adds those that name
            # the person elsewhere.
            "inbound": sorted(set(linked.values_list("inbound_event_id", flat=True))),
            "outbound": _pks(OutboundMessage.objects.filter(message_id__in=messages)),
        }
    )


def export(context: ExportContext) -> dict[str, Any]:
    taken: set[str] = set()

    def attachment_row(message: Message, attachment: Attachment) -> dict[str, Any]:
        item = {
            "id": attachment.pk,
            **personal_values(attachment, skip=("file",)),
            "content_type": attachment.content_type,
            "size": attachment.size,
            "status": attachment.status,
            "file": None,
        }
        if attachment.file and attachment.status == AttachmentStatus.STORED:
            path = attachment_path(message.pk, attachment.filename, taken, attachment.pk)
            item["file"] = path
            context.files.append(ExportFile(path=path, storage_name=str(attachment.file.name)))
        return item

    def message_row(message: Message) -> dict[str, Any]:
        delivery = getattr(message, "delivery", None) if message.direction == "out" else None
        return export_row(
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
        Conversation.objects.filter(customer_id__in=context.ids)
        .select_related("channel")
        .prefetch_related(models.Prefetch("messages", queryset=messages.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    rows = [
        export_row(
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
    context.conversation_ids = [c.pk for c in conversations]
    context.counts["conversations"] = len(rows)
    context.counts["messages"] = sum(len(row["messages"]) for row in rows)
    notes = InternalNote.objects.filter(conversation_id__in=context.conversation_ids)
    return {
        "conversations": rows,
        # Notes agents left on the person's conversations: they are about the person.
        "internal_notes": [
            export_row(n, conversation_id=n.conversation_id, created_at=n.created_at)
            for n in notes.order_by("created_at", "pk")
        ],
    }


def clean_messages(cutoff: datetime) -> int:
    conversations = Conversation.objects.filter(status=ConversationStatus.RESOLVED, resolved_at__lt=cutoff)
    messages = Message.objects.filter(conversation__in=conversations).exclude(
        body="", subject="", html="", full_text="", metadata={}
    )
    message_ids = list(messages.values_list("pk", flat=True))
    count = Message.objects.filter(pk__in=message_ids).update(
        body="", subject="", html="", full_text="", metadata={}
    )
    conversations.exclude(subject="").update(subject="")
    # The timeline repeats the first words of each message and the conversation subject.
    TimelineEntry.objects.filter(
        conversation__in=conversations,
        kind__in=[TimelineKind.MESSAGE, TimelineKind.CONVERSATION_OPENED, TimelineKind.CONVERSATION_RESOLVED],
    ).exclude(summary="").update(summary="")
    OutboundMessage.objects.filter(message_id__in=message_ids).update(payload={}, error="")
    return count


def clean_attachments(cutoff: datetime) -> int:
    old = Attachment.objects.filter(message__created_at__lt=cutoff)
    names = [name for name in old.values_list("file", flat=True) if name]
    count, _deleted = old.delete()
    delete_files_after_commit(names)
    return count


def register() -> None:
    personal_data.register(
        Provider(
            app="tickets",
            # First: the survey providers find answers through the person's conversations.
            order=10,
            personal=PERSONAL,
            not_personal=NOT_PERSONAL,
            collect=collect,
            export=export,
            sections={
                "tickets.Conversation": "conversations",
                "tickets.Message": "conversations.messages",
                "tickets.Attachment": "conversations.messages.attachments",
                "tickets.InternalNote": "internal_notes",
            },
            retention={DataKind.MESSAGES: clean_messages, DataKind.ATTACHMENTS: clean_attachments},
        )
    )
