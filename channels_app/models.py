from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from channels_app.kinds import ChannelKind, kind_choices, provider_for
from core.crypto import mask_secret, resolve_secret
from core.fields import EncryptedJSONField


class Channel(models.Model):
    """A connected inbox of one kind (an email address, a WhatsApp number, a Telegram bot, ...)."""

    kind = models.CharField(_("kind"), max_length=16, choices=kind_choices)
    name = models.CharField(_("name"), max_length=120)
    # Public address of the inbox: email address, phone number, bot username, page id, site domain.
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Non-secret settings (default phone region, threading policy, ...), visible to admins.
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Secret values or ``env:NAME`` references; never rendered back in full.
    credentials = EncryptedJSONField(_("credentials"), default=dict, blank=True)
    teams = models.ManyToManyField(
        "accounts.Team", related_name="channels", blank=True, verbose_name=_("teams")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        permissions = [("manage_channels", _("Can connect and configure channels"))]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="channel_unique_kind_name")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def secret(self, field: str) -> str:
        """The usable value of one credential, resolving ``env:`` references at call time."""
        return resolve_secret(str(self.credentials[field]))

    def masked_credentials(self) -> dict[str, str]:
        return {key: mask_secret(str(value)) for key, value in sorted(self.credentials.items())}

    @property
    def webhook_url(self) -> str | None:
        if self.pk is None or self.kind == ChannelKind.WEBCHAT:
            return None  # web chat talks to us over a websocket, not a provider webhook
        provider = provider_for(self.kind, self.config)
        return f"{settings.PUBLIC_BASE_URL}/webhooks/{provider}/{self.pk}/"


# Imported here so Django finds them as models of this app; they live in their own modules for size.
from channels_app.inbound_models import InboundEvent, InboundStatus  # noqa: E402
from channels_app.outbound_models import OutboundMessage, OutboundStatus  # noqa: E402
from channels_app.template_models import MessageTemplate  # noqa: E402

__all__ = ["Channel", "InboundEvent", "InboundStatus", "MessageTemplate", "OutboundMessage", "OutboundStatus"]
