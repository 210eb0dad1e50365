"""Writes for segments: save a validated definition, delete, keep the cached customer count fresh;
and the editor's rows, the form-shaped input those writes are made from (one flat list of conditions,
all or any of them), translated to and from stored definitions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from profiles.models import Segment
from profiles.segments import SegmentError, customers_in_segment, validate

# Counts are shown on every visit to the list; within this age the stored one is good enough.
COUNT_MAX_AGE = timedelta(seconds=60)


class SegmentNameError(SegmentError):
    """The name is missing or taken; the form shows it next to the name field."""


def do_save_segment(*, name: str, definition: Any, actor, segment: Segment | None = None) -> Segment:
    name = name.strip()[:120]
    if not name:
        raise SegmentNameError(_("A segment needs a name."))
    cleaned = validate(definition)
    taken = Segment.objects.filter(name__iexact=name)
    if segment is not None:
        taken = taken.exclude(pk=segment.pk)
    duplicate = SegmentNameError(_("A segment named “%(name)s” already exists.") % {"name": name})
    if taken.exists():
        raise duplicate
    if segment is None:
        segment = Segment(created_by=actor if getattr(actor, "pk", None) else None)
    segment.name, segment.definition = name, cleaned
    segment.cached_count, segment.counted_at = None, None
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:  # the same name saved by someone else a moment ago
        raise duplicate from None
    return segment


def do_delete_segment(*, segment: Segment) -> None:
    segment.delete()


def segment_count(segment: Segment, *, max_age: timedelta = COUNT_MAX_AGE) -> int | None:
    """The number of customers in the segment: the stored count while fresh, else one COUNT query.
    None when the definition no longer validates (a custom attribute it uses was deleted)."""
    now = timezone.now()
    if segment.cached_count is not None and segment.counted_at and now - segment.counted_at < max_age:
        return segment.cached_count
    try:
        count = customers_in_segment(segment).count()
    except SegmentError:
        return None
    Segment.objects.filter(pk=segment.pk).update(cached_count=count, counted_at=now)
    segment.cached_count, segment.counted_at = count, now
    return count


# --- The editor's rows ------------------------------------------------------------------------------
MAX_ROWS = 50
_ROW_KEY = re.compile(r"^c-(\d{1,3})-subject$")


@dataclass
class Row:
    """One condition as the editor shows it; `subject` says what it looks at ("attribute:company")."""

    index: int
    subject: str = "attribute:name"
    op: str = ""
    value: str = ""
    days: str = ""
    error: str = ""
    autofocus: bool = False
    ops: tuple = ()
    value_kind: str = ""
    value_choices: tuple = ()


def row_to_rule(row: Row) -> dict[str, Any]:
    family, _sep, target = row.subject.partition(":")
    if family == "attribute":
        rule: dict[str, Any] = {"type": "attribute", "field": target, "op": row.op}
        if not row.op.startswith("is_"):
            rule["value"] = {"true": True, "false": False}.get(row.value, row.value)
        return rule
    if family in ("identity", "conversation"):
        return {"type": family, "kind" if family == "identity" else "status": target, "op": row.op}
    if family == "nps":
        return {"type": "nps", "group": row.op}
    if family != "event":
        raise SegmentError(_("choose what the condition looks at"))
    rule = {"type": "event", "name": row.value, "op": row.op}
    if row.days.strip():
        if not row.days.strip().isdigit():
            raise SegmentError(_("days must be a whole number"))
        rule["days"] = int(row.days)
    return rule


def rule_to_row(index: int, rule: dict[str, Any]) -> Row:
    kind = rule["type"]
    value = rule.get("value", rule.get("name", ""))
    target = {"attribute": "field", "identity": "kind", "conversation": "status"}.get(kind)
    return Row(
        index=index,
        subject=f"{kind}:{rule[target]}" if target else kind,
        op=rule.get("op", rule.get("group", "")),
        value=str(value).lower() if isinstance(value, bool) else str(value),
        days=str(rule.get("days", "")),
    )


def rows_from_definition(definition: Any) -> tuple[str, list[Row]] | None:
    """The editor's view of a definition; None for nested groups (or a shape) the editor cannot show."""
    try:
        match, rules = "all", definition
        if len(definition) == 1 and set(definition[0]) == {"any"}:
            match, rules = "any", definition[0]["any"]
        if any("any" in rule or "all" in rule for rule in rules):
            return None
        return match, [rule_to_row(i, rule) for i, rule in enumerate(rules)]
    except (KeyError, TypeError, AttributeError):
        return None


def rows_from_post(data) -> list[Row]:
    indexes = sorted(int(m.group(1)) for key in data if (m := _ROW_KEY.match(key)))[:MAX_ROWS]
    return [
        Row(i, *(data.get(f"c-{i}-{part}", "").strip()[:200] for part in ("subject", "op", "value", "days")))
        for i in indexes
    ]
