"""The configuration audit log: who created, changed or deleted a channel, user, team, survey, trigger,
SLA policy, API key or retention policy, and which fields moved.

A service takes `snapshot(obj)` before it changes an object and calls `do_record_change` after, inside
its own transaction, so an entry exists exactly when the change does. Both sides are read from the
database: what a form already did to an instance in memory never hides a change, and many-to-many
fields (teams, members) are compared after they are written. Secrets (channel credentials, password
hashes, API key hashes) are compared by digest and stored only as "changed".

The actor is the signed-in user of the current request (set by `ActorMiddleware`), or whoever
`acting_as` names; None means the system (a command, a scheduled job).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db import models

from core.models import ConfigAction, ConfigChange, ConfigObjectType

MAX_VALUE = 300  # characters of one stored value: enough to recognise it, never a whole document


@dataclass(frozen=True)
class AuditedModel:
    object_type: str
    # Never stored; a change shows as "changed". Dicts are compared key by key.
    secret: frozenset[str] = frozenset()
    # Bookkeeping that moves on its own (last use, last run), not configuration.
    skip: frozenset[str] = frozenset()
    # JSON objects shown key by key ("question.ru"), so one translation edit is one line.
    expand: frozenset[str] = frozenset()
    # The field that names the object in the log; str(obj) when empty.
    label: str = ""


AUDITED: dict[str, AuditedModel] = {
    "channels_app.channel": AuditedModel(
        ConfigObjectType.CHANNEL,
        secret=frozenset({"credentials"}),
        expand=frozenset({"config"}),
        label="name",
    ),
    "accounts.user": AuditedModel(
        ConfigObjectType.USER,
        secret=frozenset({"password"}),
        skip=frozenset({"last_login", "date_joined", "availability"}),
    ),
    "accounts.team": AuditedModel(ConfigObjectType.TEAM),
    "surveys.survey": AuditedModel(
        ConfigObjectType.SURVEY, expand=frozenset({"question", "followup_question", "widget_rules"})
    ),
    "surveys.trigger": AuditedModel(ConfigObjectType.TRIGGER, skip=frozenset({"last_run_at"})),
    "tickets.slapolicy": AuditedModel(ConfigObjectType.SLA_POLICY),
    "accounts.apikey": AuditedModel(
        ConfigObjectType.API_KEY, secret=frozenset({"key_hash"}), skip=frozenset({"last_used_at"})
    ),
    "profiles.retentionpolicy": AuditedModel(ConfigObjectType.RETENTION_POLICY, label="data_kind"),
}
MODEL_OF_TYPE = {spec.object_type: label for label, spec in AUDITED.items()}


def audited(model: type[models.Model]) -> AuditedModel:
    try:
        return AUDITED[model._meta.label_lower]
    except KeyError:
        raise ValueError(f"{model._meta.label} is not in the configuration audit registry") from None


# --- who is acting -------------------------------------------------------------------------------

_actor: ContextVar[Any] = ContextVar("config_audit_actor", default=None)
CURRENT: Any = object()  # "whoever is acting now" (see module docstring)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


class ActorMiddleware:
    """Names the signed-in user as the actor of any configuration change made by this request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)

    async def _acall(self, request):
        with acting_as(getattr(request, "user", None)):
            return await self.get_response(request)


def _resolve_actor(actor: Any) -> Any:
    if actor is CURRENT:
        actor = _actor.get()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor


# --- snapshots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    model: type[models.Model]
    pk: Any
    values: dict[str, Any] | None  # None: no such row (not created yet, or deleted)
    label: str = ""


