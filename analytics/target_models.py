"""Targets an admin sets per headline metric (NPS ≥ 40, first response under 1 h, …)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricTarget(models.Model):
    """One target per metric. `value` is in the unit the overview shows the metric in (NPS points,
    percent, minutes, CES points), so what the admin typed is what they see again; which way is better
    is part of the metric's definition (analytics/targets.py), not of the row."""

    metric = models.CharField(_("metric"), max_length=40, unique=True)
    value = models.FloatField(_("target"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("metric target")
        verbose_name_plural = _("metric targets")

    def __str__(self) -> str:
        return f"{self.metric}: {self.value}"
