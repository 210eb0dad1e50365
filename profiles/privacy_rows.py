"""Which rows hold one person's data: the row sets that the registry's entries name.

A person is a customer together with every profile merged into it (`Customer.merged_into`): the merge
moved that profile's rows to the survivor but kept the hidden profile itself, with its own fields.
Everything is collected before anything is changed, so one row set never depends on another's erasure.
Profiles collects its own rows and the raw deliveries; the apps above add theirs through their
personal-data providers, in order, each seeing what the earlier ones found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from django.db import connection, models

from profiles.models import (
    AuditEntry,
    BlockedIdentity,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    TimelineEntry,
)
from profiles.personal_data import personal_entries, providers

_CHAIN_LIMIT = 20  # merge chains are short; the bound only guards against a corrupted cycle


@dataclass
class PersonRows:
    ids: list[int]
    rows: dict[str, list[int]] = field(default_factory=dict)
    needles: list[str] = field(default_factory=list)
    # Known names and values, redacted from free text that must stay (an audit reason).
    secrets: list[str] = field(default_factory=list)
    webchat_ids: list[str] = field(default_factory=list)
    # The person's identity values as stored and as mailbox keys (recipients of what was sent to them).
    values: list[str] = field(default_factory=list)
    # The person's conversations, as the app that holds them found them: rows of other apps and
    # realtime events are tied to the person through them.
    conversation_ids: list[int] = field(default_factory=list)


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


def needles_of(identities: Iterable[Identity]) -> list[str]:
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


def _matching_inbound_ids(needles: list[str]) -> list[int]:
    """Raw deliveries that mention the person anywhere (status callbacks, failed or ignored payloads,
    group chats), found by searching the stored bytes and headers. A sequential scan, but erasure is
    rare and must be complete. Bounded so that the telegram id 50123 does not match in 950123456."""
    if not needles:
        return []
    patterns = [rf"(^|[^[:alnum:]]){re.escape(needle)}($|[^[:alnum:]])" for needle in needles]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM channels_app_inboundevent "
            "WHERE encode(body, 'escape') ~* ANY(%s) OR headers::text ~* ANY(%s) OR error ~* ANY(%s)",
            [patterns, patterns, patterns],
        )
        return [row[0] for row in cursor.fetchall()]


def _naming(model: type[models.Model], field_name: str, pks: list[int], needles: list[str]) -> list[int]:
    """The rows whose id chosen by others spells out one of the needles; the rest still recognise a
    redelivery, so they stay."""
    rows = model._default_manager.filter(pk__in=pks, **{f"{field_name}__isnull": False})
    return [
        pk for pk, value in rows.values_list("pk", field_name) if any(n in value.lower() for n in needles)
    ]


def _pks(queryset: models.QuerySet) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def collect(ids: list[int]) -> PersonRows:
    from channels_app.models import InboundEvent, OutboundMessage

    identities = list(Identity.objects.filter(customer_id__in=ids))
    values = sorted({i.value for i in identities} | {i.match_key for i in identities if i.match_key})
    needles = needles_of(identities)
    names = Customer.objects.filter(pk__in=ids).values_list("name", flat=True)
    found = PersonRows(
        ids=ids,
        needles=needles,
        secrets=[*values, *names, *(i.display for i in identities)],
        webchat_ids=[i.value for i in identities if i.kind == IdentityKind.WEBCHAT],
        values=values,
    )
    events = _pks(CustomerEvent.objects.filter(customer_id__in=ids))
    found.rows = {
        "customers": ids,
        "identities": [i.pk for i in identities],
        "customer_notes": _pks(CustomerNote.objects.filter(customer_id__in=ids)),
        "events": events,
        # The sender picks these ids and some build them from the customer's e-mail ("signup:<e-mail>").
        "events_named": _naming(CustomerEvent, "client_event_id", events, needles),
        "timeline": _pks(TimelineEntry.objects.filter(customer_id__in=ids)),
        "suggestions": _pks(
            MergeSuggestion.objects.filter(models.Q(customer_id__in=ids) | models.Q(other_id__in=ids))
        ),
        "merge_logs": _pks(
            MergeLog.objects.filter(models.Q(survivor_id__in=ids) | models.Q(merged_id__in=ids))
        ),
        "audit": _pks(AuditEntry.objects.filter(customer_id_ref__in=ids)),
        "blocked": _pks(BlockedIdentity.objects.filter(value__in=values)),
    }
    for provider in providers():
        if provider.collect is not None:
            provider.collect(found)
    # Deliveries a provider tied to the person's rows (a message's raw event, a reply's send), and
    # those that name the person anywhere.
    inbound = sorted(set(found.rows.get("inbound", [])) | set(_matching_inbound_ids(needles)))
    found.rows["inbound"] = inbound
    found.rows["inbound_named"] = _naming(InboundEvent, "dedup_key", inbound, needles)
    found.rows["outbound"] = sorted(
        set(found.rows.get("outbound", [])) | set(_pks(OutboundMessage.objects.filter(recipient__in=values)))
    )
    found.rows["admin_log"] = _admin_log_rows(found.rows)
    return found


def _admin_log_rows(rows: dict[str, list[int]]) -> list[int]:
    """Django admin's history of any object in the person's row sets."""
    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    query = models.Q(pk__in=[])
    entries = personal_entries()
    for label, name in {(entry.model, entry.rows) for entry in entries if entry.model != "admin.LogEntry"}:
        if rows.get(name):
            content_type = ContentType.objects.get_for_model(apps.get_model(label))
            query |= models.Q(content_type=content_type, object_id__in=[str(pk) for pk in rows[name]])
    return _pks(LogEntry.objects.filter(query))
