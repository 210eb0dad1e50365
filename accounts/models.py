from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    # Automatic assignment only picks agents who are available and below their capacity.
    availability = models.CharField(
        _("availability"),
        max_length=8,
        choices=[("online", _("Online")), ("busy", _("Busy")), ("offline", _("Offline"))],
        default="offline",
    )
    capacity = models.PositiveSmallIntegerField(_("open conversations at most"), default=10)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_settings", _("Can open and change workspace settings")),
            ("manage_users", _("Can manage users and teams")),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p] or [self.get_username()]
        return "".join(p[0] for p in parts[:2]).upper()


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True, verbose_name=_("members"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key the company's own systems use for the REST API (events, identify). Only a hash is
    stored; the key itself is shown once, when it is created."""

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
