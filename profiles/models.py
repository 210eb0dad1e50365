from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    WEBCHAT = "webchat", _("Web chat visitor")
    EXTERNAL_ID = "external_id", _("External id")


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
    display = models.CharField(_("display name"), max_length=200, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
