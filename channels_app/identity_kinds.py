"""The kinds of identity a customer can be known by.

They live with the channels because a channel's adapter decides which one a sender has (a Telegram user
id, a phone number, a mailbox); profiles stores and merges them and imports this name from here.
"""

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
