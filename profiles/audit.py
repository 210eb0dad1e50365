"""The privacy audit log: who viewed, exported, erased or merged whose data.

Entries outlive the people they are about, so they hold ids, counts and reasons only. A personal value
slipping into `details` would survive the very erasure the entry records; `record` refuses it.
"""

from __future__ import annotations

import re
from typing import Any

from profiles.models import AuditAction, AuditEntry

# Keys whose values are personal by nature; anything under them would defeat the erasure.
_PERSONAL_KEYS = frozenset(
    {
        "name",
        "email",
        "phone",
        "company",
        "location",
        "address",
        "value",
        "display",
        "body",
        "text",
        "comment",
    }
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# International numbers, or long digit runs: dates and short ticket numbers in a reason stay readable.
_PHONE = re.compile(r"\+\d[\d\s().-]{6,}\d|(?<!\d)\d{9,}(?!\d)")
REDACTED = "[removed]"
_MAX_TEXT = 300


class PersonalDataInAudit(ValueError):
    """Raised when a caller tries to store a personal value in an audit entry."""


def _checked(key: str, value: Any) -> Any:
    if key.lower() in _PERSONAL_KEYS:
        raise PersonalDataInAudit(f"audit details may not carry {key!r}")
    if isinstance(value, dict):
        return {str(k): _checked(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_checked(key, item) for item in value]
    if isinstance(value, str):
        # Free text (an admin's reason) may quote the person's address; it is redacted, not refused,
        # so an erasure never fails over the wording of its reason.
        return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, value))[:_MAX_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    raise PersonalDataInAudit(f"audit detail {key!r} must be a plain id, count or reason")


def record(*, actor, action: str, customer_id: int | None, **details: Any) -> AuditEntry:
    """Write one entry. `actor` may be None (the nightly retention job, the company's systems).

    Keys naming personal values raise PersonalDataInAudit (a programming error); addresses and phone
    numbers inside free text are replaced with a marker."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    clean = {key: _checked(key, value) for key, value in details.items()}
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        customer_id_ref=customer_id,
        details=clean,
    )


def audit_page(*, action: str = "", customer_id: int | None = None, page: int | str = 1, per_page: int = 50):
    """One page of the log, newest first; the actor comes in the same query so the page costs a
    fixed number of queries whatever its length."""
    from django.core.paginator import Paginator

    entries = AuditEntry.objects.select_related("actor").order_by("-at", "-pk")
    if action:
        entries = entries.filter(action=action)
    if customer_id is not None:
        entries = entries.filter(customer_id_ref=customer_id)
    return Paginator(entries, per_page).get_page(page)
