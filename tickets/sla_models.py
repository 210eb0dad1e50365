"""Service levels: business hours (with holidays) and the SLA policies measured against them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessHours(models.Model):
    """When the team works, in its own time zone. `intervals` maps ISO weekday ("1" = Monday … "7")
    to a list of ["HH:MM", "HH:MM"] pairs; a day may have several (a lunch break) or none."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    intervals = models.JSONField(_("working hours"), default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    business_hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["business_hours", "date"], name="holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets for conversations of a channel and/or priority (blank means any). The most specific
    active policy applies: channel and priority, then channel, then priority, then neither."""

    name = models.CharField(_("name"), max_length=120)
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policies"
    )
    priority = models.CharField(_("priority"), max_length=8, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.SET_NULL, null=True, blank=True, related_name="policies"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaBreachNotice(models.Model):
    """One announced breach of one deadline: announcing is exactly once per (conversation, target,
    deadline), whichever worker gets there first; a new deadline (the customer wrote again) is a new one."""

    conversation = models.ForeignKey(
        "tickets.Conversation", on_delete=models.CASCADE, related_name="sla_breach_notices"
    )
    target = models.CharField(_("target"), max_length=20)
    due_at = models.DateTimeField(_("due"))
    announced_at = models.DateTimeField(_("announced"))

    class Meta:
        verbose_name = _("SLA breach notice")
        verbose_name_plural = _("SLA breach notices")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "target", "due_at"], name="sla_breach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.target} {self.due_at:%Y-%m-%d %H:%M}"
