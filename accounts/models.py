from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
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
    # Raised whenever a second factor is added or removed: it is part of the session hash, so every
    # session signed in before the change stops verifying (like after a password change).
    security_stamp = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_settings", _("Can open and change workspace settings")),
            ("manage_users", _("Can manage users and teams")),
        ]

    def get_session_auth_hash(self) -> str:
        return _with_stamp(super().get_session_auth_hash(), self.security_stamp)

    def get_session_auth_fallback_hash(self):
        for fallback in super().get_session_auth_fallback_hash():
            yield _with_stamp(fallback, self.security_stamp)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p] or [self.get_username()]
        return "".join(p[0] for p in parts[:2]).upper()


def _with_stamp(session_hash: str, stamp: int) -> str:
    # Stamp 0 keeps Django's own hash, so sessions from before this field existed stay valid.
    if not stamp:
        return session_hash
    return salted_hmac(
        "accounts.User.security_stamp", f"{session_hash}:{stamp}", algorithm="sha256"
    ).hexdigest()


class SecondFactorPolicy(models.Model):
    """Whether users of a role must have a second factor before they may use the app."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, unique=True)
    required = models.BooleanField(_("require a second factor"), default=False)

    class Meta:
        verbose_name = _("second factor policy")
        verbose_name_plural = _("second factor policies")

    def __str__(self) -> str:
        return f"{self.role}: {self.required}"


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
