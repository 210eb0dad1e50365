"""Every string the widget shows, translated on the server for the visitor's language."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from channels_app.webchat import limits


def visitor_language(requested: str) -> str:
    """The closest supported language to the browser's navigator.language; the site default otherwise."""
    try:
        return translation.get_supported_language_variant(requested.strip().lower()[:16])
    except LookupError:
        return settings.LANGUAGE_CODE.split("-")[0]


def error_text(code: str) -> str:
    """A translated explanation for an error code the consumer sends (call inside translation.override)."""
    texts = {
        "rate_limited": _("You are sending messages too quickly. Please wait a few seconds."),
        "too_many_chats": _("Too many new chats were started from your network. Please try again later."),
        "too_long": _("This message is too long: at most %(limit)s characters.")
        % {"limit": limits.MAX_MESSAGE_CHARS},
        "empty": _("Type a message first."),
        "invalid": _("This message could not be read."),
        "not_ready": _("The chat is still connecting. Please try again in a moment."),
        "identity_refused": _("We could not confirm your account, so you are chatting as a guest."),
        "origin_refused": _("Chat is not enabled on this website."),
        "unavailable": _("This chat is not available."),
        "store_failed": _("Your message could not be saved. Please try again."),
    }
    return texts.get(code, texts["invalid"])


def widget_labels() -> dict[str, str]:
    """The widget's interface text (call inside translation.override)."""
    return {
        "open": _("Open chat"),
        "close": _("Close chat"),
        "title": _("Chat with us"),
        "subtitle": _("Ask us anything. We reply right here."),
        "input": _("Message"),
        "placeholder": _("Type your message…"),
        "send": _("Send"),
        "empty": _("Send us a message and we will reply here."),
        "you": _("You"),
        "agent": _("Support"),
        "connecting": _("Connecting…"),
        "offline": _("Connection lost. Reconnecting…"),
        "sending": _("Sending…"),
        "not_sent": _("Not sent"),
        "retry": _("Retry"),
    }
