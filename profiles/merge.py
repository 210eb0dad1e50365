"""Merging two profiles of one person, and undoing it exactly from the merge log.

A merge moves every row the merged profile owns to the survivor and keeps the merged profile itself
(hidden, `merged_into` set). The log records which rows moved and what the survivor looked like
before, so an undo moves exactly those rows back and restores the survivor's own fields.

Locking: both profiles are locked in primary-key order before anything moves. Ingestion locks the one
customer it writes to (and follows `merged_into` after locking, see `lock_customer`), so a message
arriving mid-merge either lands before the merge and moves with it, or waits and lands on the survivor.
A deadlock with a worker holding several customers is retried.

Rows of the apps above profiles (conversations, survey answers) are moved by their own apps through the
`merge_points` interceptors, in the same transaction; `CustomersMerged` is announced once it commits.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import OperationalError, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.events import CustomersMerged, intercept_all, publish
from profiles.attributes import STANDARD_FIELDS
from profiles.merge_points import CustomersMerging, CustomersUnmerging, HistoryWeighed
from profiles.models import (
    AuditAction,
    AuditEntry,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    MergeLog,
    MergeSuggestion,
    SuggestionStatus,
    TimelineEntry,
    TimelineKind,
)


class MergeError(ValueError):
    pass


# Profiles' own rows keyed by a customer; the apps above list theirs beside their merge interceptors.
OWN_MOVED: dict[str, type[models.Model]] = {
    "identity": Identity,
    "event": CustomerEvent,
    "timeline": TimelineEntry,
    "note": CustomerNote,
}


_KEPT_FIELDS = (*STANDARD_FIELDS, "attributes", "consent", "last_seen_at", "created_at")
_DEADLOCK_RETRIES = 3


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _load(name: str, value: Any) -> Any:
    return parse_datetime(value) if name in ("last_seen_at", "created_at") and value else value


def _lock_pair(a: int, b: int) -> tuple[Customer, Customer]:
    rows = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[a, b]).order_by("pk")}
    if len(rows) != 2:
        raise MergeError("one of the profiles no longer exists")
    return rows[a], rows[b]


def _retrying(operation):
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            return operation()
        except OperationalError:
            if attempt == _DEADLOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _later_consent(a: dict, b: dict) -> dict:
    """Per channel kind the most recent decision wins: it is the person's current wish."""
    merged = dict(b)
    for kind, state in a.items():
        other = merged.get(kind)
        if other is None or str(state.get("at", "")) >= str(other.get("at", "")):
            merged[kind] = state
    return merged


def do_merge(*, survivor: Customer, merged: Customer, actor=None, reason: str = "") -> MergeLog:
    if survivor.pk == merged.pk:
        raise MergeError("a profile cannot be merged into itself")
    return _retrying(lambda: _merge(survivor.pk, merged.pk, actor, reason))


@transaction.atomic
def _merge(survivor_id: int, merged_id: int, actor, reason: str) -> MergeLog:
    survivor, merged = _lock_pair(survivor_id, merged_id)
    if survivor.merged_into_id or merged.merged_into_id:
        raise MergeError("one of the profiles has already been merged into another")
    if survivor.erased_at or merged.erased_at:
        raise MergeError("an erased profile cannot be merged")

    snapshot: dict[str, Any] = {
        "survivor": {name: _dump(getattr(survivor, name)) for name in _KEPT_FIELDS},
        "moved": {},
    }
    for label, model in OWN_MOVED.items():
        ids = list(model._default_manager.filter(customer_id=merged.pk).values_list("pk", flat=True))
        model._default_manager.filter(pk__in=ids).update(customer_id=survivor.pk)
        snapshot["moved"][label] = ids
    moving = CustomersMerging(survivor_id=survivor.pk, merged_id=merged.pk)
    intercept_all(moving)
    snapshot["moved"].update(moving.moved)

    # Conflict policy: the survivor's own values win; the merged profile fills what the survivor lacks.
    for name in STANDARD_FIELDS:
        if not getattr(survivor, name) and getattr(merged, name):
            setattr(survivor, name, getattr(merged, name))
    survivor.attributes = {**merged.attributes, **survivor.attributes}
    survivor.consent = _later_consent(survivor.consent, merged.consent)
    seen = [t for t in (survivor.last_seen_at, merged.last_seen_at) if t]
    survivor.last_seen_at = max(seen) if seen else None
    survivor.created_at = min(survivor.created_at, merged.created_at)
    survivor.save(update_fields=list(_KEPT_FIELDS))

    survivor_tags = set(survivor.tags.values_list("pk", flat=True))
    added_tags = [pk for pk in merged.tags.values_list("pk", flat=True) if pk not in survivor_tags]
    survivor.tags.add(*added_tags)
    snapshot["tags_added"] = added_tags

    pair = models.Q(customer_id=merged.pk, other_id=survivor.pk) | models.Q(
        customer_id=survivor.pk, other_id=merged.pk
    )
    accepted = list(
        MergeSuggestion.objects.filter(pair, status=SuggestionStatus.OPEN).values_list("pk", flat=True)
    )
    MergeSuggestion.objects.filter(pk__in=accepted).update(
        status=SuggestionStatus.ACCEPTED, decided_by=actor, decided_at=timezone.now()
    )
    snapshot["suggestions_accepted"] = accepted

    merged.merged_into = survivor
    merged.save(update_fields=["merged_into"])
    entry = TimelineEntry.objects.create(
        customer=survivor,
        occurred_at=timezone.now(),
        kind=TimelineKind.MERGE,
        summary=f"#{merged.pk} → #{survivor.pk}",
        data={"merged_id": merged.pk, "reason": reason[:300]},
    )
    snapshot["timeline_entry"] = entry.pk
    log = MergeLog.objects.create(
        survivor=survivor, merged=merged, actor=actor, reason=reason[:300], snapshot=snapshot
    )
    entry.data = {**entry.data, "merge_log_id": log.pk}
    entry.save(update_fields=["data"])
    AuditEntry.objects.create(
        actor=actor,
        action=AuditAction.MERGE,
        customer_id_ref=survivor.pk,
        details={
            "merged_id": merged.pk,
            "merge_log_id": log.pk,
            "moved": {k: len(v) for k, v in snapshot["moved"].items()},
        },
    )
    publish(CustomersMerged(kept_id=survivor.pk, merged_id=merged.pk, actor_id=getattr(actor, "pk", None)))
    return log


