"""The built-in kinds as the registry describes them: the tables other apps read, unchanged."""

from __future__ import annotations

from channels_app import kinds
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind
from channels_app.outbound_media import MMS, WHATSAPP_CLOUD, WHATSAPP_TWILIO, rule_for
from surveys.invitation_models import Medium, medium_choices


def test_kind_choices_are_the_built_in_kinds_in_order():
    # Channel.kind's migrations were written with these; a reordering would look like a change.
    assert kinds.kind_choices() == ChannelKind.choices
    assert medium_choices() == Medium.choices


def test_providers_and_their_base_urls():
    assert dict(kinds.WEBHOOK_PROVIDER) == {
        "email": "email",
        "sms": "twilio",
        "whatsapp": "meta",
        "telegram": "telegram",
        "messenger": "meta",
        "instagram": "meta",
        "webchat": "webchat",
        "api": "api",
    }
    assert dict(kinds.PROVIDER_CHOICES) == {"whatsapp": ("meta", "twilio")}
    assert kinds.provider_base_urls() == {
        "twilio": ("TWILIO_API_BASE_URL", "https://api.twilio.com"),
        "meta": ("META_GRAPH_BASE_URL", "https://graph.facebook.com/v21.0"),
        "telegram": ("TELEGRAM_API_BASE_URL", "https://api.telegram.org"),
    }
    assert kinds.connection_requirements() == {
        ("telegram", "telegram"): ("bot_token",),
        ("twilio", "sms"): ("account_sid", "auth_token"),
        ("twilio", "whatsapp"): ("account_sid", "auth_token"),
        ("meta", "whatsapp"): ("access_token",),
        ("meta", "messenger"): ("page_access_token",),
        ("meta", "instagram"): ("page_access_token",),
    }


def test_identity_and_survey_medium_of_each_kind():
    assert dict(kinds.IDENTITY_FOR_KIND) == {
        "email": IdentityKind.EMAIL,
        "sms": IdentityKind.PHONE,
        "whatsapp": IdentityKind.WHATSAPP,
        "telegram": IdentityKind.TELEGRAM,
        "messenger": IdentityKind.MESSENGER,
        "instagram": IdentityKind.INSTAGRAM,
        "webchat": IdentityKind.WEBCHAT,
        "api": IdentityKind.EXTERNAL_ID,
    }
    assert dict(kinds.SURVEY_MEDIUM_FOR_KIND) == {
        "email": "email",
        "sms": "sms",
        "whatsapp": "whatsapp",
        "telegram": "telegram",
        "messenger": "messenger",
        "instagram": "instagram",
        "webchat": "widget",
        "api": "email",
    }


def test_media_rule_follows_the_provider():
    assert rule_for("whatsapp", {}) is WHATSAPP_CLOUD
    assert rule_for("whatsapp", {"provider": "twilio"}) is WHATSAPP_TWILIO
    assert rule_for("sms", {"provider": "twilio"}) is MMS
