"""The conversation page: the whole thread, the customer beside it, and everything an agent does to it.

Every POST re-checks visibility (404 for a conversation the user may not see) and answers htmx with
the regions it changed; other regions come along as out-of-band swaps.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import roles
from accounts.decorators import requires
from accounts.models import User
from channels_app.rules import GSM7_BASIC, GSM7_EXTENSION, sms_segments
from core.csp import strict_policy
from tickets import conversation_services as services
from tickets import selectors_conversation as sel
from tickets.labels import LABEL_COLOR_CHOICES
from tickets.models import Conversation, ConversationStatus, Label, Message, Priority
from tickets.page_extensions import conversation_context
from tickets.replies import ReplyError, do_send_reply
from tickets.reply_delivery import delivery_failure
from tickets.reply_options import reply_options_context
from tickets.reply_templates import check_template_choice

REGION_TEMPLATES = {
    "thread": "tickets/conversation/_thread.html",
    "controls": "tickets/conversation/_controls.html",
    "reply": "tickets/conversation/_reply.html",
    "note": "tickets/conversation/_note_form.html",
}


def _user(request: HttpRequest) -> User:
    # @requires has let only signed-in users through.
    return cast(User, request.user)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _context(request: HttpRequest, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    # A live refresh keeps the earlier messages the agent already loaded (`since`).
    page = sel.thread(conversation, since_id=_int(request.GET.get("since")))
    messages = page.messages
    identities = sel.customer_identities(conversation)
    choices = sel.reply_channels(_user(request), conversation, identities)
    context: dict[str, Any] = {
        "conversation": conversation,
        "customer": conversation.customer,
        "items": page.items,
        "earlier_before": page.earlier_before,
        "last_message_id": messages[-1].pk if messages else "",
        "identities": identities,
        "reply_channels": choices,
        "selected_channel_id": sel.default_channel_id(conversation, messages, choices),
        "labels": sel.all_labels(),
        "label_colors": LABEL_COLOR_CHOICES,
        "conversation_labels": list(conversation.labels.all()),
        "teammates": sel.teammates(conversation),
        "statuses": [(value, label) for value, label in ConversationStatus.choices if value != "snoozed"],
        "priorities": Priority.choices,
        "sms_alphabet": {"basic": "".join(sorted(GSM7_BASIC)), "extension": "".join(sorted(GSM7_EXTENSION))},
        "reply_text": "",
    }
    context.update(extra)
    return context


def _page_context(request: HttpRequest, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    context = _context(request, conversation, **extra)
    context["panel"] = sel.side_panel(_user(request), conversation, context["identities"])
    context.update(conversation_context(conversation.pk))
    return context


def _regions(
    request: HttpRequest, conversation: Conversation, names: list[str], *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The first region answers the htmx target; the rest swap out of band. Without htmx: the page."""
    if not request.htmx:  # type: ignore[attr-defined]
        if status >= 400:
            context = _page_context(request, conversation, **extra)
            return render(request, "tickets/conversation/page.html", context, status=status)
        for text in extra.get("notices", []):
            flash.success(request, text)
        return redirect("conversation_detail", pk=conversation.pk)
    context = _context(request, conversation, **extra)
    parts = []
    for index, name in enumerate(names):
        parts.append(render_to_string(REGION_TEMPLATES[name], {**context, "oob": index > 0}, request=request))
    return HttpResponse("".join(parts))


@requires(roles.WORK_INBOX)
@require_GET
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    services.do_mark_read(conversation=conversation, user=_user(request))
    if request.htmx and request.GET.get("part") == "thread":  # type: ignore[attr-defined]
        context = _context(request, conversation)
        return render(request, REGION_TEMPLATES["thread"], context)
    if request.htmx and request.GET.get("part") == "earlier":  # type: ignore[attr-defined]
        before_id = _int(request.GET.get("before"))
        if before_id is None or not Message.objects.filter(conversation=conversation, pk=before_id).exists():
            raise Http404
        page = sel.thread(conversation, before_id=before_id)
        context = {"conversation": conversation, "customer": conversation.customer, "items": page.items,
                   "earlier_before": page.earlier_before}  # fmt: skip
        return render(request, "tickets/conversation/_thread_items.html", context)
    return render(request, "tickets/conversation/page.html", _page_context(request, conversation))


