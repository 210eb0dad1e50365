"""Identity resolution policy: what a revealed identity may do (rules, limits, blocked values).

The decisions live here; `profiles.services` applies them. Defaults follow one principle: only verified
evidence links people automatically. An e-mail typed in a chat could be anyone's, so by default it
becomes a suggestion an agent confirms; the site's signed user id is proof and merges on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from profiles.models import BlockedIdentity, IdentityKind, ResolutionAction, ResolutionRule


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
    """Why this value must never link two people, or "" when it may. Patterns: exact, or with `*`/`?`."""
    candidates = [(pattern, "") for pattern in BUILTIN_BLOCKED.get(kind, ())]
    candidates += list(BlockedIdentity.objects.filter(kind=kind).values_list("value", "reason"))
    for pattern, reason in candidates:
        if pattern == value or (any(ch in pattern for ch in "*?") and fnmatchcase(value, pattern.casefold())):
            return reason or "shared or test value"
    return ""


def stronger(kind_a: str, kind_b: str, rules: dict[str, Rule] | None = None) -> bool:
    """Whether an identity of kind_a outranks one of kind_b."""
    table = rules or rules_by_kind()
    return table[kind_a].priority < table[kind_b].priority if kind_a in table and kind_b in table else False
