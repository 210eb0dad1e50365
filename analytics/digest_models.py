"""Who gets the weekly digest email, in which time zone, and which week they last got."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DigestSubscription(models.Model):
    """A user's choice about the weekly digest. Opt-in: no row, or ``enabled`` false, means no mail.

    Users have no time zone of their own elsewhere, so the digest keeps the one it is timed and
    reported in. ``last_week`` is the Monday (local date) that starts the week the latest digest was
    sent on: the sender claims a week by moving it forward, so a digest goes out once per week even
    when two beat runs overlap.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="digest_subscription",
        verbose_name=_("user"),
    )
    enabled = models.BooleanField(_("send me the weekly digest"), default=False)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    last_week = models.DateField(_("last digest sent for the week of"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("weekly digest subscription")
        verbose_name_plural = _("weekly digest subscriptions")

    def __str__(self) -> str:
        return f"digest for user {self.user_id}: {'on' if self.enabled else 'off'}"