@requires(roles.WORK_INBOX)
@require_GET
@strict_policy
def mail_frame(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    """One mail's frame again, with remote images allowed for that frame only."""
    conversation = sel.conversation_for(_user(request), pk)
    message = get_object_or_404(
        Message.objects.filter(conversation=conversation).exclude(html="").prefetch_related("attachments"),
        pk=message_id,
    )
    images = request.GET.get("images") == "1"
    item = sel.ThreadItem(
        kind="message",
        at=message.created_at,
        message=message,
        html_frame=sel.mail_document(message, images=images),
        remote_images=True,
    )
    return render(request, "tickets/conversation/_mail_frame.html", {"item": item, "images": images})


@requires(roles.WORK_INBOX)
@require_POST
def sms_count(request: HttpRequest) -> HttpResponse:
    """The same count as the server applies on send, for clients that prefer asking to computing."""
    info = sms_segments(request.POST.get("text", ""))
    return HttpResponse(
        json.dumps({"encoding": info.encoding, "segments": info.segments, "chars": info.chars}),
        content_type="application/json",
    )


@requires(roles.WORK_INBOX)
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    text = request.POST.get("text", "")
    resolve = request.POST.get("resolve") == "1"
    # Only what the form offers this user: another team's channel id is refused like an unknown one.
    choices = {
        row.channel.pk: row.channel
        for row in sel.reply_channels(_user(request), conversation, sel.customer_identities(conversation))
    }
    channel = choices.get(_int(request.POST.get("channel")) or 0)
    files = request.FILES.getlist("attachments")
    template_id = _int(request.POST.get("template"))
    values = request.POST.getlist(f"template_var_{template_id}") if template_id else []
    keep = {
        "reply_text": text,
        "selected_channel_override": channel.pk if channel else None,
        # The picker is loaded separately; it gets back the agent's template choice through its URL.
        "reply_options_query": urlencode({"template": template_id or "", "value": values}, doseq=True),
        "reply_files_dropped": len(files),
    }
    if channel is None:
        return _regions(
            request, conversation, ["reply"], status=400,
            reply_error=_("Choose a channel that can reach this customer."), **keep,
        )  # fmt: skip
    if request.POST.get("force") != "1":
        last_seen = _int(request.POST.get("last_seen_message_id"))
        newer = sel.newer_agent_messages(conversation, last_seen)
        if newer:
            return _regions(
                request, conversation, ["reply", "thread"], status=409,
                collision=newer, collision_last_seen=last_seen or "", **keep,
            )  # fmt: skip
    try:
        template = None
        if template_id is not None:
            template = check_template_choice(channel=channel, template_id=template_id, values=values)
        message = do_send_reply(
            conversation=conversation,
            author=_user(request),
            channel=channel,
            text="" if template else text,
            template=template,
            attachments=files,
            resolve_on_sent=resolve,
        )
    except ReplyError as exc:
        return _regions(request, conversation, ["reply"], status=400, reply_error=str(exc), **keep)
    # Where sending runs in this process (embedded mode) it is decided by now: a failure is an error.
    failure = delivery_failure(Message.objects.select_related("channel", "delivery").get(pk=message.pk))
    if failure:
        error = _("The reply was not delivered: %(reason)s") % {"reason": failure}
        if resolve:
            error += " " + _("The conversation stays open.")
        # The reply is in the thread with its Retry button: the draft is not kept to be sent twice.
        return _regions(
            request, conversation, ["reply", "thread"], status=400,
            reply_error=error, selected_channel_override=channel.pk,
        )  # fmt: skip
    conversation.refresh_from_db(fields=["status", "resolved_at", "snoozed_until"])
    notice = _("Reply sent.")
    if resolve:
        # Resolved by the send itself; where the worker sends later, the agent learns it will be.
        notice = (
            _("Reply sent and conversation resolved.")
            if conversation.status == ConversationStatus.RESOLVED
            else _("Reply queued: the conversation is resolved as soon as it is sent.")
        )
    return _regions(
        request, conversation, ["reply", "thread", "controls"],
        notices=[notice], reply_sent=notice, selected_channel_override=channel.pk,
    )  # fmt: skip


@requires(roles.WORK_INBOX)
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    body = request.POST.get("body", "")
    try:
        services.do_add_internal_note(conversation=conversation, author=_user(request), body=body)
    except services.ConversationActionError as exc:
        return _regions(request, conversation, ["note"], status=400, note_error=str(exc), note_text=body)
    return _regions(request, conversation, ["note", "thread"], notices=[_("Note added.")])


def _controls_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    actor = _user(request)
    post = request.POST
    try:
        if action == "status":
            services.do_set_status(conversation=conversation, actor=actor, status=post.get("status", ""))
        elif action == "priority":
            services.do_set_priority(
                conversation=conversation, actor=actor, priority=post.get("priority", "")
            )
        elif action == "assign":
            target = post.get("assignee", "")
            if target == "me":
                assignee = actor
            elif target in ("", "none"):
                assignee = None
            else:
                assignee = sel.users_who_can_see(conversation).filter(pk=_int(target) or 0).first()
                if assignee is None:
                    raise services.ConversationActionError(_("That person cannot see this conversation."))
            services.do_assign(conversation=conversation, actor=actor, assignee=assignee)
        elif action in ("label_add", "label_remove"):
            label = Label.objects.filter(pk=_int(post.get("label")) or 0).first()
            if label is None:
                raise services.ConversationActionError(_("Choose a label."))
            service = services.do_add_label if action == "label_add" else services.do_remove_label
            service(conversation=conversation, actor=actor, label=label)
        elif action == "snooze":
            until = None
            if post.get("mode") != "reply":
                raw = parse_datetime(post.get("until", ""))
                if raw is None:
                    raise services.ConversationActionError(_("Pick a date and time to snooze until."))
                until = raw if timezone.is_aware(raw) else timezone.make_aware(raw)
            services.do_snooze(conversation=conversation, actor=actor, until=until)
        else:  # pragma: no cover - the URLconf only routes known actions
            raise Http404
    except services.ConversationActionError as exc:
        return _regions(request, conversation, ["controls"], status=400, controls_error=str(exc))
    return _regions(request, conversation, ["controls"], notices=[_("Conversation updated.")])


def _action_view(action: str):
    @requires(roles.WORK_INBOX)
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _controls_action(request, pk, action)

    view.__name__ = f"conversation_{action}"
    return view


set_status = _action_view("status")
set_priority = _action_view("priority")
assign = _action_view("assign")
add_label = _action_view("label_add")
remove_label = _action_view("label_remove")
snooze = _action_view("snooze")


@requires(roles.WORK_INBOX)
@require_GET
def reply_options(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the reply box that depends on the chosen channel: its file limits and, for WhatsApp
    outside the 24-hour window, the approved templates."""
    conversation = sel.conversation_for(_user(request), pk)
    identities = sel.customer_identities(conversation)
    rows = {row.channel.pk: row for row in sel.reply_channels(_user(request), conversation, identities)}
    row = rows.get(_int(request.GET.get("channel")) or 0)
    if row is None:
        return HttpResponse("")
    context = reply_options_context(
        row=row, template_id=_int(request.GET.get("template")), values=request.GET.getlist("value")
    )
    return render(request, "tickets/conversation/_reply_options.html", context)
