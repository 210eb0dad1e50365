"""The non-secret settings (``Channel.config``) an admin can edit on a channel, as form fields.

Each adapter reads its keys from ``channel.config``. A kind's own fields are listed on its KindSpec
(``channels_app/builtin_kinds.py`` takes them from here); every kind also gets the common ones, and a
kind that runs on several providers gets the provider choice built from its spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from channels_app.kinds import KindSpec, kind_spec


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _origins(value: str) -> list[str]:
    origins = []
    for line in _lines(value):
        parts = urlsplit(line)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValidationError(
                _("“%(value)s” is not an origin such as https://shop.example.com."), params={"value": line}
            )
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return origins


def _region(value: str) -> str:
    value = (value or "").strip().upper()
    if value and (len(value) != 2 or not value.isalpha()):
        raise ValidationError(_("Use a two-letter country code such as PL, RU or GB."))
    return value


@dataclass(frozen=True)
class SettingField:
    key: str
    make: Callable[[], forms.Field]
    # Turns the cleaned form value into what is stored in config (and back for the initial value).
    to_config: Callable[[Any], Any] = lambda value: value
    to_form: Callable[[Any], Any] = lambda value: value


THREADING = SettingField(
    "threading",
    lambda: forms.ChoiceField(
        label=_("When a customer with an open conversation writes here"),
        choices=[
            ("continue", _("Continue their open conversation, whatever channel it started on")),
            ("new", _("Always start a new conversation")),
        ],
        initial="continue",
        required=False,
    ),
    to_config=lambda value: value or "continue",
)
# Fields every kind has, before its own.
COMMON_FIELDS: tuple[SettingField, ...] = (THREADING,)

PHONE_NUMBER_ID = SettingField(
    "phone_number_id",
    lambda: forms.CharField(
        label=_("Phone number ID"),
        required=False,
        max_length=64,
        help_text=_("From Meta's WhatsApp Manager; not needed for Twilio."),
    ),
)
PAGE_ID = SettingField(
    "page_id", lambda: forms.CharField(label=_("Page or account ID"), required=False, max_length=64)
)
MESSAGING_SERVICE_SID = SettingField(
    "messaging_service_sid",
    lambda: forms.CharField(
        label=_("Messaging service SID"),
        required=False,
        max_length=64,
        help_text=_("Optional; when set, replies are sent through the service instead of the number."),
    ),
)
DEFAULT_REGION = SettingField(
    "default_region",
    lambda: forms.CharField(
        label=_("Default country for phone numbers"),
        required=False,
        max_length=2,
        help_text=_("Numbers written without a country code are read as numbers of this country."),
    ),
    to_config=_region,
)
ALLOWED_ORIGINS = SettingField(
    "allowed_origins",
    lambda: forms.CharField(
        label=_("Allowed websites"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://shop.example.com"}),
        help_text=_("One origin per line. Leave empty to allow any website."),
    ),
    to_config=_origins,
    to_form=lambda value: "\n".join(value or []),
)
CALLBACK_URL = SettingField(
    "callback_url",
    lambda: forms.URLField(
        label=_("Callback URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Replies and status changes are POSTed here, signed with the signing secret."),
    ),
)
MEDIA_HOSTS = SettingField(
    "media_hosts",
    lambda: forms.CharField(
        label=_("Hosts attachments may be downloaded from"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "files.example.com"}),
        help_text=_("One host per line; “.example.com” allows every subdomain."),
    ),
    to_config=lambda value: [line.lower() for line in _lines(value)],
    to_form=lambda value: "\n".join(value or []),
)


def _email_fields() -> tuple[SettingField, ...]:
    security = [("ssl", _("TLS (SSL)")), ("starttls", "STARTTLS"), ("none", _("None (local servers only)"))]

    def port(label):
        return lambda: forms.IntegerField(label=label, required=False, min_value=1, max_value=65535)

    return (
        SettingField("from_name", lambda: forms.CharField(label=_("Sender name"), required=False)),
        SettingField("smtp_host", lambda: forms.CharField(label=_("SMTP server"), required=False)),
        SettingField("smtp_port", port(_("SMTP port"))),
        SettingField(
            "smtp_security",
            lambda: forms.ChoiceField(
                label=_("SMTP security"), choices=security, initial="starttls", required=False
            ),
            to_config=lambda value: value or "starttls",
        ),
        SettingField("smtp_user", lambda: forms.CharField(label=_("SMTP user"), required=False)),
        SettingField(
            "imap_host",
            lambda: forms.CharField(
                label=_("IMAP server"),
                required=False,
                help_text=_("Set it to fetch mail from the mailbox every minute; leave empty for webhooks."),
            ),
        ),
        SettingField("imap_port", port(_("IMAP port"))),
        SettingField(
            "imap_security",
            lambda: forms.ChoiceField(
                label=_("IMAP security"), choices=security, initial="ssl", required=False
            ),
            to_config=lambda value: value or "ssl",
        ),
        SettingField("imap_user", lambda: forms.CharField(label=_("IMAP user"), required=False)),
        SettingField(
            "imap_folder",
            lambda: forms.CharField(label=_("IMAP folder"), required=False, initial="INBOX"),
            to_config=lambda value: value or "INBOX",
        ),
    )


EMAIL_FIELDS = _email_fields()


def provider_field(spec: KindSpec) -> SettingField:
    """The choice of provider for a kind that runs on several, from its spec."""
    default = spec.default_provider
    return SettingField(
        "provider",
        lambda: forms.ChoiceField(
            label=_("Provider"),
            choices=[(provider.name, provider.label or provider.name) for provider in spec.providers],
            initial=default,
            required=False,
        ),
        to_config=lambda value: value or default,
    )


def fields_for(kind: str) -> list[SettingField]:
    spec = kind_spec(kind)
    choice = [provider_field(spec)] if len(spec.providers) > 1 else []
    return [*COMMON_FIELDS, *choice, *spec.settings_fields]
