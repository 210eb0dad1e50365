"""GDPR tools for one person: export everything we hold on them, or erase it.

A person is a customer together with every profile merged into it (`Customer.merged_into`): the merge
moved that profile's rows to the survivor but kept the hidden profile itself, with its own fields.

Erasure keeps the shape of the data that statistics are built on (conversation and message rows with
their times, channels and directions, survey scores, event names and times) and removes every text
and value that says who the person is or what they wrote.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import quote, quote_plus

from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from profiles.attributes import STANDARD_FIELDS
from profiles.audit import record
from profiles.models import (
    AuditAction,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    TimelineEntry,
)

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1
_CHAIN_LIMIT = 20  # merge chains are short; the bound only guards against a corrupted cycle
_ERASED_FIELDS = ("name", "company", "location")
# Snapshot fields of the merge log that describe the person (locale and time zone are not personal).
_SNAPSHOT_PERSONAL = ("name", "company", "location", "attributes", "consent")


class ErasureError(ValueError):
    pass


# --- Who the person is ------------------------------------------------------------------------------
def person_ids(customer: Customer) -> list[int]:
    """The customer's id and the ids of every profile merged into it, directly or through a chain."""
    ids = [customer.pk]
    frontier = [customer.pk]
    for _ in range(_CHAIN_LIMIT):
        frontier = list(
            Customer.objects.filter(merged_into_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if not frontier:
            break
        ids.extend(frontier)
    return ids


def _needles(identities: Iterable[Identity]) -> list[str]:
    """The spellings under which the person's identity values appear in raw provider payloads: as
    stored, as the mailbox key, form-encoded (Twilio, Mailgun) and, for numbers, without the plus
    (Meta sends WhatsApp numbers as bare digits)."""
    found: set[str] = set()
    for identity in identities:
        for value in (identity.value, identity.match_key):
            if not value:
                continue
            found.update({value, quote(value, safe=""), quote_plus(value)})
            if identity.kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
                digits = re.sub(r"\D", "", value)
                if len(digits) >= 8:
                    found.add(digits)
    return sorted(v.lower() for v in found if len(v) >= 4)


def _bounded_patterns(needles: list[str]) -> list[str]:
    # Bounded so that the telegram id 50123 does not match inside 950123456.
    return [rf"(^|[^[:alnum:]]){re.escape(needle)}($|[^[:alnum:]])" for needle in needles]


def _replace_ids(
    model: type[models.Model], field: str, pks: Iterable[int], *, naming: list[str] | None = None
) -> None:
    """Ids chosen by others (providers, the company's systems) become `erased:<row id>`: as unique as
    the original was (per channel, or at all), yet made of nothing the person sent. A hash of the old
    id would not do: chat ids and numbers are few enough to hash every one and find hers. With
    `naming`, only ids that spell out one of those needles go; the rest still recognise a redelivery."""
    rows = model._default_manager.filter(pk__in=list(pks), **{f"{field}__isnull": False})
    if naming is not None:
        found = [pk for pk, value in rows.values_list("pk", field) if any(n in value.lower() for n in naming)]
        rows = model._default_manager.filter(pk__in=found)
    rows.update(**{field: Concat(Value("erased:"), Cast("pk", output_field=models.CharField()))})


# --- Export -----------------------------------------------------------------------------------------
def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        **{name: getattr(customer, name) for name in STANDARD_FIELDS},
        "attributes": customer.attributes,
        "consent": customer.consent,
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


def export_data(customer: Customer) -> tuple[dict[str, Any], list[ExportFile]]:
    """Everything held on the person, as JSON-ready data, plus the stored files to put beside it."""
    from surveys.models import SurveyResponse
    from tickets.models import Attachment, AttachmentStatus, Conversation, Message

    ids = person_ids(customer)
    profiles = {c.pk: c for c in Customer.objects.filter(pk__in=ids).prefetch_related("tags")}
    files: list[ExportFile] = []
    taken: set[str] = set()

    def message_row(message: Message) -> dict[str, Any]:
        delivery = getattr(message, "delivery", None) if message.direction == "out" else None
        attachments = []
        for attachment in message.attachments.all():
            item: dict[str, Any] = {
                "id": attachment.pk,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "status": attachment.status,
                "file": None,
            }
            if attachment.file and attachment.status == AttachmentStatus.STORED:
                path = _attachment_path(message.pk, attachment.filename, taken, attachment.pk)
                item["file"] = path
                files.append(ExportFile(path=path, storage_name=str(attachment.file.name)))
            attachments.append(item)
        return {
            "id": message.pk,
            "direction": message.direction,
            "channel": message.channel.name,
            "channel_kind": message.channel.kind,
            "subject": message.subject,
            "body": message.body,
            "html": message.html,
            "full_text": message.full_text,
            "metadata": message.metadata,
            "created_at": _iso(message.created_at),
            "delivery_status": delivery.status if delivery else None,
            "delivery_status_at": _iso(delivery.status_at) if delivery else None,
            "attachments": attachments,
        }

    messages = Message.objects.select_related("channel", "delivery").prefetch_related(
        models.Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    conversations = (
        Conversation.objects.filter(customer_id__in=ids)
        .select_related("channel")
        .prefetch_related(models.Prefetch("messages", queryset=messages.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _iso(timezone.now()),
        "profile": _profile(profiles[customer.pk]),
        "merged_profiles": [_profile(profiles[pk]) for pk in ids[1:] if pk in profiles],
        "identities": [
            {
                "id": i.pk,
                "customer_id": i.customer_id,
                "kind": i.kind,
                "value": i.value,
                "display": i.display,
                "verified": i.verified,
                "source": i.source,
                "created_at": _iso(i.created_at),
            }
            for i in Identity.objects.filter(customer_id__in=ids).order_by("pk")
        ],
        "notes": [
            {"id": n.pk, "customer_id": n.customer_id, "body": n.body, "created_at": _iso(n.created_at)}
            for n in CustomerNote.objects.filter(customer_id__in=ids).order_by("created_at", "pk")
        ],
        "conversations": [
            {
                "id": c.pk,
                "customer_id": c.customer_id,
                "channel": c.channel.name,
                "channel_kind": c.channel.kind,
                "subject": c.subject,
                "status": c.status,
                "created_at": _iso(c.created_at),
                "resolved_at": _iso(c.resolved_at),
                "messages": [message_row(m) for m in c.messages.all()],
            }
            for c in conversations
        ],
        "events": [
            {
                "id": e.pk,
                "customer_id": e.customer_id,
                "name": e.name,
                "client_event_id": e.client_event_id,
                "occurred_at": _iso(e.occurred_at),
                "properties": e.properties,
            }
            for e in CustomerEvent.objects.filter(customer_id__in=ids).order_by("occurred_at", "pk")
        ],
        "survey_responses": [
            {
                "id": r.pk,
                "customer_id": r.customer_id,
                "survey": r.survey.name,
                "survey_kind": r.survey.kind,
                "score": r.score,
                "comment": r.comment,
                "conversation_id": r.conversation_id,
                "created_at": _iso(r.created_at),
            }
            for r in SurveyResponse.objects.filter(customer_id__in=ids)
            .select_related("survey")
            .order_by("pk")
        ],
        "timeline": [
            {
                "id": t.pk,
                "customer_id": t.customer_id,
                "kind": t.kind,
                "occurred_at": _iso(t.occurred_at),
                "summary": t.summary,
                "data": t.data,
                "conversation_id": t.conversation_id,
                "message_id": t.message_id,
                "event_id": t.event_id,
                "survey_response_id": t.survey_response_id,
            }
            for t in TimelineEntry.objects.filter(customer_id__in=ids).order_by("occurred_at", "pk")
        ],
        "merge_history": [
            {
                "id": log.pk,
                "survivor_id": log.survivor_id,
                "merged_id": log.merged_id,
                "reason": log.reason,
                "created_at": _iso(log.created_at),
                "undone_at": _iso(log.undone_at),
                "snapshot": log.snapshot,
            }
            for log in MergeLog.objects.filter(
                models.Q(survivor_id__in=ids) | models.Q(merged_id__in=ids)
            ).order_by("created_at", "pk")
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


# --- Erasure ----------------------------------------------------------------------------------------
def _redacted(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(secret), "[removed]", text, flags=re.IGNORECASE)
    return text


def _matching_inbound_ids(needles: list[str]) -> list[int]:
    """Raw deliveries that mention the person anywhere (status callbacks, failed or ignored payloads,
    group chats), found by searching the stored bytes and headers. A sequential scan, but erasure is
    rare and must be complete."""
    if not needles:
        return []
    patterns = _bounded_patterns(needles)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM channels_app_inboundevent "
            "WHERE encode(body, 'escape') ~* ANY(%s) OR headers::text ~* ANY(%s) OR error ~* ANY(%s)",
            [patterns, patterns, patterns],
        )
        return [row[0] for row in cursor.fetchall()]


def _scrub_inbound(ids: set[int], needles: list[str]) -> int:
    from channels_app.models import InboundEvent

    count = InboundEvent.objects.filter(pk__in=ids).update(body=b"", headers={}, error="")
    _replace_ids(InboundEvent, "dedup_key", ids, naming=needles)
    return count


def _scrub_outbound(message_ids: list[int], values: list[str]) -> int:
    from channels_app.models import OutboundMessage

    rows = OutboundMessage.objects.filter(
        models.Q(message_id__in=message_ids) | models.Q(recipient__in=values)
    )
    ids = list(rows.values_list("pk", flat=True))
    count = OutboundMessage.objects.filter(pk__in=ids).update(recipient="", payload={}, error="")
    # Also keeps a late status callback from writing the provider's error text (often naming the
    # number) back onto the row.
    _replace_ids(OutboundMessage, "provider_message_id", ids)
    return count


def _scrub_messages(message_ids: list[int]) -> int:
    from tickets.models import Message

    count = Message.objects.filter(pk__in=message_ids).update(
        subject="", body="", html="", full_text="", metadata={}
    )
    # Every id goes, not only those that spell a needle: many carry the handle where no text search
    # sees it (WhatsApp's wamid holds the number in base64, a Message-ID may hold the sender's name),
    # and a kept id would let a later mail thread into the erased conversation through In-Reply-To.
    _replace_ids(Message, "provider_message_id", message_ids)
    return count


def _scrub_merge_logs(ids: list[int]) -> int:
    logs = list(MergeLog.objects.filter(models.Q(survivor_id__in=ids) | models.Q(merged_id__in=ids)))
    for log in logs:
        snapshot = dict(log.snapshot or {})
        survivor = dict(snapshot.get("survivor") or {})
        for name in _SNAPSHOT_PERSONAL:
            if name in survivor:
                survivor[name] = {} if name in ("attributes", "consent") else ""
        snapshot["survivor"] = survivor
        log.snapshot = snapshot
        log.reason = ""
    MergeLog.objects.bulk_update(logs, ["snapshot", "reason"])
    return len(logs)


def _scrub_admin_log(objects: dict[type[models.Model], Iterable[int]]) -> None:
    """Django admin's history repeats each object's str() (a customer's name, a note's text)."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    for model, pks in objects.items():
        keys = [str(pk) for pk in pks]
        if keys:
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id__in=keys
            ).update(object_repr="#erased", change_message="")


def _forget_realtime(*, conversation_ids: set[int], webchat_ids: list[str], needles: list[str]) -> int:
    """Undelivered realtime events (message previews waiting in the channel layer for up to its
    expiry) and the web chat visitor's socket groups. Nothing else in Redis is keyed by a person."""
    from channels.layers import get_channel_layer

    from cxm.redis import get_redis

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
    """Erase the person's personal data everywhere it lives, in one transaction. Stored files and
    realtime caches are cleared once it commits (a rollback must not leave rows without files)."""
    from surveys.models import SurveyResponse
    from tickets.models import Attachment, Conversation, Message

    with transaction.atomic():
        root = Customer.objects.select_for_update().get(pk=customer.pk)
        if root.merged_into_id:
            raise ErasureError(f"profile #{root.pk} was merged into #{root.merged_into_id}; erase that one")
        ids = person_ids(root)
        people = list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        identities = list(Identity.objects.filter(customer_id__in=ids))
        needles = _needles(identities)
        values = [i.value for i in identities]
        webchat_ids = [i.value for i in identities if i.kind == IdentityKind.WEBCHAT]
        # Known names are redacted from the reason too: an admin may well write who asked.
        secrets = [*values, *(p.name for p in people), *(i.display for i in identities)]

        conversation_ids = list(Conversation.objects.filter(customer_id__in=ids).values_list("pk", flat=True))
        message_ids = list(
            Message.objects.filter(conversation_id__in=conversation_ids).values_list("pk", flat=True)
        )
        linked_events = set(
            Message.objects.filter(pk__in=message_ids, inbound_event__isnull=False).values_list(
                "inbound_event_id", flat=True
            )
        )
        inbound_ids = linked_events | set(_matching_inbound_ids(needles))

        attachments = Attachment.objects.filter(message_id__in=message_ids)
        attachment_ids = list(attachments.values_list("pk", flat=True))
        files = [name for name in attachments.values_list("file", flat=True) if name]
        note_ids = list(CustomerNote.objects.filter(customer_id__in=ids).values_list("pk", flat=True))

        counts = {
            "merged_profiles": len(ids) - 1,
            "identities": len(identities),
            "conversations": len(conversation_ids),
            "messages": _scrub_messages(message_ids),
            "attachments": len(attachment_ids),
            "inbound_events": _scrub_inbound(inbound_ids, needles),
            "outbound_messages": _scrub_outbound(message_ids, values),
            "notes": len(note_ids),
        }
        Conversation.objects.filter(pk__in=conversation_ids).update(subject="")
        attachments.delete()
        Identity.objects.filter(pk__in=[i.pk for i in identities]).delete()
        CustomerNote.objects.filter(pk__in=note_ids).delete()
        events = CustomerEvent.objects.filter(customer_id__in=ids)
        event_ids = list(events.values_list("pk", flat=True))
        counts["events"] = events.update(properties={})
        # The sender picks these ids and some build them from the customer's e-mail ("signup:<e-mail>").
        _replace_ids(CustomerEvent, "client_event_id", event_ids, naming=needles)
        counts["timeline_entries"] = TimelineEntry.objects.filter(customer_id__in=ids).update(
            summary="", data={}
        )
        counts["survey_responses"] = SurveyResponse.objects.filter(
            models.Q(customer_id__in=ids) | models.Q(conversation_id__in=conversation_ids)
        ).update(comment="")
        counts["merge_suggestions"], _ = MergeSuggestion.objects.filter(
            models.Q(customer_id__in=ids) | models.Q(other_id__in=ids)
        ).delete()
        counts["merge_logs"] = _scrub_merge_logs(ids)

        now = timezone.now()
        for person in people:
            for name in _ERASED_FIELDS:
                setattr(person, name, "")
            person.attributes = {}
            person.consent = {}
            person.erased_at = now
            person.tags.clear()
        Customer.objects.bulk_update(people, [*_ERASED_FIELDS, "attributes", "consent", "erased_at"])

        _scrub_admin_log(
            {
                Customer: ids,
                Identity: [i.pk for i in identities],
                CustomerNote: note_ids,
                Conversation: conversation_ids,
                Attachment: attachment_ids,
            }
        )
        record(
            actor=actor,
            action=AuditAction.ERASE,
            customer_id=root.pk,
            merged_ids=ids[1:],
            counts=counts,
            reason=_redacted(reason.strip(), secrets),
        )

        def after_commit() -> None:
            for name in files:
                default_storage.delete(name)
            try:
                _forget_realtime(
                    conversation_ids=set(conversation_ids), webchat_ids=webchat_ids, needles=needles
                )
            except Exception:  # Redis down: the events expire on their own within the layer's expiry
                logger.warning("erasure of customer %s: realtime cache not cleared", root.pk, exc_info=True)

        transaction.on_commit(after_commit)
