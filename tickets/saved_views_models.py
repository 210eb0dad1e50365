"""Saved inbox views: a named filter and sort combination an agent keeps in the inbox's left column."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SavedViewVisibility(models.TextChoices):
    PRIVATE = "private", _("Only me")
    TEAM = "team", _("A team")
    EVERYONE = "everyone", _("Everyone")


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    # The inbox's canonical query parameters (see selectors_inbox.InboxQuery.params), validated on save,
    # and parsed again on use: a value that stops making sense is dropped, never trusted.
    params = models.JSONField(_("filters"), default=dict, blank=True)
    visibility = models.CharField(
        _("shared with"),
        max_length=10,
        choices=SavedViewVisibility.choices,
        default=SavedViewVisibility.PRIVATE,
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("team"),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_owner_name"),
            # A team view names its team; other views name none, so the team's deletion cannot leave a
            # "team" view that nobody (or everybody) sees.
            models.CheckConstraint(
                condition=Q(visibility="team", team__isnull=False)
                | (~Q(visibility="team") & Q(team__isnull=True)),
                name="saved_view_team_matches_visibility",
            ),
        ]

    def __str__(self) -> str:
        return self.name
