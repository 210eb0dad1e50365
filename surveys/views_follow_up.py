"""Closing the loop from the conversation page of a detractor follow-up."""

from __future__ import annotations

from typing import cast

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from accounts.models import User
from surveys.closed_loop import LoopError, do_close_loop
from surveys.invitation_models import FollowUp, FollowUpOutcome
from tickets.selectors_conversation import conversation_for

TEMPLATE = "tickets/conversation/_follow_up.html"


@requires(roles.WORK_INBOX)
@require_POST
def close_loop(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    follow_up = get_object_or_404(
        FollowUp.objects.select_related("response__survey", "response__channel"), pk=pk
    )
    if follow_up.conversation_id is None:
        raise Http404
    # Whoever cannot see the conversation gets the same 404 as for an id that does not exist.
    conversation = conversation_for(user, follow_up.conversation_id)
    outcome = request.POST.get("outcome", "")
    note = request.POST.get("note", "")
    error = ""
    try:
        do_close_loop(follow_up=follow_up, actor=user, outcome=outcome, note=note)
    except LoopError as exc:
        error = str(exc)
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            flash.error(request, error)
        return redirect("conversation_detail", pk=conversation.pk)
    context = {
        "follow_up": follow_up,
        "conversation": conversation,
        "loop_error": error,
        "loop_outcome": outcome,
        "loop_note": note if error else "",
    }
    follow_up.outcome_choices = FollowUpOutcome.choices  # type: ignore[attr-defined]
    # 200 even for an error: htmx swaps only successful responses, and the error is in the markup.
    return render(request, TEMPLATE, context)
