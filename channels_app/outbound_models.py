"""Rows of the outbound path: what we send, through which channel, and how far it got."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")


# Statuses only move up this ladder: a late "sent" never overwrites "delivered". A message that was
# delivered cannot fail afterwards, but a failure report may follow "sent".
STATUS_RANK: dict[str, int] = {
    OutboundStatus.QUEUED: 0,
    OutboundStatus.SENT: 10,
    OutboundStatus.FAILED: 15,
    OutboundStatus.DELIVERED: 20,
    OutboundStatus.READ: 30,
}


class OutboundMessage(models.Model):
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.PROTECT, related_name="outbound", verbose_name=_("channel")
    )
    message = models.OneToOneField(
        "tickets.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery",
        verbose_name=_("message"),
    )
    # The recipient in the channel's own terms: e-mail address, E.164 number, chat id, PSID, ...
    recipient = models.CharField(_("recipient"), max_length=320)
    # What to send: {"text": ..., "subject": ..., "html": ..., "template": ..., "buttons": [...], ...}
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    # NULL until the provider accepted it; unique per channel so status callbacks find exactly one row.
    provider_message_id = models.CharField(  # noqa: DJ001
        _("provider message id"), max_length=255, null=True, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="outbound_unique_provider_id",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="outbound_status_created")]

    def __str__(self) -> str:
        return f"{self.channel_id} → {self.recipient} ({self.status})"
