"""The channel kinds that ship with the product, registered on first use of the registry (kinds.py)."""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from channels_app import outbound_media as media
from channels_app import settings_fields as fields
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind, KindSpec, ProviderSpec, register_kind

# Shared by several kinds, so declared once: a provider's base URL must be the same for all of them.
META = ProviderSpec(
    "meta", "Meta", base_url_env="META_GRAPH_BASE_URL", base_url="https://graph.facebook.com/v21.0"
)
TWILIO = ProviderSpec(
    "twilio",
    "Twilio",
    base_url_env="TWILIO_API_BASE_URL",
    base_url="https://api.twilio.com",
    check_requires=("account_sid", "auth_token"),
)
TELEGRAM = ProviderSpec(
    "telegram",
    "Telegram",
    base_url_env="TELEGRAM_API_BASE_URL",
    base_url="https://api.telegram.org",
    # The webhook secret is not needed: the check generates one when it is missing.
    check_requires=("bot_token",),
)

BUILT_IN_KINDS = (
    KindSpec(
        ChannelKind.EMAIL,
        ChannelKind.EMAIL.label,
        identity_kind=IdentityKind.EMAIL,
        providers=(ProviderSpec("email", "SMTP"),),
        # inbound_webhook_secret signs raw MIME and Mailgun posts; inbound_basic_auth ("user:password",
        # put into the webhook URL) is all SendGrid and Postmark can send.
        credential_fields=("smtp_password", "imap_password", "inbound_webhook_secret", "inbound_basic_auth"),
        settings_fields=fields.EMAIL_FIELDS,
        media=media.email_rule,
        mail=True,
    ),
    KindSpec(
        ChannelKind.SMS,
        ChannelKind.SMS.label,
        identity_kind=IdentityKind.PHONE,
        providers=(TWILIO,),
        credential_fields=("account_sid", "auth_token"),
        settings_fields=(fields.MESSAGING_SERVICE_SID, fields.DEFAULT_REGION),
        media=media.MMS,
        chat=True,
    ),
    KindSpec(
        ChannelKind.WHATSAPP,
        ChannelKind.WHATSAPP.label,
        identity_kind=IdentityKind.WHATSAPP,
        providers=(
            replace(META, label=_("Meta WhatsApp Cloud API"), check_requires=("access_token",)),
            replace(TWILIO, media=media.WHATSAPP_TWILIO),
        ),
        # Meta's Cloud API uses the first three, Twilio the last two.
        credential_fields=("access_token", "app_secret", "verify_token", "account_sid", "auth_token"),
        settings_fields=(fields.PHONE_NUMBER_ID, fields.DEFAULT_REGION),
        media=media.WHATSAPP_CLOUD,
        chat=True,
        # A list holds 10 rows across all of its sections (Cloud API, interactive list messages).
        survey_buttons=10,
    ),
    KindSpec(
        ChannelKind.TELEGRAM,
        ChannelKind.TELEGRAM.label,
        identity_kind=IdentityKind.TELEGRAM,
        providers=(TELEGRAM,),
        credential_fields=("bot_token", "webhook_secret"),
        media=media.TELEGRAM,
        chat=True,
        survey_buttons=11,
    ),
    KindSpec(
        ChannelKind.MESSENGER,
        ChannelKind.MESSENGER.label,
        identity_kind=IdentityKind.MESSENGER,
        providers=(replace(META, check_requires=("page_access_token",)),),
        credential_fields=("page_access_token", "app_secret", "verify_token"),
        settings_fields=(fields.PAGE_ID,),
        media=media.MESSENGER,
        chat=True,
        survey_buttons=13,  # quick replies
    ),
    KindSpec(
        ChannelKind.INSTAGRAM,
        ChannelKind.INSTAGRAM.label,
        identity_kind=IdentityKind.INSTAGRAM,
        providers=(replace(META, check_requires=("page_access_token",)),),
        credential_fields=("page_access_token", "app_secret", "verify_token"),
        settings_fields=(fields.PAGE_ID,),
        media=media.INSTAGRAM,
        chat=True,
        survey_buttons=13,
    ),
    KindSpec(
        ChannelKind.WEBCHAT,
        ChannelKind.WEBCHAT.label,
        identity_kind=IdentityKind.WEBCHAT,
        providers=(ProviderSpec("webchat"),),
        credential_fields=("identity_secret",),
        settings_fields=(fields.ALLOWED_ORIGINS,),
        # A chat visitor is asked in the widget the next time they come back.
        survey_medium="widget",
    ),
    KindSpec(
        ChannelKind.API,
        ChannelKind.API.label,
        identity_kind=IdentityKind.EXTERNAL_ID,
        providers=(ProviderSpec("api"),),
        credential_fields=("signing_secret",),
        settings_fields=(fields.CALLBACK_URL, fields.MEDIA_HOSTS),
        # An API "channel" cannot carry a survey: it falls back to mail.
    ),
)

for _spec in BUILT_IN_KINDS:
    register_kind(_spec)
