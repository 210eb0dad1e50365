"""Survey answers that arrive as chat messages: a typed number or a pressed button.

Called by the inbound pipeline after the sender's customer is known and before any conversation is
looked for. True means the message was about a survey and must not reach the inbox:

- A button payload `svy:<invitation id>:<score>:<mac>` whose MAC (keyed by the invitation's secret
  token, which never leaves the server) matches, from the invitation's channel and recipient. Answered
  or expired invitations get a polite reply instead of a second answer. A payload that does not verify
  is not ours to swallow: it goes to the inbox like any message.
- A message that is only a number ("9", " 9 ", "9/10", "10!") from a sender with an open invitation on
  that channel. A number off the scale (two digits at most, so order numbers still reach agents) gets a
  reply asking for the scale. With no open invitation, a number within a day of the sender's last
  invitation being answered or expiring gets a polite reply too (it is a late answer, not a support
  request); otherwise it is an ordinary message.

Every reply goes out through the outbound pipeline, in the invitation's language, tied to no message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels_app.kinds import KindTable
from channels_app.models import Channel
from channels_app.normalized import SCORE_LIKE, NormalizedMessage
from channels_app.outbound import do_queue_outbound
from profiles.models import Customer
from profiles.normalize import normalize_or_keep
from surveys import texts
from surveys.answers import AnswerError, do_record_answer
from surveys.invitation_models import Invitation, InvitationStatus

logger = logging.getLogger(__name__)

PREFIX = "svy:"
# 12 base64url characters are 72 bits: guessing is hopeless, and the whole payload stays well under
# Telegram's 64-byte callback_data limit.
MAC_LENGTH = 12
PAYLOAD = re.compile(rf"^svy:(\d{{1,18}}):(\d{{1,2}}):([A-Za-z0-9_-]{{{MAC_LENGTH}}})$")
# How long after an invitation was answered or expired a bare number still counts as meant for it.
LATE_WINDOW = timedelta(hours=24)
# Kinds whose survey questions are asked in the chat (KindSpec.chat); `kind in CHAT_MEDIA` reads the registry.
CHAT_MEDIA: Mapping[str, str] = KindTable(lambda spec: spec.value, where=lambda spec: spec.chat)


def button_payload(invitation: Invitation, score: int) -> str:
    return f"{PREFIX}{invitation.pk}:{score}:{_mac(invitation, score)}"


def _mac(invitation: Invitation, score: int) -> str:
    digest = hmac.new(invitation.token.encode(), f"{invitation.pk}:{score}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_LENGTH]


def try_record_chat_answer(channel: Channel, message: NormalizedMessage, customer: Customer) -> bool:
    if channel.kind not in CHAT_MEDIA:
        return False
    data = str(message.metadata.get("callback_data") or "")
    button = bool(message.metadata.get("button")) and data.startswith(PREFIX)
    # Every inbound chat message passes here: only a possible answer pays for normalizing the sender.
    if not button and (message.attachments or not SCORE_LIKE.match(message.text or "")):
        return False
    sender = normalize_or_keep(
        message.sender.kind, message.sender.value, channel.config.get("default_region", "")
    )
    if button:
        return _button_answer(channel, message, sender, data)
    return _typed_answer(channel, message, sender)


def _button_answer(channel: Channel, message: NormalizedMessage, sender: str, data: str) -> bool:
    match = PAYLOAD.match(data)
    invitation = (
        Invitation.objects.select_related("survey").filter(pk=int(match.group(1))).first() if match else None
    )
    if (
        match is None
        or invitation is None
        or not hmac.compare_digest(_mac(invitation, int(match.group(2))), match.group(3))
    ):
        logger.warning("survey button payload that does not verify on channel %s", channel.pk)
        return False
    chat = str(message.metadata.get("chat_id") or sender)
    if invitation.channel_id != channel.pk or sender != invitation.recipient or chat != invitation.recipient:
        logger.warning("survey button of invitation %s pressed by someone else", invitation.pk)
        return False
    _record(invitation, channel, int(match.group(2)))
    return True


def _typed_answer(channel: Channel, message: NormalizedMessage, sender: str) -> bool:
    match = SCORE_LIKE.match(message.text)
    if match is None:
        return False
    score, out_of = int(match.group(1)), match.group(2)
    now = timezone.now()
    invitation = (
        Invitation.objects.select_related("survey")
        .filter(channel=channel, recipient=sender, status=InvitationStatus.SENT, expires_at__gt=now)
        .order_by("-sent_at")
        .first()
    )
    if invitation is None:
        return _late_answer(channel, sender, now)
    low, high = invitation.survey.scale
    if not low <= score <= high or (out_of is not None and int(out_of) != high):
        _reply(invitation, channel, _ask_again)
        return True
    _record(invitation, channel, score)
    return True


def _late_answer(channel: Channel, sender: str, now) -> bool:
    cutoff = now - LATE_WINDOW
    closed = (
        Invitation.objects.filter(channel=channel, recipient=sender, sent_at__isnull=False)
        .filter(
            Q(status=InvitationStatus.ANSWERED, answered_at__gte=cutoff)
            | Q(status=InvitationStatus.SENT, expires_at__gt=cutoff, expires_at__lte=now)
        )
        .order_by("-sent_at")
        .first()
    )
    if closed is None:
        return False
    _reply(closed, channel, _already if closed.status == InvitationStatus.ANSWERED else _closed)
    return True


def _record(invitation: Invitation, channel: Channel, score: int) -> None:
    medium = channel.kind if channel.kind in CHAT_MEDIA else invitation.medium
    try:
        do_record_answer(token=invitation.token, score=score, medium=medium)
    except AnswerError as exc:
        if exc.code == AnswerError.ANSWERED:
            _reply(invitation, channel, _already)
        elif exc.code == AnswerError.EXPIRED:
            _reply(invitation, channel, _closed)
        elif exc.code == AnswerError.INVALID:
            _reply(invitation, channel, _ask_again)
        # Not sent (throttled or failed): nobody asked this person, so there is nothing to say.
        return
    _reply(invitation, channel, _thanks)


def _reply(invitation: Invitation, channel: Channel, words) -> None:
    language = texts.pick_language(invitation.locale)
    with translation.override(language):
        text = words(invitation)
    do_queue_outbound(channel=channel, recipient=invitation.recipient, payload={"text": text}, message=None)


def _thanks(invitation: Invitation) -> str:
    return _("Thank you for your answer!")


def _already(invitation: Invitation) -> str:
    return _("Thank you, we already have your answer to this survey.")


def _closed(invitation: Invitation) -> str:
    return _("Sorry, this survey has closed.")


def _ask_again(invitation: Invitation) -> str:
    low, high = invitation.survey.scale
    return _("Please reply with a number from %(low)s to %(high)s.") % {"low": low, "high": high}
