from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Conversation(models.Model):
    customer = models.ForeignKey(
        "profiles.Customer",
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("customer"),
    )
    # The channel it started on; each message keeps the channel it actually came through.
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("channel"),
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("team"),
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    last_activity_at = models.DateTimeField(_("last activity"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Snoozed until this time, or (empty with status snoozed) until the customer writes again.
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    labels = models.ManyToManyField("tickets.Label", blank=True, related_name="conversations")
    # Service level: the policy that applied when it was set, and the deadlines it gives.
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Since when the customer has been waiting for an answer (None while the agent has the last word).
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    next_response_due_at = models.DateTimeField(_("next response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)

    class Meta:
        ordering = ["-last_activity_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        permissions = [
            ("work_inbox", _("Can work conversations in the inbox")),
            ("view_all_conversations", _("Can see conversations of every team")),
        ]
        indexes = [
            models.Index(fields=["status", "-last_activity_at", "-id"], name="conv_status_activity"),
            # The inbox's default views (All, Mine, a team's) read newest activity first, any status.
            models.Index(fields=["-last_activity_at", "-id"], name="conv_activity"),
            models.Index(fields=["waiting_since", "id"], name="conv_waiting"),
            models.Index(fields=["assignee", "status", "-last_activity_at"], name="conv_assignee_status"),
            models.Index(fields=["channel", "-last_activity_at"], name="conv_channel_activity"),
            # The breach announcer reads deadlines that just passed; only conversations with one are indexed.
            models.Index(
                fields=["first_response_due_at"],
                name="conv_first_due",
                condition=models.Q(first_response_due_at__isnull=False, first_response_at__isnull=True),
            ),
            models.Index(
                fields=["next_response_due_at"],
                name="conv_next_due",
                condition=models.Q(next_response_due_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="conv_resolution_due",
                condition=models.Q(resolution_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"#{self.pk}"


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.PROTECT, related_name="messages", verbose_name=_("channel")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("author"),
    )
    body = models.TextField(_("text"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    # Sanitized HTML (email); `body` always holds the plain-text version.
    html = models.TextField(_("HTML"), blank=True)
    # The full text before quoted history and signatures were stripped for display (email).
    full_text = models.TextField(_("full text"), blank=True)
    # Threading headers, sender identity, automated-mail flags, provider extras.
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    inbound_event = models.ForeignKey(
        "channels_app.InboundEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("inbound event"),
    )
    # NULL, not "", for messages we created: the unique constraint must ignore them.
    provider_message_id = models.CharField(  # noqa: DJ001
        _("provider message id"), max_length=255, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["conversation", "created_at"], name="msg_conversation_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_unique_provider_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk}"


class AttachmentStatus(models.TextChoices):
    STORED = "stored", _("Stored")
    PENDING = "pending", _("Waiting to be fetched")
    SKIPPED = "skipped", _("Skipped")


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", blank=True)
    # Inline images of HTML mail are referenced as cid:<content_id>.
    content_id = models.CharField(_("content id"), max_length=255, blank=True)
    # Provider media URL, fetched later by a task (only from the provider's own hosts).
    source_url = models.URLField(_("source URL"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AttachmentStatus.choices, default=AttachmentStatus.STORED
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


# Imported here so Django finds them as models of this app; they live in their own modules for size.
from tickets.saved_views_models import SavedView, SavedViewVisibility  # noqa: E402
from tickets.sla_models import BusinessHours, Holiday, SlaBreachNotice, SlaPolicy  # noqa: E402
from tickets.work_models import (  # noqa: E402
    AssignmentRule,
    CannedResponse,
    ConversationRead,
    InternalNote,
    Label,
)

__all__ = [
    "AssignmentRule",
    "Attachment",
    "BusinessHours",
    "CannedResponse",
    "Conversation",
    "ConversationRead",
    "Holiday",
    "InternalNote",
    "Label",
    "Message",
    "SavedView",
    "SavedViewVisibility",
    "SlaBreachNotice",
    "SlaPolicy",
]