def _plain(value: Any) -> Any:
    """A short JSON value a person can read: ids and names, never whole documents."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | timedelta):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)[:MAX_VALUE]
    if isinstance(value, list | tuple | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)[:MAX_VALUE]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _values(row: models.Model, spec: AuditedModel) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.primary_key or field.name in spec.skip:
            continue
        if not field.editable and field.name not in spec.secret:
            continue  # kept by the code itself (security stamps, counters), not set by anyone
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        raw = getattr(row, field.name) if field.is_relation else field.value_from_object(row)
        if field.name in spec.secret:
            if isinstance(raw, dict):
                values.update({f"{field.name}.{key}": ("secret", _digest(v)) for key, v in raw.items()})
            elif raw:
                values[field.name] = ("secret", _digest(raw))
        elif field.name in spec.expand and isinstance(raw, dict):
            values.update({f"{field.name}.{key}": _plain(v) for key, v in raw.items()})
        else:
            values[field.name] = _plain(raw)
    for field in row._meta.many_to_many:
        if field.name not in spec.skip:
            related = getattr(row, field.name).all()
            values[field.name] = sorted(str(item)[:MAX_VALUE] for item in related)
    return values


def _read(model: type[models.Model], pk: Any) -> Snapshot:
    spec = audited(model)
    row = None
    if pk is not None:
        related = [f.name for f in model._meta.concrete_fields if f.many_to_one and f.name not in spec.skip]
        row = model._base_manager.select_related(*related).filter(pk=pk).first()
    if row is None:
        return Snapshot(model=model, pk=pk, values=None)
    label = str(getattr(row, spec.label) if spec.label else row)[:200]
    return Snapshot(model=model, pk=pk, values=_values(row, spec), label=label)


def snapshot(instance: models.Model) -> Snapshot:
    """The object as the database holds it now; take it before changing the object."""
    return _read(type(instance), instance.pk)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, tuple) or isinstance(new, tuple):  # a secret's digest
            changes[key] = {"secret": True}
        elif not before and new in (None, "", "[]", "{}", []):
            continue  # a new object's empty fields say nothing
        elif not after and old in (None, "", "[]", "{}", []):
            continue
        else:
            changes[key] = {"from": old, "to": new}
    return changes


# --- recording -----------------------------------------------------------------------------------


def do_record_change(
    *, instance: models.Model, before: Snapshot | None = None, actor: Any = CURRENT
) -> ConfigChange | None:
    """Compare the object with `before` (nothing, for a creation) and write one entry, in the caller's
    transaction. Returns None when nothing changed."""
    model = type(instance)
    spec = audited(model)
    pk = instance.pk if instance.pk is not None else (before.pk if before else None)
    after = _read(model, pk)
    old = before.values if before is not None else None
    if old is None and after.values is None:
        return None
    if old is None:
        action = ConfigAction.CREATED
    else:
        action = ConfigAction.DELETED if after.values is None else ConfigAction.UPDATED
    changes = _diff(old or {}, after.values or {})
    if action == ConfigAction.UPDATED and not changes:
        return None
    who = _resolve_actor(actor)
    return ConfigChange.objects.create(
        actor=who,
        actor_label=who.get_username()[:150] if who is not None else "",
        action=action,
        object_type=spec.object_type,
        object_id=str(pk),
        object_repr=after.label or (before.label if before else "") or str(instance)[:200],
        changes=changes,
    )


class Tracker:
    """Several objects changed by one use case (a survey and its triggers, all retention periods).

    Rows of `among` are watched as a set: a row that appears in it by the time of `record` counts as
    created, one that is gone as deleted."""

    def __init__(self, instances: Iterable[models.Model], among: models.QuerySet | None = None) -> None:
        watched = [*instances, *(among.all() if among is not None else ())]
        self._before = [(instance, snapshot(instance)) for instance in watched]
        self._among = among

    def record(self, *, created: Iterable[models.Model] = (), actor: Any = CURRENT) -> list[ConfigChange]:
        known = {before.pk for _obj, before in self._before if before.pk is not None}
        new = [*created]
        if self._among is not None:
            new += [row for row in self._among.all() if row.pk not in known]
        entries = [do_record_change(instance=obj, before=before, actor=actor) for obj, before in self._before]
        entries += [do_record_change(instance=obj, actor=actor) for obj in new]
        return [entry for entry in entries if entry is not None]


def track(*instances: models.Model, among: models.QuerySet | None = None) -> Tracker:
    """Take the before-state of `instances` (and of every row of `among`); call `.record()` after."""
    return Tracker(instances, among)
