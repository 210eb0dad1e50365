"""Channel kinds and the credentials each one needs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    WEBCHAT = "webchat", _("Web chat")
    API = "api", _("API")


# Credential fields per kind; values are secrets (encrypted at rest, masked in the UI).
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    # inbound_webhook_secret signs raw MIME and Mailgun posts; inbound_basic_auth ("user:password", put
    # into the webhook URL) is all SendGrid and Postmark can send.
    ChannelKind.EMAIL: ("smtp_password", "imap_password", "inbound_webhook_secret", "inbound_basic_auth"),
    ChannelKind.SMS: ("account_sid", "auth_token"),
    # Meta's Cloud API uses the first three, Twilio the last two (see PROVIDER_CHOICES).
    ChannelKind.WHATSAPP: ("access_token", "app_secret", "verify_token", "account_sid", "auth_token"),
    ChannelKind.TELEGRAM: ("bot_token", "webhook_secret"),
    ChannelKind.MESSENGER: ("page_access_token", "app_secret", "verify_token"),
    ChannelKind.INSTAGRAM: ("page_access_token", "app_secret", "verify_token"),
    ChannelKind.WEBCHAT: ("identity_secret",),
    ChannelKind.API: ("signing_secret",),
}

# Which provider serves each kind by default; used to build the webhook URL shown in Settings and to
# pick the adapter that sends. WhatsApp can run on Meta's Cloud API or on Twilio: a channel chooses with
# ``config["provider"]``, which must be one of PROVIDER_CHOICES for its kind.
WEBHOOK_PROVIDER: dict[str, str] = {
    ChannelKind.EMAIL: "email",
    ChannelKind.SMS: "twilio",
    ChannelKind.WHATSAPP: "meta",
    ChannelKind.TELEGRAM: "telegram",
    ChannelKind.MESSENGER: "meta",
    ChannelKind.INSTAGRAM: "meta",
    ChannelKind.WEBCHAT: "webchat",
    ChannelKind.API: "api",
}
PROVIDER_CHOICES: dict[str, tuple[str, ...]] = {ChannelKind.WHATSAPP: ("meta", "twilio")}


def provider_for(kind: str, config: dict | None = None) -> str:
    """The provider (webhook path segment and adapter name) a channel of this kind and config uses."""
    chosen = (config or {}).get("provider")
    if chosen and chosen in PROVIDER_CHOICES.get(kind, ()):
        return str(chosen)
    return WEBHOOK_PROVIDER.get(kind, kind)


CREDENTIAL_LABELS = {
    "smtp_password": _("SMTP password"),
    "imap_password": _("IMAP password"),
    "inbound_webhook_secret": _("Inbound webhook secret"),
    "inbound_basic_auth": _("Inbound webhook basic auth (user:password)"),
    "account_sid": _("Account SID"),
    "auth_token": _("Auth token"),
    "access_token": _("Access token"),
    "app_secret": _("App secret"),
    "verify_token": _("Verify token"),
    "bot_token": _("Bot token"),
    "webhook_secret": _("Webhook secret"),
    "page_access_token": _("Page access token"),
    "identity_secret": _("Identity verification secret"),
    "signing_secret": _("Signing secret"),
}
