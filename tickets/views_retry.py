"""Sending a failed reply again, from the thread where its failure is shown."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from tickets import selectors_conversation as sel
from tickets.reply_delivery import RetryError, do_retry_outbound
from tickets.views_conversation import _regions, _user


@requires(roles.WORK_INBOX)
@require_POST
def retry_reply(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    try:
        do_retry_outbound(actor=_user(request), conversation=conversation, message_id=message_id)
    except RetryError as exc:
        raise Http404(str(exc)) from exc
    return _regions(request, conversation, ["thread"], notices=[_("The reply is queued to be sent again.")])
