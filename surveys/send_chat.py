"""Survey invitations inside a chat channel: SMS, WhatsApp, Telegram, Messenger, Instagram.

The question goes out through the usual outbound pipeline with the choices as neutral `buttons`
({"title", "payload"}); each adapter renders its provider's shape (Telegram inline keyboard, Messenger
and Instagram quick replies, WhatsApp reply buttons or a list). Where no buttons fit, the customer is
asked to reply with a number, which `surveys.chat_answers` reads from the inbound pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation
from django.utils.translation import gettext as _

from channels_app.kinds import ChannelKind, KindTable, provider_for
from channels_app.outbound import do_queue_outbound
from channels_app.rules import sms_segments
from profiles.normalize import normalize_or_keep
from surveys import texts
from surveys.chat_answers import button_payload
from surveys.delivery import DeliveryError, reach
from surveys.invitation_models import Invitation
from surveys.models import ScaleStyle, SurveyKind
from tickets.selectors import customer_whatsapp_window

# The channel kind each chat medium goes through: a chat kind is its own medium (KindSpec.chat).
CHANNEL_FOR_MEDIUM: Mapping[str, str] = KindTable(lambda spec: spec.value, where=lambda spec: spec.chat)
# How many answer buttons a question can carry (KindSpec.survey_buttons: 13 quick replies on Messenger
# and Instagram, 10 list rows on WhatsApp, so an 11-point NPS scale is asked as text there).
MAX_BUTTONS: Mapping[str, int] = KindTable(lambda spec: spec.survey_buttons, where=lambda spec: spec.chat)
# Two concatenated segments cost twice one; more than that and the question is worth shortening.
MAX_SMS_SEGMENTS = 2


def send_chat_invitation(invitation: Invitation) -> None:
    kind = CHANNEL_FOR_MEDIUM.get(invitation.medium)
    if kind is None:
        raise DeliveryError(f"{invitation.medium} is not a chat medium")
    found = reach(invitation, kind)
    channel, identity = found.channel, found.identity
    provider = provider_for(channel.kind, channel.config)
    if (
        kind == ChannelKind.WHATSAPP
        and not customer_whatsapp_window(channel=channel, customer=invitation.customer_id).open
    ):
        # Free-form and interactive messages are refused outside the window; only templates may start one.
        raise DeliveryError("Outside the 24-hour WhatsApp window: an approved template would be needed.")
    region = channel.config.get("default_region", "")
    # Normalized as inbound senders are, so the customer's reply finds this invitation.
    recipient = normalize_or_keep(identity.kind, identity.value, region)
    invitation.channel = channel
    invitation.recipient = recipient
    payload = build_payload(invitation, kind=kind, provider=provider)
    do_queue_outbound(channel=channel, recipient=recipient, payload=payload, message=None)


def build_payload(invitation: Invitation, *, kind: str, provider: str) -> dict:
    survey = invitation.survey
    language = texts.pick_language(invitation.locale)
    question = texts.question_text(survey, language)
    choices = texts.choices(survey, language)
    payload: dict = {"survey_invitation": invitation.pk}
    if kind != ChannelKind.SMS and provider != "twilio" and len(choices) <= MAX_BUTTONS.get(kind, 0):
        hint = _ends_hint(survey, language)
        payload["text"] = f"{question}\n{hint}" if hint else question
        payload["buttons"] = [
            {"title": choice.label, "payload": button_payload(invitation, choice.value)} for choice in choices
        ]
        return payload
    payload["text"] = reply_with_number_text(invitation, language, sms=kind == ChannelKind.SMS)
    return payload


def reply_with_number_text(invitation: Invitation, language: str, *, sms: bool) -> str:
    survey = invitation.survey
    low, high = survey.scale
    question = texts.question_text(survey, language)
    with translation.override(language):
        ask = _("Reply with a number from %(low)s to %(high)s.") % {"low": low, "high": high}
    hint = _ends_hint(survey, language, words=True)
    full = "\n".join(part for part in (question, ask, hint) if part)
    if sms and hint and sms_segments(full).segments > MAX_SMS_SEGMENTS:
        return f"{question}\n{ask}"
    return full


def _ends_hint(survey, language: str, *, words: bool = False) -> str:
    """ "0 = Not at all likely, 10 = Extremely likely": what the ends of a number scale mean. Buttons
    that already show words or emoji need no key; a typed answer always does."""
    if not words and survey.kind == SurveyKind.CSAT and survey.scale_style != ScaleStyle.NUMBERS:
        return ""
    low, high = survey.scale
    low_words, high_words = texts.scale_ends(survey, language)
    return f"{low} = {low_words}, {high} = {high_words}"
