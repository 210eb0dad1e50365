"""What happens to an agent's reply after it was queued.

"Send and resolve" resolves only once the channel accepted the reply: a reply that never left must not
close the conversation it answers. A reply that failed for good says why next to it in the thread,
its author is told wherever they are in the app, and anyone who may see the conversation can send the
same outbound row again.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from channels_app.kinds import provider_for
from channels_app.models import OutboundMessage, OutboundStatus
from core import realtime
from tickets import events
from tickets.models import Conversation, ConversationStatus, Message
from tickets.selectors import visible_conversations

logger = logging.getLogger(__name__)

# Keys in the reply Message's metadata: the agent asked to resolve once it is sent, and it was.
RESOLVE_ON_SENT = "resolve_on_sent"
RESOLVED_ON_SENT = "resolved_on_sent"
ACCEPTED = (OutboundStatus.SENT, OutboundStatus.DELIVERED, OutboundStatus.READ)
PROVIDER_NAMES = {"telegram": "Telegram", "twilio": "Twilio", "meta": "Meta", "email": "SMTP"}
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
# Adapters that already put the provider's words first ("Twilio error 21610: …", "Meta refused (400): …")
# and the raw answer after them, which the agent does not need to read.
_WORDED = ("Twilio ", "Meta refused")
_RAW_TAIL = re.compile(r" \(provider (?:refused|answered).*$", re.DOTALL)


class RetryError(ValueError):
    pass


# --- Why a reply was not delivered ---------------------------------------------------------------------
def _words_in(data: Any) -> str:
    """The provider's own explanation in a JSON error answer (Telegram, Twilio, Graph and generic)."""
    if not isinstance(data, dict):
        return ""
    nested = data.get("error")
    if isinstance(nested, dict):
        return _words_in(nested)
    for key in ("description", "error_user_msg", "message", "detail", "error"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        # Some adapters quote the answer as the Python dict they read it into.
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def failure_reason(*, error: str, provider: str) -> str:
    """One line for the agent: the provider's own words when its answer carried them, else the error."""
    error = (error or "").strip()
    if not error:
        return _("the channel gave no reason")
    if error.startswith(_WORDED):
        return _RAW_TAIL.sub("", error)[:300]
    found = _JSON_OBJECT.search(error)
    words = _words_in(_parsed(found.group(0))) if found else ""
    if words:
        name = PROVIDER_NAMES.get(provider, provider.capitalize())
        return _("%(provider)s said: %(reason)s") % {"provider": name, "reason": words[:300]}
    return error[:300]


def delivery_failure(message: Message) -> str:
    """The reason shown beside a reply that failed for good; empty for anything else."""
    try:
        delivery = message.delivery
    except ObjectDoesNotExist:
        return ""
    if delivery is None or delivery.status != OutboundStatus.FAILED:
        return ""
    channel = message.channel
    return failure_reason(error=delivery.error, provider=provider_for(channel.kind, channel.config))


# --- Settling a reply once its send is decided ------------------------------------------------------------
def do_settle_reply(*, message_id: int | None, status: str, error: str) -> None:
    """Resolve after "Send and resolve" once the reply is out; on failure keep (or put) the
    conversation open and tell the reply's author."""
    if message_id is None or status not in (*ACCEPTED, OutboundStatus.FAILED):
        return
    with transaction.atomic():
        # Locked so a "sent" and a late "failed" for the same reply settle one after the other.
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__channel", "author")
            .filter(pk=message_id)
            .first()
        )
        if message is None or not isinstance(message.metadata, dict):
            return
        if status in ACCEPTED:
            _resolve_if_asked(message)
        else:
            _keep_open(message, error=error)


def _resolve_if_asked(message: Message) -> None:
    from tickets.conversation_services import do_set_status

    if not message.metadata.pop(RESOLVE_ON_SENT, False):
        return
    conversation, author = message.conversation, message.author
    resolve = author is not None and conversation.status != ConversationStatus.RESOLVED
    if resolve:
        message.metadata[RESOLVED_ON_SENT] = True
    message.save(update_fields=["metadata"])
    if resolve and author is not None:
        do_set_status(conversation=conversation, actor=author, status=ConversationStatus.RESOLVED)


def _keep_open(message: Message, *, error: str) -> None:
    from tickets.conversation_services import do_set_status

    pending = message.metadata.pop(RESOLVE_ON_SENT, False)
    resolved = message.metadata.pop(RESOLVED_ON_SENT, False)
    if pending or resolved:
        message.save(update_fields=["metadata"])
    conversation, author = message.conversation, message.author
    reopen = resolved and conversation.status == ConversationStatus.RESOLVED
    if reopen and author is not None:
        # Resolved because the channel first took the reply; it then reported it undelivered.
        do_set_status(conversation=conversation, actor=author, status=ConversationStatus.OPEN)
    if message.author_id is None:
        return
    reason = failure_reason(
        error=error, provider=provider_for(conversation.channel.kind, conversation.channel.config)
    )
    text = _("Your reply in “%(conversation)s” was not delivered: %(reason)s") % {
        "conversation": conversation,
        "reason": reason,
    }
    if pending or reopen:
        text += " " + _("The conversation stays open.")
    notice: realtime.SystemNotice = {
        "level": "error",
        "text": text,
        "url": reverse("conversation_detail", kwargs={"pk": conversation.pk}),
    }
    realtime.publish([realtime.user_group(message.author_id)], realtime.SYSTEM_NOTICE, dict(notice))


# --- Sending again -----------------------------------------------------------------------------------------
@transaction.atomic
def do_retry_outbound(*, actor: User, conversation: Conversation, message_id: int) -> OutboundMessage:
    """Queue a failed reply's own outbound row again. A reply that is queued or sent already is left
    as it is, so a double click sends it once."""
    if not visible_conversations(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied
    outbound = (
        OutboundMessage.objects.select_for_update()
        .filter(message_id=message_id, message__conversation_id=conversation.pk)
        .first()
    )
    if outbound is None:
        raise RetryError(_("Only a reply that was not delivered can be sent again."))
    if outbound.status != OutboundStatus.FAILED:
        return outbound
    outbound.status = OutboundStatus.QUEUED
    outbound.error = ""
    outbound.attempts = 0
    # The provider's id of the failed attempt (a send it took, then reported undelivered) would make
    # the worker skip the row and route that attempt's late callbacks here.
    outbound.provider_message_id = None
    outbound.status_at = timezone.now()
    outbound.save(update_fields=["status", "error", "attempts", "provider_message_id", "status_at"])
    transaction.on_commit(lambda: _enqueue(outbound.pk))
    realtime.publish(
        events.audience(conversation),
        events.MESSAGE_STATUS,
        {
            "conversation_id": conversation.pk,
            "message_id": message_id,
            "status": OutboundStatus.QUEUED,
            "error": "",
        },
    )
    return outbound


def _enqueue(outbound_id: int) -> None:
    from channels_app.tasks import send_outbound

    try:
        send_outbound.apply_async(args=[outbound_id], queue="realtime")
    except Exception:  # broker down: the row stays queued, like any reply queued while it was away
        logger.warning("could not queue outbound %s again", outbound_id, exc_info=True)
