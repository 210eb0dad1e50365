"""Applying the registry to one person's rows: every personal field erased the way its entry says.

Runs inside the caller's transaction and changes rows with one statement per model and row set (a
few per model at most), whatever the person's volume. Files are only named here; the caller deletes
them once the transaction commits, so a rollback never leaves rows without their files.
"""

from __future__ import annotations

import re
import secrets as random_secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Concat

from profiles.personal_data import Erase, Personal, by_model

REMOVED = "[removed]"
# Snapshot fields of the merge log that describe the person (locale and time zone are not personal).
_SNAPSHOT_PERSONAL = ("name", "company", "location", "attributes", "consent")


def redacted(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(secret), REMOVED, text, flags=re.IGNORECASE)
    return text


def _redacted_json(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {key: _redacted_json(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted_json(item, secrets) for item in value]
    return redacted(value, secrets) if isinstance(value, str) else value


def _scrub_snapshot(snapshot: Any, secrets: list[str]) -> Any:
    """The merge log keeps which rows moved (ids) for undo; the survivor's old values go."""
    snapshot = dict(snapshot or {})
    survivor = dict(snapshot.get("survivor") or {})
    for name in _SNAPSHOT_PERSONAL:
        if name in survivor:
            survivor[name] = {} if name in ("attributes", "consent") else ""
    snapshot["survivor"] = survivor
    return _redacted_json(snapshot, secrets)


# Entries erased with Erase.SCRUB: the function gets the stored value and returns what may stay.
SCRUBBERS: dict[tuple[str, str], Callable[[Any, list[str]], Any]] = {
    ("profiles.MergeLog", "snapshot"): _scrub_snapshot,
    # Audit entries keep the fact (who, what, when, counts); a name in a reason goes.
    ("profiles.AuditEntry", "details"): _redacted_json,
}


def _blank(field: models.Field) -> Any:
    if isinstance(field, models.BinaryField):
        return b""
    default = field.get_default()
    return default if default is not None else ""


def _marker() -> Concat:
    return Concat(Value("erased:"), Cast("pk", output_field=models.CharField()))


def _erase_set(model: type[models.Model], entries: list[Personal], pks: list[int], secrets: list[str]) -> int:
    rows = model._default_manager.filter(pk__in=pks)
    if any(entry.erase == Erase.DELETE_ROW for entry in entries):
        count, _by_model = rows.delete()
        return count
    updates: dict[str, Any] = {}
    for entry in entries:
        field = model._meta.get_field(entry.field)
        assert isinstance(field, models.Field), entry  # the registry names concrete fields only
        if entry.erase == Erase.BLANK:
            updates[entry.field] = _blank(field)
        elif entry.erase == Erase.MARKER:
            # Null means "none": a marker there would invent an id.
            rows.filter(**{f"{entry.field}__isnull": False}).update(**{entry.field: _marker()})
        elif entry.erase == Erase.ROTATE:
            fresh = [model(pk=pk, **{entry.field: random_secrets.token_urlsafe(32)}) for pk in pks]
            model._default_manager.bulk_update(fresh, [entry.field], batch_size=1000)
        elif entry.erase == Erase.SCRUB:
            scrub = SCRUBBERS[(entry.model, entry.field)]
            changed = [
                model(pk=pk, **{entry.field: scrub(value, secrets)})
                for pk, value in rows.values_list("pk", entry.field)
            ]
            model._default_manager.bulk_update(changed, [entry.field], batch_size=1000)
    return rows.update(**updates) if updates else len(pks)


def erase_rows(rows: dict[str, list[int]], *, secrets: list[str]) -> tuple[dict[str, int], list[str]]:
    """Erase every registry entry in its row set. Returns counts by row set and the files to delete."""
    counts: dict[str, int] = {}
    files: list[str] = []
    for label, entries in by_model():
        model = apps.get_model(label)
        for name in dict.fromkeys(entry.rows for entry in entries):
            pks = rows[name]
            if not pks:
                counts.setdefault(name, 0)
                continue
            in_set = [entry for entry in entries if entry.rows == name]
            for entry in in_set:
                if entry.erase == Erase.DELETE_FILE:
                    stored = model._default_manager.filter(pk__in=pks).values_list(entry.field, flat=True)
                    files.extend(str(stored_name) for stored_name in stored if stored_name)
            kept = [entry for entry in in_set if entry.erase != Erase.DELETE_FILE]
            counts[name] = max(counts.get(name, 0), _erase_set(model, kept, pks, secrets))
    return counts, files
