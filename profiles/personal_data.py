"""Where personal data lives: one registry that erasure and export both read.

Each entry names a model field, what kind of personal data it holds, how erasure removes it, which of
the person's row sets it is erased in (privacy_rows computes them) and whether the export carries it.
Every other text, JSON, binary or file field of every installed model is listed in NOT_PERSONAL with a
reason; tests/security/test_personal_data_registry.py fails on a field that is in neither, so a new
field is classified when it is added, not after an erasure missed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from django.db import models


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


_M, _R = "tickets.Message", "messages"
PERSONAL: tuple[Personal, ...] = (
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
    Personal("tickets.Conversation", "subject", Kind.FREE_TEXT, Erase.BLANK, "conversations"),
    Personal(_M, "subject", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "body", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "html", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "full_text", Kind.FREE_TEXT, Erase.BLANK, _R),
    Personal(_M, "metadata", Kind.METADATA, Erase.BLANK, _R),
    # Every id goes, not only those that spell a needle: many carry the handle where no text search
    # sees it (WhatsApp's wamid holds the number in base64), and a kept Message-ID would let a later
    # mail thread into the erased conversation through In-Reply-To.
    Personal(_M, "provider_message_id", Kind.IDENTIFIER, Erase.MARKER, _R, False),
    Personal("tickets.Attachment", "file", Kind.FILE, Erase.DELETE_FILE, "attachments"),
    Personal("tickets.Attachment", "filename", Kind.NAME, Erase.DELETE_ROW, "attachments"),
    Personal("tickets.Attachment", "content_id", Kind.IDENTIFIER, Erase.DELETE_ROW, "attachments", False),
    Personal("tickets.Attachment", "source_url", Kind.IDENTIFIER, Erase.DELETE_ROW, "attachments", False),
    Personal("tickets.Attachment", "reason", Kind.FREE_TEXT, Erase.DELETE_ROW, "attachments", False),
    # Notes on the person's conversations are about the person, whoever wrote them.
    Personal("tickets.InternalNote", "body", Kind.FREE_TEXT, Erase.BLANK, "internal_notes"),
    Personal("surveys.Invitation", "recipient", Kind.CONTACT, Erase.BLANK, "invitations"),
    Personal("surveys.Invitation", "token", Kind.IDENTIFIER, Erase.ROTATE, "invitations", False),
    Personal("surveys.SurveyResponse", "comment", Kind.FREE_TEXT, Erase.BLANK, "responses"),
    Personal("surveys.SurveyResponse", "answers", Kind.FREE_TEXT, Erase.BLANK, "responses"),
    Personal("surveys.FollowUp", "note", Kind.FREE_TEXT, Erase.BLANK, "follow_ups"),
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


NOT_PERSONAL: tuple[NotPersonal, ...] = (
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
    NotPersonal("tickets.Conversation", ("status", "priority"), "workflow states"),
    NotPersonal("tickets.Message", ("direction",), "in or out"),
    NotPersonal("tickets.Attachment", ("content_type", "status"), "a file type and a state"),
    NotPersonal("tickets.SavedView", (), "agents' inbox filters"),
    NotPersonal("tickets.BusinessHours", (), "the company's working hours"),
    NotPersonal("tickets.Holiday", (), "the company's holidays"),
    NotPersonal("tickets.SlaPolicy", (), "SLA settings"),
    NotPersonal("tickets.Label", (), "labels shared by many conversations"),
    NotPersonal("tickets.AssignmentRule", (), "assignment settings"),
    NotPersonal("tickets.CannedResponse", (), "the company's reply templates"),
    NotPersonal("surveys.Survey", (), "the company's questions"),
    NotPersonal("surveys.Trigger", (), "when surveys are sent"),
    NotPersonal(
        "surveys.Invitation", ("medium", "trigger", "status", "reason", "locale"), "how and why it was sent"
    ),
    NotPersonal("surveys.SurveyResponse", ("medium", "locale"), "how it was answered"),
    NotPersonal("surveys.FollowUp", ("outcome",), "a fixed outcome, kept for statistics"),
)

# Fields the registry must classify: anything that can hold words, ids, structures or files.
CLASSIFIED_TYPES = (
    models.CharField,
    models.TextField,
    models.JSONField,
    models.FileField,
    models.BinaryField,
)


def entries(model: str) -> list[Personal]:
    return [entry for entry in PERSONAL if entry.model == model]


def exported_fields(model: str) -> list[str]:
    """The personal fields of `model` that the person's export carries, in registry order."""
    return [entry.field for entry in PERSONAL if entry.model == model and entry.exported]


def by_model() -> Iterator[tuple[str, list[Personal]]]:
    seen: dict[str, list[Personal]] = {}
    for entry in PERSONAL:
        seen.setdefault(entry.model, []).append(entry)
    yield from seen.items()


def is_not_personal(model: str, field: str) -> bool:
    return any(item.model == model and (not item.fields or field in item.fields) for item in NOT_PERSONAL)
