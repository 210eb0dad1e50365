"""Writes for customers and identities: who is writing, what they reveal, what the company tells us."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.events import CustomerCreated, publish
from profiles.attributes import STANDARD_FIELDS, clean_attributes
from profiles.models import (
    Customer,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeSuggestion,
    ResolutionAction,
    SuggestionStatus,
)
from profiles.normalize import match_key, normalize_identity, normalize_or_keep
from profiles.resolution import blocked_reason, merge_limit_reason, merge_order, rule_for, rules_by_kind


def do_resolve_sender(
    *, kind: str, value: str, display: str = "", locale: str = "", region: str = ""
) -> Customer:
    """The customer behind an identity, creating both on first contact.

    Two workers meeting the same new identity at once both try to insert it; the unique constraint on
    (kind, value) lets exactly one win and the other reads the winner's row. `region` is the channel's
    default country for phone numbers written without a country code.
    """
    value = normalize_or_keep(kind, value, region)
    identity = find_identity(kind, value)
    if identity is not None and identity.value == value:
        # The display name is filled in later, under the customer's lock (see fill_identity_display):
        # taking the identity's row lock first here could deadlock with a merge moving it.
        return identity.customer
    try:
        with transaction.atomic():
            if identity is not None:
                # Another spelling of a known mailbox: the same person, and this spelling is kept so
                # replies can go to the address they wrote from.
                customer = identity.customer
            else:
                customer = Customer.objects.create(
                    name=display[:200], locale=locale[:8], last_seen_at=timezone.now()
                )
                # Announced only if this insert wins: a lost race rolls the savepoint back, event too.
                publish(CustomerCreated(customer_id=customer.pk))
            Identity.objects.create(
                customer=customer, kind=kind, value=value, display=display[:200], source="message"
            )
            return customer
    except IntegrityError:
        return Identity.objects.select_related("customer").get(kind=kind, value=value).customer


def find_identity(kind: str, value: str) -> Identity | None:
    """The identity with this normalized value, or failing that one of the same mailbox."""
    identity = Identity.objects.select_related("customer").filter(kind=kind, value=value).first()
    if identity is None and kind == IdentityKind.EMAIL:
        same_mailbox = Identity.objects.select_related("customer").filter(kind=kind)
        identity = same_mailbox.filter(match_key=match_key(kind, value)).order_by("pk").first()
    return identity


def lock_customer(customer: Customer) -> Customer:
    """Lock the customer row for the rest of the transaction and return the live profile.

    A merge may have folded this profile into another between reading it and locking it; the rows
    it owned now belong to the survivor, so the survivor is the one to lock and write to. A merged
    profile is never locked on the way: holding it while waiting for the survivor is the reverse of the
    order a merge or a run of messages locks the pair in, and two such writers deadlock.
    """
    hops = [customer.pk]
    for _ in range(10):  # merge chains are short; the bound only guards against a corrupted cycle
        live = Customer.objects.select_for_update().filter(pk=hops[-1], merged_into__isnull=True).first()
        if live is not None:
            # Undoing a merge on the way needs the lock just taken, so a chain still intact now stays so.
            chain = dict(Customer.objects.filter(pk__in=hops[:-1]).values_list("pk", "merged_into_id"))
            if all(chain.get(pk) == after for pk, after in pairwise(hops)):
                return live
            hops = [customer.pk]
            continue
        row = Customer.objects.filter(pk=hops[-1]).values_list("merged_into_id").first()
        if row is None:
            raise Customer.DoesNotExist(f"customer {hops[-1]} no longer exists")
        if row[0] is not None:  # otherwise an undo made it live again: lock it on the next round
            hops.append(row[0])
    raise RuntimeError(f"merge chain from customer {customer.pk} does not end")


def fill_identity_display(*, customer: Customer, kind: str, value: str, display: str) -> None:
    """Remember the name a provider shows for this handle if we had none yet. Call under lock_customer."""
    if display:
        Identity.objects.filter(customer=customer, kind=kind, value=value, display="").update(
            display=display[:200]
        )


# --- Revealed identities ------------------------------------------------------------------------------
@dataclass
class AttachOutcome:
    """What happened to one identity a customer revealed."""

    kind: str
    value: str
    status: str  # attached, known, blocked, limit, suggested, merged, ignored, invalid
    detail: str = ""
    other_customer_id: int | None = None
    suggestion_id: int | None = None
    merge_log_id: int | None = None


def do_attach_identity(
    *,
    customer: Customer,
    kind: str,
    value: str,
    verified: bool,
    source: str,
    evidence: dict[str, Any] | None = None,
    region: str = "",
    actor=None,
) -> AttachOutcome:
    """Apply the resolution rules to an identity this customer revealed (typed in a chat, found in a
    signature, asserted by the company's systems). Never silently duplicates a person: when the
    identity already belongs to someone else, the rule merges (only on verified evidence) or suggests."""
    from profiles.merge import do_merge

    try:
        value = normalize_identity(kind, value, region)
    except ValueError as exc:
        return AttachOutcome(kind, value, "invalid", str(exc))
    reason = blocked_reason(kind, value)
    if reason:
        return AttachOutcome(kind, value, "blocked", reason)
    rule = rule_for(kind)
    existing = find_identity(kind, value)
    if existing is not None and existing.value != value and existing.customer_id == customer.pk:
        existing = None  # another spelling of the customer's own mailbox: simply add it
    if existing is None:
        if Identity.objects.filter(customer=customer, kind=kind).count() >= rule.max_per_customer:
            return AttachOutcome(kind, value, "limit", f"at most {rule.max_per_customer} per customer")
        try:
            with transaction.atomic():
                Identity.objects.create(
                    customer=customer, kind=kind, value=value, verified=verified, source=source[:32]
                )
        except IntegrityError:
            existing = Identity.objects.get(kind=kind, value=value)  # revealed elsewhere at the same time
        else:
            return AttachOutcome(kind, value, "attached")
    if existing.customer_id == customer.pk:
        if verified and not existing.verified:
            Identity.objects.filter(pk=existing.pk).update(verified=True)
        return AttachOutcome(kind, value, "known")

    other = Customer(pk=existing.customer_id)
    if rule.action == ResolutionAction.IGNORE:
        return AttachOutcome(kind, value, "ignored", other_customer_id=other.pk)
    proof = {"kind": kind, "value": value, "source": source, "verified": verified, **(evidence or {})}
    too_many = ""
    if rule.action == ResolutionAction.AUTO_MERGE and verified:
        too_many = merge_limit_reason(customer.pk, other.pk)
        if not too_many:
            survivor, merged = (Customer(pk=pk) for pk in merge_order(customer.pk, other.pk))
            reason = f"verified {kind} from {source}"
            log = do_merge(survivor=survivor, merged=merged, actor=actor, reason=reason)
            return AttachOutcome(kind, value, "merged", other_customer_id=other.pk, merge_log_id=log.pk)
    # Over a limit the evidence still reaches an agent, who knows whether it is one person after all.
    suggestion = do_suggest_merge(customer=customer, other=other, evidence=proof)
    return AttachOutcome(
        kind,
        value,
        "suggested",
        too_many,
        other_customer_id=other.pk,
        suggestion_id=suggestion.pk if suggestion else None,
    )


def do_suggest_merge(
    *, customer: Customer, other: Customer, evidence: dict[str, Any]
) -> MergeSuggestion | None:
    """One open suggestion per pair, whichever side revealed what; new evidence is added to it."""
    if customer.pk == other.pk:
        return None
    low, high = sorted((customer.pk, other.pk))
    item = {**evidence, "at": timezone.now().isoformat()}
    with transaction.atomic():
        suggestion = (
            MergeSuggestion.objects.select_for_update()
            .filter(customer_id=low, other_id=high, status=SuggestionStatus.OPEN)
            .first()
        )
        if suggestion is None:
            try:
                with transaction.atomic():
                    return MergeSuggestion.objects.create(customer_id=low, other_id=high, evidence=[item])
            except IntegrityError:
                suggestion = MergeSuggestion.objects.select_for_update().get(
                    customer_id=low, other_id=high, status=SuggestionStatus.OPEN
                )
        # Each message revealing it again is more evidence; only the very same one (a replayed
        # delivery, a retried identify call) is not.
        seen = [{k: v for k, v in e.items() if k != "at"} for e in suggestion.evidence]
        if evidence not in seen and len(suggestion.evidence) < 50:
            suggestion.evidence = [*suggestion.evidence, item]
            suggestion.save(update_fields=["evidence"])
    return suggestion


@transaction.atomic
def do_dismiss_suggestion(*, suggestion: MergeSuggestion, actor) -> MergeSuggestion:
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    return suggestion


# --- The company's systems: identify ------------------------------------------------------------------
@dataclass
class IdentifyResult:
    customer: Customer
    created: bool
    outcomes: list[AttachOutcome] = field(default_factory=list)


def do_identify(
    *,
    identities: list[tuple[str, str]],
    attributes: dict[str, Any] | None = None,
    source: str = "api",
    region: str = "",
    actor=None,
) -> IdentifyResult:
    """Upsert a customer from identities the company vouches for, strongest identity first.

    The owner of the strongest known identity is the customer; every other identity is attached to it
    under the resolution rules (so one that belongs to another profile merges or becomes a suggestion).
    Attributes are validated against the admin-defined types and overwrite what we had.
    """
    if not identities:
        raise ValueError("at least one identity is needed")
    fields, custom = clean_attributes(attributes or {})
    rules = rules_by_kind()
    normalized: list[tuple[str, str]] = []
    for kind, value in identities:
        normalized.append((kind, normalize_identity(kind, value, region)))  # ValueError for the caller
    normalized.sort(key=lambda item: rules[item[0]].priority if item[0] in rules else 100)

    with transaction.atomic():
        customer = None
        for kind, value in normalized:
            # A shared mailbox or test number may have written to us, but says nothing about who this is.
            identity = None if blocked_reason(kind, value) else find_identity(kind, value)
            if identity is not None:
                customer = identity.customer
                break
        created = customer is None
        if customer is None:
            customer = Customer.objects.create(last_seen_at=None)
            publish(CustomerCreated(customer_id=customer.pk))
        outcomes = []
        for kind, value in normalized:
            # An auto-merge may have folded the customer into a profile holding a still stronger
            # identity; what follows belongs to that one, never to the hidden profile.
            customer = lock_customer(customer)
            outcomes.append(
                do_attach_identity(
                    customer=customer, kind=kind, value=value, verified=True, source=source, actor=actor
                )
            )
        customer = lock_customer(customer)
        changed = [name for name, value in fields.items() if getattr(customer, name) != value]
        for name in changed:
            setattr(customer, name, fields[name])
        if custom:
            customer.attributes = {**customer.attributes, **custom}
            changed.append("attributes")
        if changed:
            customer.save(update_fields=changed)
    return IdentifyResult(customer=customer, created=created, outcomes=outcomes)


# --- Agents' edits on the profile -----------------------------------------------------------------------
@transaction.atomic
def do_update_profile(*, customer: Customer, values: dict[str, Any]) -> Customer:
    fields, custom = clean_attributes(values)
    customer = lock_customer(customer)
    for name in STANDARD_FIELDS:
        if name in fields:
            setattr(customer, name, fields[name])
    merged = {**customer.attributes, **custom}
    customer.attributes = {k: v for k, v in merged.items() if v not in (None, "")}
    customer.save(update_fields=[*STANDARD_FIELDS, "attributes"])
    return customer


def do_add_note(*, customer: Customer, author, body: str) -> CustomerNote:
    text = body.strip()
    if not text:
        raise ValueError("a note needs some text")
    return CustomerNote.objects.create(customer=customer, author=author, body=text[:10_000])
