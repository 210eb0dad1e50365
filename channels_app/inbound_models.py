"""Rows of the durable inbound path: every provider delivery is stored before anything else happens."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored")


class InboundEvent(models.Model):
    """One provider delivery, stored raw and verbatim so it can always be parsed again."""

    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.PROTECT,
        related_name="inbound_events",
        verbose_name=_("channel"),
    )
    provider = models.CharField(_("provider"), max_length=32)
    # What makes two deliveries "the same" for this provider (update id, message sid + status, ...).
    dedup_key = models.CharField(_("deduplication key"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=255, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    body = models.BinaryField(_("raw body"))
    status = models.CharField(
        _("status"), max_length=16, choices=InboundStatus.choices, default=InboundStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    # What processing made of a delivery that became no customer message (an auto-reply, a bounce):
    # where it went, or why it went nowhere. The database default serves the raw INSERTs of the webhooks.
    outcome = models.CharField(_("outcome"), max_length=500, blank=True, default="", db_default="")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [
            models.UniqueConstraint(fields=["channel", "dedup_key"], name="inbound_unique_channel_dedup")
        ]
        indexes = [
            # The sweeper and the worker's batch claim scan only what is still pending.
            models.Index(
                fields=["received_at"],
                name="inbound_pending_received",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "-received_at"], name="inbound_status_received"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}#{self.pk} ({self.status})"
