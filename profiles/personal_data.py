"""Where personal data lives: one registry that erasure, export and retention all read.

Each entry names a model field, what kind of personal data it holds, how erasure removes it, which of
the person's row sets it is erased in (privacy_rows computes them) and whether the export carries it.
Every other text, JSON, binary or file field of every installed model is listed as not personal with a
reason; tests/security/test_personal_data_registry.py fails on a field that is in neither, so a new
field is classified when it is added, not after an erasure missed it.

Profiles lists its own models and those below it. An app above profiles registers a `Provider` in its
`ready()`: its entries, how to find the person's rows of its models, what of them the export carries,
what must happen once they are erased, and the retention clean-ups of its data kinds. Profiles never
imports those apps; it iterates the providers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from profiles.privacy_export import ExportContext
    from profiles.privacy_rows import PersonRows


class Kind(StrEnum):
    IDENTIFIER = "identifier"  # an address, number or id that points at the person
    NAME = "name"
    FREE_TEXT = "free_text"  # what the person wrote, or what was written about them
    CONTACT = "contact"  # where the person can be reached (a recipient)
    FILE = "file"
    METADATA = "metadata"  # JSON or raw payloads that carry any of the above


class Erase(StrEnum):
    BLANK = "blank"  # "" / {} / b"": the row stays for statistics
    MARKER = "marker"  # "erased:<row id>": unique ids stay unique, yet say nothing about the person
    ROTATE = "rotate"  # a capability (a token) replaced by a fresh one nobody holds
    DELETE_ROW = "delete_row"  # the row itself is about the person only
    DELETE_FILE = "delete_file"  # the stored file goes once the erasure commits
    SCRUB = "scrub"  # only the personal parts go (privacy_scrub names the function)


@dataclass(frozen=True)
class Personal:
    model: str  # "app_label.ModelName"
    field: str
    kind: Kind
    erase: Erase
    rows: str  # the person's row set this field is erased in
    exported: bool = True


_OWN_PERSONAL: tuple[Personal, ...] = (
    Personal("profiles.Customer", "name", Kind.NAME, Erase.BLANK, "customers"),
    Personal("profiles.Customer", "company", Kind.NAME, Erase.BLANK, "customers"),
    Personal("profiles.Customer", "location", Kind.FREE_TEXT, Erase.BLANK, "customers"),
    Personal("profiles.Customer", "attributes", Kind.METADATA, Erase.BLANK, "customers"),
    Personal("profiles.Customer", "consent", Kind.METADATA, Erase.BLANK, "customers"),
    Personal("profiles.Identity", "value", Kind.IDENTIFIER, Erase.DELETE_ROW, "identities"),
    Personal("profiles.Identity", "match_key", Kind.IDENTIFIER, Erase.DELETE_ROW, "identities", False),
    Personal("profiles.Identity", "display", Kind.NAME, Erase.DELETE_ROW, "identities"),
    Personal("profiles.CustomerNote", "body", Kind.FREE_TEXT, Erase.DELETE_ROW, "customer_notes"),
    Personal("profiles.CustomerEvent", "properties", Kind.METADATA, Erase.BLANK, "events"),
    Personal("profiles.CustomerEvent", "client_event_id", Kind.IDENTIFIER, Erase.MARKER, "events_named"),
    Personal("profiles.TimelineEntry", "summary", Kind.FREE_TEXT, Erase.BLANK, "timeline"),
    Personal("profiles.TimelineEntry", "data", Kind.METADATA, Erase.BLANK, "timeline"),
    Personal("profiles.MergeSuggestion", "evidence", Kind.IDENTIFIER, Erase.DELETE_ROW, "suggestions", False),
    Personal("profiles.MergeLog", "reason", Kind.FREE_TEXT, Erase.BLANK, "merge_logs"),
    Personal("profiles.MergeLog", "snapshot", Kind.METADATA, Erase.SCRUB, "merge_logs"),
    Personal("profiles.AuditEntry", "details", Kind.FREE_TEXT, Erase.SCRUB, "audit", False),
    Personal("profiles.BlockedIdentity", "value", Kind.IDENTIFIER, Erase.DELETE_ROW, "blocked", False),
    Personal("profiles.BlockedIdentity", "reason", Kind.FREE_TEXT, Erase.DELETE_ROW, "blocked", False),
    Personal("channels_app.InboundEvent", "body", Kind.METADATA, Erase.BLANK, "inbound", False),
    Personal("channels_app.InboundEvent", "headers", Kind.METADATA, Erase.BLANK, "inbound", False),
    Personal("channels_app.InboundEvent", "error", Kind.FREE_TEXT, Erase.BLANK, "inbound", False),
    Personal("channels_app.InboundEvent", "outcome", Kind.FREE_TEXT, Erase.BLANK, "inbound", False),
    Personal("channels_app.InboundEvent", "dedup_key", Kind.IDENTIFIER, Erase.MARKER, "inbound_named", False),
    Personal("channels_app.OutboundMessage", "recipient", Kind.CONTACT, Erase.BLANK, "outbound", False),
    Personal("channels_app.OutboundMessage", "payload", Kind.METADATA, Erase.BLANK, "outbound", False),
    Personal("channels_app.OutboundMessage", "error", Kind.FREE_TEXT, Erase.BLANK, "outbound", False),
    # Also keeps a late status callback from writing the provider's error text back onto the row.
    Personal(
        "channels_app.OutboundMessage",
        "provider_message_id",
        Kind.IDENTIFIER,
        Erase.MARKER,
        "outbound",
        False,
    ),
    # Django admin's history repeats each object's str() (a customer's name, a note's text).
    Personal("admin.LogEntry", "object_repr", Kind.NAME, Erase.MARKER, "admin_log", False),
    Personal("admin.LogEntry", "change_message", Kind.FREE_TEXT, Erase.BLANK, "admin_log", False),
)


@dataclass(frozen=True)
class NotPersonal:
    model: str
    fields: tuple[str, ...]  # empty: every field of the model
    reason: str


_OWN_NOT_PERSONAL: tuple[NotPersonal, ...] = (
    NotPersonal("admin.LogEntry", ("object_id",), "a row id"),
    NotPersonal("auth.Permission", (), "permission names of the code"),
    NotPersonal("auth.Group", (), "group names chosen by admins"),
    NotPersonal("contenttypes.ContentType", (), "model names of the code"),
    NotPersonal("sessions.Session", (), "staff sessions; customers never sign in"),
    NotPersonal("django_celery_beat.SolarSchedule", (), "schedules of background jobs"),
    NotPersonal("django_celery_beat.IntervalSchedule", (), "schedules of background jobs"),
    NotPersonal("django_celery_beat.CrontabSchedule", (), "schedules of background jobs"),
    NotPersonal("django_celery_beat.PeriodicTask", (), "background jobs; their arguments are ids"),
    NotPersonal("cxm.ServiceHeartbeat", (), "worker names and host names"),
    NotPersonal(
        "cxm.ConfigChange", (), "changes to the configuration (channels, users, surveys), not customers"
    ),
    NotPersonal("axes.AccessAttempt", (), "staff sign-in attempts; customers never sign in"),
    NotPersonal("axes.AccessFailureLog", (), "staff sign-in failures; customers never sign in"),
    NotPersonal("axes.AccessLog", (), "staff sign-ins; customers never sign in"),
    NotPersonal("otp_totp.TOTPDevice", (), "staff second factors"),
    NotPersonal("otp_static.StaticDevice", (), "staff recovery code sets"),
    NotPersonal("otp_static.StaticToken", (), "staff recovery codes"),
    NotPersonal("accounts.SecondFactorPolicy", (), "which roles need a second factor"),
    NotPersonal("accounts.User", (), "staff accounts, not customers; removed by deleting the user"),
    NotPersonal("accounts.Team", (), "team names"),
    NotPersonal("accounts.ApiKey", (), "key names and hashes of the company's systems"),
    NotPersonal("channels_app.Channel", (), "the company's own channels and credentials"),
    NotPersonal("channels_app.MessageTemplate", (), "the company's message templates"),
    NotPersonal(
        "channels_app.InboundEvent", ("provider", "content_type", "status"), "a provider and a state"
    ),
    NotPersonal("channels_app.OutboundMessage", ("status",), "a delivery state"),
    NotPersonal("profiles.Customer", ("locale", "timezone"), "a language and a zone say nobody's name"),
    NotPersonal("profiles.Identity", ("kind", "source"), "what kind of id it was and where it came from"),
    NotPersonal("profiles.Tag", (), "labels shared by many customers"),
    NotPersonal("profiles.AttributeDefinition", (), "the company's attribute schema"),
    NotPersonal("profiles.CustomerEvent", ("name",), "the event's type, kept for statistics"),
    NotPersonal("profiles.TimelineEntry", ("kind",), "the entry's type"),
    NotPersonal("profiles.ResolutionRule", (), "identity resolution settings"),
    NotPersonal("profiles.BlockedIdentity", ("kind",), "what kind of id is blocked"),
    NotPersonal("profiles.MergeSuggestion", ("status",), "a workflow state"),
    NotPersonal("profiles.Segment", (), "segment definitions (conditions, not people)"),
    NotPersonal("profiles.AuditEntry", ("action",), "the fact that something was done"),
    NotPersonal("profiles.RetentionPolicy", (), "retention settings"),
    NotPersonal(
        "profiles.CustomerImport", (), "the uploaded file is deleted once read; errors hold rows and codes"
    ),
    NotPersonal("profiles.RevokedKey", (), "keyed digests of revoked ids; they cannot be turned back"),
)

# Fields the registry must classify: anything that can hold words, ids, structures or files.
CLASSIFIED_TYPES = (
    models.CharField,
    models.TextField,
    models.JSONField,
    models.FileField,
    models.BinaryField,
)


@dataclass(frozen=True)
class Provider:
    """What an app above profiles holds on a person, and how privacy tools reach it.

    `collect` adds the app's row sets (named by its entries' `rows`) to the person's rows, and may
    read what earlier providers found (a lower `order` runs first). `export` returns the app's sections
    of customer.json; `sections` says where each of its models' rows are in it ("a.b": nested). `erased`
    runs in the erasure's transaction after the rows are erased. `retention` maps a data kind
    (profiles.retention.DataKind) to the clean-up of rows older than the cutoff, returning a count.
    """

    app: str
    order: int
    personal: tuple[Personal, ...] = ()
    not_personal: tuple[NotPersonal, ...] = ()
    collect: Callable[[PersonRows], None] | None = None
    export: Callable[[ExportContext], dict[str, Any]] | None = None
    sections: Mapping[str, str] = field(default_factory=dict)
    erased: Callable[[PersonRows], None] | None = None
    retention: Mapping[str, Callable[[datetime], int]] = field(default_factory=dict)


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add (or replace) an app's provider; called from the app's `ready()`."""
    _providers[provider.app] = provider


def providers() -> list[Provider]:
    return sorted(_providers.values(), key=lambda provider: (provider.order, provider.app))


def personal_entries() -> tuple[Personal, ...]:
    return (*_OWN_PERSONAL, *(entry for provider in providers() for entry in provider.personal))


def not_personal_entries() -> tuple[NotPersonal, ...]:
    return (*_OWN_NOT_PERSONAL, *(item for provider in providers() for item in provider.not_personal))


def entries(model: str) -> list[Personal]:
    return [entry for entry in personal_entries() if entry.model == model]


def exported_fields(model: str) -> list[str]:
    """The personal fields of `model` that the person's export carries, in registry order."""
    return [entry.field for entry in personal_entries() if entry.model == model and entry.exported]


def by_model() -> Iterator[tuple[str, list[Personal]]]:
    seen: dict[str, list[Personal]] = {}
    for entry in personal_entries():
        seen.setdefault(entry.model, []).append(entry)
    yield from seen.items()


def is_not_personal(model: str, field: str) -> bool:
    return any(
        item.model == model and (not item.fields or field in item.fields) for item in not_personal_entries()
    )
