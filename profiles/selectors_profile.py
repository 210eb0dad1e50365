"""Reads for the customer profile page: a fixed number of queries however long the history.

Every list on the page comes from one query (bounded by a limit where a person can have thousands of
rows), so the page costs the same for a first-time visitor and for a customer of ten years.

Whatever is tied to a conversation (journey entries, the conversation list, the figures, survey answers)
is read through the viewer the registered visibility policy gives (profiles.profile_sections): an agent
sees the person, but only the part of their history that happened in conversations the agent may open.
The conversation and survey sections come from the apps that hold them, through the same module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from profiles.models import (
    AttributeDefinition,
    AttributeType,
    Customer,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    MergeSuggestion,
    SuggestionStatus,
    TimelineEntry,
)
from profiles.profile_sections import (
    CONVERSATIONS,
    FIGURES,
    LATEST_SCORES,
    SURVEYS,
    HistoryViewer,
    section,
)

TIMELINE_PAGE_SIZE = 50
NOTES_ON_PAGE = 10
NOTES_MAX = 500
MERGES_ON_PAGE = 20
SUGGESTIONS_ON_PAGE = 10
_CHAIN_LIMIT = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(-?\d{1,19})_(\d{1,19})$")

# Where an identity of each kind can be written to: consent is recorded per channel kind.
_CONSENT_KIND: dict[str, str] = {
    IdentityKind.EMAIL: "email",
    IdentityKind.PHONE: "sms",
    IdentityKind.WHATSAPP: "whatsapp",
    IdentityKind.TELEGRAM: "telegram",
    IdentityKind.MESSENGER: "messenger",
    IdentityKind.INSTAGRAM: "instagram",
}
_OPTED_OUT = frozenset({"denied", "withdrawn", "revoked", "refused", "opted_out", "unsubscribed"})


# --- Journey timeline ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cursor:
    """Position just after the last entry shown: (occurred_at, id) of that entry, newest first."""

    at: datetime
    id: int

    def encode(self) -> str:
        # Whole microseconds, so the timestamp round-trips exactly and ties are broken by id alone.
        delta = self.at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        match = _CURSOR.match(text or "")
        if not match:
            return None
        try:
            at = _EPOCH + timedelta(microseconds=int(match.group(1)))
        except OverflowError:
            return None
        return cls(at=at, id=int(match.group(2)))


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None


def timeline_query(
    customer_id: int, *, viewer: HistoryViewer, before: Cursor | None = None
) -> QuerySet[TimelineEntry]:
    """The customer's journey as the viewer may see it, newest first, strictly after `before`.

    Keyset, not OFFSET: any page is one range scan of `timeline_by_customer` (customer, -occurred_at,
    -id) however deep it is. `occurred_at <= t` bounds the scan; the OR only settles ties on t.
    """
    entries = viewer.timeline().filter(customer_id=customer_id)
    if before is not None:
        entries = entries.filter(occurred_at__lte=before.at).filter(
            Q(occurred_at__lt=before.at) | Q(id__lt=before.id)
        )
    return (
        entries.select_related("channel")
        .only(
            "id",
            "occurred_at",
            "kind",
            "summary",
            "data",
            "conversation_id",
            "customer_id",
            "channel__id",
            "channel__kind",
            "channel__name",
        )
        .order_by("-occurred_at", "-id")
    )


def timeline_page(
    customer_id: int, *, viewer: HistoryViewer, before: Cursor | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    # One row more than shown tells whether there is an older page, without a COUNT.
    rows = list(timeline_query(customer_id, viewer=viewer, before=before)[: size + 1])
    if len(rows) <= size:
        return TimelinePage(entries=rows, next_cursor=None)
    rows = rows[:size]
    return TimelinePage(entries=rows, next_cursor=Cursor(at=rows[-1].occurred_at, id=rows[-1].pk))


# --- The profile ------------------------------------------------------------------------------------
def find_customer(pk: int) -> Customer | None:
    """The profile as stored, merged away or not; None when there is no such id."""
    return Customer.objects.filter(pk=pk).first()


def survivor_id(customer: Customer) -> int | None:
    """Where a merged-away profile lives on now (following merges of merges); None if it is live."""
    if customer.merged_into_id is None:
        return None
    current: int = customer.merged_into_id
    for _ in range(_CHAIN_LIMIT):
        following = Customer.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if following is None:
            return current
        current = following
    return current


@dataclass
class AttributeRow:
    key: str
    label: str
    type: str
    value: Any


@dataclass
class ConsentRow:
    kind: str
    status: str  # granted, denied, unknown (no record)
    raw_status: str
    at: datetime | None
    source: str


@dataclass
class LifetimeFigures:
    conversations: int = 0
    open_conversations: int = 0
    messages: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass
class SuggestionView:
    suggestion: MergeSuggestion
    other: Customer
    other_identities: list[Identity]
    evidence: list[dict[str, Any]]


@dataclass
class ProfilePage:
    customer: Customer
    identities: list[Identity]
    attributes: list[AttributeRow]
    consent: list[ConsentRow]
    notes: list[CustomerNote]
    more_notes: bool
    figures: LifetimeFigures
    conversations: list[Any]
    surveys: list[Any]
    latest_scores: list[Any]
    suggestions: list[SuggestionView]
    merges: list[MergeLog]
    timeline: TimelinePage
    tags: list[Any] = field(default_factory=list)


def profile_page(customer: Customer, *, viewer: HistoryViewer, before: Cursor | None = None) -> ProfilePage:
    identities = list(customer.identities.order_by("kind", "-verified", "value"))
    notes = recent_notes(customer.pk, limit=NOTES_ON_PAGE + 1)
    return ProfilePage(
        customer=customer,
        identities=identities,
        attributes=attribute_rows(customer),
        consent=consent_rows(customer, identities),
        notes=notes[:NOTES_ON_PAGE],
        more_notes=len(notes) > NOTES_ON_PAGE,
        figures=lifetime_figures(customer, viewer=viewer),
        conversations=recent_conversations(customer.pk, viewer=viewer),
        surveys=survey_history(customer.pk, viewer=viewer),
        latest_scores=latest_scores(customer.pk, viewer=viewer),
        suggestions=open_suggestions(customer.pk),
        merges=merge_history(customer.pk),
        timeline=timeline_page(customer.pk, viewer=viewer, before=before),
        tags=list(customer.tags.all()),
    )


def recent_notes(customer_id: int, *, limit: int = NOTES_MAX) -> list[CustomerNote]:
    return list(
        CustomerNote.objects.filter(customer_id=customer_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


def _typed(definition: AttributeDefinition, value: Any) -> Any:
    """The stored JSON value as the template shows it; a value that no longer fits its type (the
    admin changed the type later) is shown as it is rather than hidden."""
    if definition.type == AttributeType.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def attribute_rows(customer: Customer) -> list[AttributeRow]:
    values = customer.attributes or {}
    if not values:
        return []
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(key__in=list(values))}
    rows = []
    for key, value in values.items():
        if value in (None, ""):
            continue
        definition = definitions.get(key)
        if definition is None:
            # Defined once and deleted since: still the customer's data, so it stays visible.
            rows.append(AttributeRow(key=key, label=key, type=AttributeType.TEXT, value=value))
        else:
            rows.append(
                AttributeRow(
                    key=key, label=definition.label, type=definition.type, value=_typed(definition, value)
                )
            )
    return sorted(rows, key=lambda row: row.label.lower())


def consent_rows(customer: Customer, identities: list[Identity]) -> list[ConsentRow]:
    recorded = customer.consent or {}
    kinds = list(recorded)
    for identity in identities:
        kind = _CONSENT_KIND.get(identity.kind)
        if kind and kind not in kinds:
            kinds.append(kind)
    rows = []
    for kind in kinds:
        state = recorded.get(kind)
        if not isinstance(state, dict):
            rows.append(ConsentRow(kind=kind, status="unknown", raw_status="", at=None, source=""))
            continue
        raw = str(state.get("status", "")).lower()
        status = "granted" if raw == "granted" else "denied" if raw in _OPTED_OUT else "unknown"
        at = parse_datetime(str(state.get("at", ""))) if state.get("at") else None
        rows.append(
            ConsentRow(kind=kind, status=status, raw_status=raw, at=at, source=str(state.get("source", "")))
        )
    return rows


def lifetime_figures(customer: Customer, *, viewer: HistoryViewer) -> LifetimeFigures:
    """The conversation figures the viewer may see, with the first and last sighting of the person
    anywhere (the profile's own dates count too)."""
    totals: LifetimeFigures = section(FIGURES, customer.pk, viewer, empty=LifetimeFigures())
    seen = [t for t in (customer.created_at, totals.first_seen) if t]
    last = [t for t in (customer.last_seen_at, totals.last_seen) if t]
    return LifetimeFigures(
        conversations=totals.conversations,
        open_conversations=totals.open_conversations,
        messages=totals.messages,
        first_seen=min(seen) if seen else None,
        last_seen=max(last) if last else None,
    )


def recent_conversations(customer_id: int, *, viewer: HistoryViewer) -> list[Any]:
    return section(CONVERSATIONS, customer_id, viewer)


def survey_history(customer_id: int, *, viewer: HistoryViewer) -> list[Any]:
    return section(SURVEYS, customer_id, viewer)


def latest_scores(customer_id: int, *, viewer: HistoryViewer) -> list[Any]:
    """The newest answer of each survey kind (NPS, CSAT, CES) the viewer may see, in one query."""
    return section(LATEST_SCORES, customer_id, viewer)


def open_suggestions(customer_id: int, *, limit: int = SUGGESTIONS_ON_PAGE) -> list[SuggestionView]:
    suggestions = list(
        MergeSuggestion.objects.filter(
            Q(customer_id=customer_id) | Q(other_id=customer_id), status=SuggestionStatus.OPEN
        )
        .select_related("customer", "other")
        .order_by("-created_at", "-id")[:limit]
    )
    if not suggestions:
        return []
    others = [s.other if s.customer_id == customer_id else s.customer for s in suggestions]
    by_customer: dict[int, list[Identity]] = {}
    for identity in Identity.objects.filter(customer_id__in=[o.pk for o in others]).order_by("kind", "value"):
        by_customer.setdefault(identity.customer_id, []).append(identity)
    return [
        SuggestionView(
            suggestion=s,
            other=other,
            other_identities=by_customer.get(other.pk, []),
            evidence=[_evidence(item) for item in s.evidence if isinstance(item, dict)],
        )
        for s, other in zip(suggestions, others, strict=True)
    ]


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    at = item.get("at")
    kind = str(item.get("kind", ""))
    label = IdentityKind(kind).label if kind in IdentityKind.values else kind
    return {**item, "kind": kind, "kind_label": label, "at": parse_datetime(str(at)) if at else None}


def merge_history(customer_id: int, *, limit: int = MERGES_ON_PAGE) -> list[MergeLog]:
    """Merges into this profile, and undone merges of this profile into another."""
    return list(
        MergeLog.objects.filter(Q(survivor_id=customer_id) | Q(merged_id=customer_id))
        .select_related("survivor", "merged", "actor", "undone_by")
        .order_by("-created_at", "-id")[:limit]
    )
