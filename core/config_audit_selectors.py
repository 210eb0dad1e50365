"""Reads of the configuration audit log: one filtered page, newest first, and its lines made readable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.translation import gettext as _

from core.config_audit import MODEL_OF_TYPE
from core.models import ConfigChange

SYSTEM = "system"  # the actor filter's value for changes made by commands and scheduled jobs
PER_PAGE = 50


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str
    after: str
    secret: bool


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def config_changes_page(
    *,
    object_type: str = "",
    actor: str = "",
    since: date | None = None,
    until: date | None = None,
    page: int | str = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of entries with their actors in the same query, each with `.lines` (see describe)."""
    entries = ConfigChange.objects.select_related("actor").order_by("-at", "-pk")
    if object_type:
        entries = entries.filter(object_type=object_type)
    if actor == SYSTEM:
        entries = entries.filter(actor__isnull=True, actor_label="")
    elif actor:
        entries = entries.filter(actor_id=int(actor))
    # Whole days in the viewer's time zone, so "until the 3rd" includes the evening of the 3rd.
    if since is not None:
        entries = entries.filter(at__gte=_start_of(since))
    if until is not None:
        entries = entries.filter(at__lt=_start_of(until + timedelta(days=1)))
    result = Paginator(entries, per_page).get_page(page)
    for entry in result.object_list:
        entry.lines = describe(entry)  # type: ignore[attr-defined]  # what the template lists
    return result


def actors_in_log() -> list[tuple[int, str]]:
    """Everyone who has changed something, for the filter; one query."""
    users = get_user_model().objects.filter(
        pk__in=ConfigChange.objects.filter(actor__isnull=False).values("actor_id")
    )
    return sorted(((user.pk, user.display_name) for user in users), key=lambda pair: pair[1].lower())


def _field_label(model: Any, key: str) -> tuple[str, dict[Any, str]]:
    name, _dot, part = key.partition(".")
    try:
        field = model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        field = None
    if field is None:
        return key, {}
    label = str(getattr(field, "verbose_name", name))
    choices = {value: str(text) for value, text in (getattr(field, "flatchoices", None) or [])}
    return (f"{label}: {part}" if part else label), choices


def _shown(value: Any, choices: dict[Any, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return choices.get(value, str(value))


def describe(entry: ConfigChange) -> list[ChangeLine]:
    """The entry's changes as lines a person reads: field names and choices in the viewer's language."""
    label = MODEL_OF_TYPE.get(entry.object_type)
    model = apps.get_model(label) if label else None
    lines = []
    for key, change in sorted((entry.changes or {}).items()):
        field, choices = _field_label(model, key)
        if not isinstance(change, dict) or change.get("secret"):
            lines.append(ChangeLine(field=field, before="", after="", secret=True))
            continue
        before = _shown(change.get("from"), choices)
        after = _shown(change.get("to"), choices)
        lines.append(ChangeLine(field=field, before=before, after=after, secret=False))
    return lines
