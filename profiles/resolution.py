"""Identity resolution policy: what a revealed identity may do (rules, limits, blocked values).

The decisions live here; `profiles.services` applies them. Defaults follow one principle: only verified
evidence links people automatically. An e-mail typed in a chat could be anyone's, so by default it
becomes a suggestion an agent confirms; the site's signed user id is proof and merges on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.db.models import Count

from profiles.models import BlockedIdentity, Identity, IdentityKind, ResolutionAction, ResolutionRule
from profiles.normalize import NormalizationError, match_key, normalize_identity


@dataclass(frozen=True)
class Rule:
    kind: str
    action: str
    priority: int
    max_per_customer: int


# Used for kinds without a ResolutionRule row. Lower priority number = stronger identity: when two
# profiles meet, the one holding the stronger identity survives the merge.
DEFAULT_RULES: dict[str, Rule] = {
    IdentityKind.EXTERNAL_ID: Rule(IdentityKind.EXTERNAL_ID, ResolutionAction.AUTO_MERGE, 10, 1),
    IdentityKind.EMAIL: Rule(IdentityKind.EMAIL, ResolutionAction.SUGGEST, 20, 5),
    IdentityKind.PHONE: Rule(IdentityKind.PHONE, ResolutionAction.SUGGEST, 30, 3),
    IdentityKind.WHATSAPP: Rule(IdentityKind.WHATSAPP, ResolutionAction.SUGGEST, 30, 3),
    IdentityKind.TELEGRAM: Rule(IdentityKind.TELEGRAM, ResolutionAction.SUGGEST, 40, 2),
    IdentityKind.MESSENGER: Rule(IdentityKind.MESSENGER, ResolutionAction.SUGGEST, 40, 2),
    IdentityKind.INSTAGRAM: Rule(IdentityKind.INSTAGRAM, ResolutionAction.SUGGEST, 40, 2),
    # Every browser a person uses is another visitor id; anonymous ids never prove anything.
    IdentityKind.WEBCHAT: Rule(IdentityKind.WEBCHAT, ResolutionAction.SUGGEST, 90, 50),
}

# Shared and role mailboxes in English, Polish and Russian use, and well-known test numbers. Patterns
# use shell wildcards; admins add their own as BlockedIdentity rows.
BUILTIN_BLOCKED: dict[str, tuple[str, ...]] = {
    IdentityKind.EMAIL: (
        "info@*",
        "office@*",
        "support@*",
        "help@*",
        "sales@*",
        "admin@*",
        "contact@*",
        "hello@*",
        "noreply@*",
        "no-reply@*",
        "do-not-reply@*",
        "donotreply@*",
        "mailer-daemon@*",
        "postmaster@*",
        "biuro@*",
        "kontakt@*",
        "sekretariat@*",
        "zamowienia@*",
        "pochta@*",
        "zakaz@*",
        "test@*",
        "*@example.invalid",
    ),
    IdentityKind.PHONE: ("+70000000000", "+48000000000", "+1555555010?", "+1555555011?", "+44770090????"),
    IdentityKind.WHATSAPP: ("+70000000000", "+48000000000", "+1555555010?"),
}


def rule_for(kind: str) -> Rule:
    row = ResolutionRule.objects.filter(kind=kind).first()
    if row is not None:
        return Rule(row.kind, row.action, row.priority, row.max_per_customer)
    return DEFAULT_RULES.get(kind, Rule(kind, ResolutionAction.SUGGEST, 100, 5))


def rules_by_kind() -> dict[str, Rule]:
    rules = dict(DEFAULT_RULES)
    for row in ResolutionRule.objects.all():
        rules[row.kind] = Rule(row.kind, row.action, row.priority, row.max_per_customer)
    return rules


def blocked_reason(kind: str, value: str) -> str:
    """Why this (normalized) value must never link two people, or "" when it may. Patterns: exact, or
    with `*`/`?`. Another spelling of a blocked mailbox (`in.fo+x@gmail.com`) is that mailbox."""
    subjects = {value, match_key(kind, value)}
    candidates = [(pattern, "") for pattern in BUILTIN_BLOCKED.get(kind, ())]
    candidates += list(BlockedIdentity.objects.filter(kind=kind).values_list("value", "reason"))
    for pattern, reason in candidates:
        if any(ch in pattern for ch in "*?"):
            hit = any(fnmatchcase(subject, pattern.lower()) for subject in subjects)
        else:
            hit = match_key(kind, _as_identity(kind, pattern)) in subjects
        if hit:
            return reason or "shared or test value"
    return ""


def _as_identity(kind: str, pattern: str) -> str:
    # Admins type values as people write them ("Biuro@Firma.pl", "+48 600 000 000"); identities are
    # stored normalized, so an exact pattern is compared in that same form.
    try:
        return normalize_identity(kind, pattern)
    except NormalizationError:
        return pattern.strip().lower() if kind == IdentityKind.EMAIL else pattern.strip()


def merge_limit_reason(customer_id: int, other_id: int) -> str:
    """Why merging these two profiles would break a per-customer limit, or "". Two distinct external
    ids are two accounts in the company's own system: proof of one person cannot fold them together.
    A kind only one side holds adds nothing, so a limit an admin lowered later blocks no merge."""
    rules = rules_by_kind()
    rows = (
        Identity.objects.filter(customer_id__in=[customer_id, other_id])
        .values("kind")
        .annotate(total=Count("id"), sides=Count("customer_id", distinct=True))
    )
    for row in rows:
        limit = rules[row["kind"]].max_per_customer if row["kind"] in rules else 5
        if row["sides"] == 2 and row["total"] > limit:
            return f"merging would exceed {limit} {row['kind']} per customer"
    return ""


def merge_order(customer_id: int, other_id: int) -> tuple[int, int]:
    """(survivor, merged) for two profiles about to merge: the one holding the stronger identity
    survives, so the customer identify chose by its strongest identity stays that customer. On a tie
    the other one, which already held the identity that proved them one person, is the established one."""
    rules = rules_by_kind()
    best = {customer_id: 1 << 16, other_id: 1 << 16}
    for pk, kind in Identity.objects.filter(customer_id__in=best).values_list("customer_id", "kind"):
        best[pk] = min(best[pk], rules[kind].priority if kind in rules else 100)
    return (customer_id, other_id) if best[customer_id] < best[other_id] else (other_id, customer_id)


def stronger(kind_a: str, kind_b: str, rules: dict[str, Rule] | None = None) -> bool:
    """Whether an identity of kind_a outranks one of kind_b."""
    table = rules or rules_by_kind()
    return table[kind_a].priority < table[kind_b].priority if kind_a in table and kind_b in table else False
