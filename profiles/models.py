from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Defined with the channels, whose adapters decide it; re-exported for the many imports from here.
from channels_app.identity_kinds import IdentityKind


class Customer(models.Model):
    """One person, however many channels they reach us through."""

    name = models.CharField(_("name"), max_length=200, blank=True)
    locale = models.CharField(_("language"), max_length=8, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    tags = models.ManyToManyField(
        "profiles.Tag", related_name="customers", blank=True, verbose_name=_("tags")
    )
    # Per channel kind: {"email": {"status": "granted", "at": "...", "source": "..."}}.
    consent = models.JSONField(_("consent"), default=dict, blank=True)
    # Set on the profile merged away; it stays (hidden) so a merge can be undone exactly.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_customers", _("Can view customer profiles")),
            ("erase_customers", _("Can erase a customer's personal data")),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class Identity(models.Model):
    """A way to reach a customer; belongs to exactly one customer (unique on kind + value)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identities", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    # Normalized, stable value: case-folded email, E.164 phone, provider's user id.
    value = models.CharField(_("value"), max_length=320)
    # The same mailbox under the providers' own rules (normalize.match_key); equal keys are one person.
    match_key = models.CharField(_("match key"), max_length=320, blank=True, db_index=True)
    display = models.CharField(_("display name"), max_length=200, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    # Where it was learned: a channel message, the identify API, an import, an agent.
    source = models.CharField(_("source"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    def save(self, *args, **kwargs):
        from profiles.normalize import match_key

        self.match_key = match_key(self.kind, self.value)
        super().save(*args, **kwargs)


# --- Profile details --------------------------------------------------------------------------------
class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    color = models.CharField(_("color"), max_length=16, default="slate")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class AttributeType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")


class AttributeDefinition(models.Model):
    """A custom attribute admins define; values live in Customer.attributes under `key`."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(
        _("type"), max_length=16, choices=AttributeType.choices, default=AttributeType.TEXT
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")

    def __str__(self) -> str:
        return self.label


class CustomerNote(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.body[:40]}"


class CustomerEvent(models.Model):
    """A touchpoint sent by the company's own systems (signed_up, order_placed, ...)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(_("event"), max_length=100)
    # The sender's own id for the event: a retried batch is stored once.
    client_event_id = models.CharField(_("client event id"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at"))
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        constraints = [
            models.UniqueConstraint(fields=["client_event_id"], name="customer_event_unique_client_id")
        ]
        indexes = [models.Index(fields=["customer", "name", "-occurred_at"], name="customer_event_by_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_event_id})"


class TimelineKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    CONVERSATION_OPENED = "conversation_opened", _("Conversation opened")
    CONVERSATION_RESOLVED = "conversation_resolved", _("Conversation resolved")
    SURVEY_ANSWER = "survey_answer", _("Survey answer")
    EVENT = "event", _("Event")
    MERGE = "merge", _("Profiles merged")


class TimelineEntry(models.Model):
    """One touchpoint on a customer's journey. One table for every kind keeps the timeline a single
    index range scan, whatever mix of messages, events and answers a customer has."""

    # Indexed by timeline_by_customer, which leads with it: a second index would only slow every write.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline", db_index=False)
    occurred_at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=32, choices=TimelineKind.choices)
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        "tickets.Conversation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        "tickets.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        CustomerEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    survey_response = models.ForeignKey(
        "surveys.SurveyResponse", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_by_customer")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


# --- Identity resolution ----------------------------------------------------------------------------
class ResolutionAction(models.TextChoices):
    AUTO_MERGE = "auto_merge", _("Merge automatically")
    SUGGEST = "suggest", _("Suggest a merge to agents")
    IGNORE = "ignore", _("Ignore")


class ResolutionRule(models.Model):
    """What to do when a customer reveals an identity of this kind that belongs to someone else."""

    kind = models.CharField(_("identity kind"), max_length=16, choices=IdentityKind.choices, unique=True)
    action = models.CharField(
        _("action"), max_length=16, choices=ResolutionAction.choices, default=ResolutionAction.SUGGEST
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    max_per_customer = models.PositiveSmallIntegerField(_("most per customer"), default=5)

    class Meta:
        ordering = ["priority", "kind"]
        verbose_name = _("resolution rule")
        verbose_name_plural = _("resolution rules")

    def __str__(self) -> str:
        return f"{self.kind}: {self.action}"


class BlockedIdentity(models.Model):
    """Values never used to link people: shared mailboxes (info@), test numbers. `value` may end in
    '*' to block a prefix, or start with '*@' / '*' to block a suffix."""

    kind = models.CharField(_("identity kind"), max_length=16, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=320)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("blocked identity")
        verbose_name_plural = _("blocked identities")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="blocked_identity_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")


class MergeSuggestion(models.Model):
    """Two profiles that look like one person, with the evidence, waiting for an agent's decision."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    evidence = models.JSONField(_("evidence"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge suggestion")
        verbose_name_plural = _("merge suggestions")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "other"],
                condition=models.Q(status="open"),
                name="merge_suggestion_one_open_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.customer_id} ~ #{self.other_id}"


class MergeLog(models.Model):
    """A merge as it happened: enough to undo it exactly (which rows moved, the attributes before)."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # The merged profile is kept (hidden, merged_into set) so an undo restores the very same row.
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    snapshot = models.JSONField(_("snapshot"), default=dict)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("merge")
        verbose_name_plural = _("merge log")

    def __str__(self) -> str:
        return f"#{self.merged_id} → #{self.survivor_id}"


# --- Segments, privacy, imports ---------------------------------------------------------------------
class Segment(models.Model):
    """A saved filter over customers; `definition` is a list of conditions (see profiles/segments.py)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    definition = models.JSONField(_("conditions"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cached_count = models.PositiveIntegerField(_("customers"), null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    EXPORT = "export", _("Exported")
    ERASE = "erase", _("Erased")
    MERGE = "merge", _("Merged")
    UNDO_MERGE = "undo_merge", _("Merge undone")
    IMPORT = "import", _("Imported")


class AuditEntry(models.Model):
    """Who looked at, exported, erased or merged whose data. The customer is kept as a plain id so
    the entry outlives an erasure."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    customer_id_ref = models.BigIntegerField(_("customer id"), null=True, blank=True, db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.action} #{self.customer_id_ref}"


class RetentionPolicy(models.Model):
    """How long a kind of data is kept before it is deleted or anonymized by the nightly job."""

    data_kind = models.CharField(_("data"), max_length=32, unique=True)
    days = models.PositiveIntegerField(_("keep for days"))

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return f"{self.data_kind}: {self.days}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CustomerImport(models.Model):
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    mapping = models.JSONField(_("column mapping"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default="pending")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")

    def __str__(self) -> str:
        return f"import #{self.pk}"


class RevokedKey(models.Model):
    """A key of an erased person that must keep failing: a web chat visitor id whose token the
    visitor's browser still holds. Kept as a keyed digest so the key itself is not stored again."""

    kind = models.CharField(_("kind"), max_length=16)
    digest = models.CharField(_("digest"), max_length=64)
    revoked_at = models.DateTimeField(_("revoked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("revoked key")
        verbose_name_plural = _("revoked keys")
        constraints = [models.UniqueConstraint(fields=["kind", "digest"], name="revoked_key_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:8]}"