def do_undo_merge(*, log: MergeLog, actor=None) -> MergeLog:
    return _retrying(lambda: _undo(log.pk, actor))


@transaction.atomic
def _undo(log_id: int, actor) -> MergeLog:
    log = MergeLog.objects.select_for_update().get(pk=log_id)
    if log.undone_at:
        raise MergeError("this merge has already been undone")
    survivor, merged = _lock_pair(log.survivor_id, log.merged_id)
    if survivor.merged_into_id:
        raise MergeError("the surviving profile was merged again since; undo that merge first")
    if merged.merged_into_id != survivor.pk:
        raise MergeError("the merged profile is no longer part of the survivor")
    snapshot = log.snapshot

    moved = snapshot["moved"]
    for label, model in OWN_MOVED.items():
        # Only rows still on the survivor go back; whatever arrived after the merge stays with it.
        model._default_manager.filter(pk__in=moved.get(label, []), customer_id=survivor.pk).update(
            customer_id=merged.pk
        )
    returning = CustomersUnmerging(survivor_id=survivor.pk, merged_id=merged.pk, moved=moved)
    intercept_all(returning)
    # A message that arrived after the merge in one of the merged profile's conversations went to the
    # survivor's timeline; it happened in that conversation, so its entry goes back with it instead of
    # pointing from one profile into the other's history.
    TimelineEntry.objects.filter(
        customer_id=survivor.pk, conversation_id__in=returning.returned_conversation_ids
    ).update(customer_id=merged.pk)
    for name, value in snapshot["survivor"].items():
        setattr(survivor, name, _load(name, value))
    survivor.save(update_fields=list(snapshot["survivor"]))
    survivor.tags.remove(*snapshot.get("tags_added", []))
    MergeSuggestion.objects.filter(pk__in=snapshot.get("suggestions_accepted", [])).update(
        status=SuggestionStatus.OPEN, decided_by=None, decided_at=None
    )
    TimelineEntry.objects.filter(pk=snapshot.get("timeline_entry")).delete()
    merged.merged_into = None
    merged.save(update_fields=["merged_into"])

    log.undone_at = timezone.now()
    log.undone_by = actor
    log.save(update_fields=["undone_at", "undone_by"])
    AuditEntry.objects.create(
        actor=actor,
        action=AuditAction.UNDO_MERGE,
        customer_id_ref=survivor.pk,
        details={"merged_id": merged.pk, "merge_log_id": log.pk},
    )
    return log


def do_accept_suggestion(*, suggestion: MergeSuggestion, actor) -> MergeLog:
    """The profile with more history survives, so fewer rows move and links agents shared stay valid."""
    if suggestion.status != SuggestionStatus.OPEN:
        raise MergeError("this suggestion has already been decided")
    pair = (suggestion.customer_id, suggestion.other_id)
    counts = dict.fromkeys(pair, 0)
    for weights in intercept_all(HistoryWeighed(customer_ids=pair)):
        for pk, weight in (weights or {}).items():
            counts[pk] += weight
    survivor_id, merged_id = sorted(counts, key=lambda pk: (-counts[pk], pk))
    return do_merge(
        survivor=Customer(pk=survivor_id),
        merged=Customer(pk=merged_id),
        actor=actor,
        reason=f"suggestion #{suggestion.pk} accepted",
    )
