"""Reads for the conversation page: a fixed number of queries however long the thread is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import VIEW_ALL_CONVERSATIONS, Role
from channels_app.email.html import sanitize_html
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from channels_app.rules import WindowState
from profiles.models import Identity
from profiles.selectors_profile import AttributeRow, attribute_rows, latest_scores
from tickets.models import Attachment, Conversation, Direction, InternalNote, Label, Message
from tickets.replies import IDENTITY_FOR_CHANNEL
from tickets.reply_delivery import delivery_failure
from tickets.selectors import customer_whatsapp_window
from tickets.visibility import visibility_for

OTHER_CONVERSATIONS = 8
THREAD_PAGE = 30
MENTION = re.compile(r"(?<![\w@])@([\w.+-]*\w)")
# Remote images only load once the agent asks: a tracking pixel would tell the sender the mail was read.
_REMOTE_IMG = re.compile(r"<img\b[^>]*\bsrc=\"https?:", re.IGNORECASE)
CSP_BLOCKED = "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:"
CSP_IMAGES = "default-src 'none'; style-src 'unsafe-inline'; img-src https:"


def conversation_for(user: User, pk: int) -> Conversation:
    """The conversation if the user may see it; 404 otherwise, so ids of others' work don't leak."""
    qs = visibility_for(user).conversations().select_related("customer", "channel", "assignee", "team")
    return get_object_or_404(qs, pk=pk)


@dataclass
class ThreadItem:
    kind: str  # "message" or "note"
    at: datetime
    message: Message | None = None
    note: InternalNote | None = None
    html_frame: str = ""
    remote_images: bool = False
    failure: str = ""  # why a reply was not delivered, in the agent's language


def mail_document(message: Message, *, images: bool = False) -> str:
    """The srcdoc of a mail's frame: sanitized again here, whatever the stored HTML claims to be."""
    inline_ids = {a.content_id.strip("<>") for a in message.attachments.all() if a.content_id}
    body = sanitize_html(message.html, inline_ids=inline_ids)
    csp = CSP_IMAGES if images else CSP_BLOCKED
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<base target="_blank">'
        "<style>body{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#1f2937;word-wrap:break-word}"
        "img{max-width:100%;height:auto}</style>"
        f"</head><body>{body}</body></html>"
    )


def _before(message: Message) -> Q:
    return Q(created_at__lt=message.created_at) | Q(created_at=message.created_at, id__lt=message.pk)


def _thread_message(conversation: Conversation, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    return Message.objects.filter(conversation=conversation, pk=message_id).only("id", "created_at").first()


@dataclass
class ThreadPage:
    items: list[ThreadItem]
    earlier_before: int | None  # the oldest message shown, when older ones exist; None at the start

    @property
    def messages(self) -> list[Message]:
        return [item.message for item in self.items if item.message is not None]


def thread(
    conversation: Conversation, *, before_id: int | None = None, since_id: int | None = None
) -> ThreadPage:
    """The newest THREAD_PAGE messages (or those older than `before_id`, or all from `since_id` on).

    A long conversation would otherwise render hundreds of messages, mail frames included, on every
    visit and on every live refresh; the agent answers the newest and loads older ones on demand.
    """
    messages = Message.objects.filter(conversation=conversation)
    before = _thread_message(conversation, before_id)
    since = None if before else _thread_message(conversation, since_id)
    if before is not None:
        messages = messages.filter(_before(before))
    if since is not None:
        rows = list(_with_relations(messages.exclude(_before(since))).order_by("-created_at", "-id"))
        more = messages.filter(_before(since)).exists()
    else:
        rows = list(_with_relations(messages).order_by("-created_at", "-id")[: THREAD_PAGE + 1])
        more = len(rows) > THREAD_PAGE
        rows = rows[:THREAD_PAGE]
    rows.reverse()
    notes = InternalNote.objects.filter(conversation=conversation)
    if more and rows:
        notes = notes.filter(created_at__gte=rows[0].created_at)
    if before is not None:
        notes = notes.filter(created_at__lt=before.created_at)
    items = [
        ThreadItem(
            kind="message",
            at=m.created_at,
            message=m,
            html_frame=mail_document(m) if m.html else "",
            remote_images=bool(m.html and _REMOTE_IMG.search(m.html)),
            failure=delivery_failure(m) if m.direction == Direction.OUTBOUND else "",
        )
        for m in rows
    ]
    items += [
        ThreadItem(kind="note", at=n.created_at, note=n)
        for n in notes.select_related("author").order_by("created_at")
    ]
    # Stable sort: a note and a message at the same instant keep messages first.
    items.sort(key=lambda item: item.at)
    return ThreadPage(items=items, earlier_before=rows[0].pk if more and rows else None)


def _with_relations(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.select_related("channel", "author", "delivery").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )


@dataclass
class ReplyChannel:
    channel: Channel
    recipient: str
    window: WindowState | None  # WhatsApp only


def reply_channels(user: User, conversation: Conversation, identities: list[Identity]) -> list[ReplyChannel]:
    """Active channels this user may send through that can reach one of the customer's identities, the
    conversation's own first. The reply form offers these and the reply POST accepts only these."""
    by_kind: dict[str, Identity] = {}
    for identity in sorted(identities, key=lambda i: i.created_at):
        by_kind[identity.kind] = identity  # newest wins, as in replies.recipient_for
    kinds = [kind for kind, identity_kind in IDENTITY_FOR_CHANNEL.items() if identity_kind in by_kind]
    usable = visibility_for(user).reply_channels(conversation)
    channels = usable.filter(is_active=True, kind__in=kinds).order_by("kind", "name")
    rows = []
    for channel in channels:
        window = None
        if channel.kind == ChannelKind.WHATSAPP:
            window = customer_whatsapp_window(channel=channel, conversation=conversation)
        rows.append(ReplyChannel(channel, by_kind[IDENTITY_FOR_CHANNEL[channel.kind]].value, window))
    rows.sort(key=lambda row: row.channel.pk != conversation.channel_id)
    return rows


def default_channel_id(
    conversation: Conversation, messages: list[Message], choices: list[ReplyChannel]
) -> int:
    allowed = {row.channel.pk for row in choices}
    for message in reversed(messages):
        if message.direction == Direction.INBOUND and message.channel_id in allowed:
            return message.channel_id
    if conversation.channel_id in allowed or not choices:
        return conversation.channel_id
    return choices[0].channel.pk


def can_see_filter(conversation: Conversation) -> Q:
    """Users who may see this conversation, mirroring tickets.visibility and events.audience."""
    team_ids = list(conversation.channel.teams.values_list("id", flat=True))
    if conversation.team_id:
        team_ids.append(conversation.team_id)
    app_label, codename = VIEW_ALL_CONVERSATIONS.split(".")
    # Agents granted all-access (directly or through a group) see it too, as in tickets.visibility.
    all_access = Q(
        user_permissions__codename=codename, user_permissions__content_type__app_label=app_label
    ) | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    allowed = (
        Q(role__in=[Role.MANAGER, Role.ADMIN]) | Q(is_superuser=True) | all_access | Q(teams__in=team_ids)
    )
    if conversation.assignee_id:
        allowed |= Q(pk=conversation.assignee_id)
    return allowed


def users_who_can_see(conversation: Conversation) -> QuerySet[User]:
    return User.objects.filter(is_active=True).filter(can_see_filter(conversation)).distinct()


def teammates(conversation: Conversation) -> list[User]:
    return list(users_who_can_see(conversation).order_by("first_name", "username")[:200])


def mentioned_users(conversation: Conversation, body: str) -> list[User]:
    names = {name for name in MENTION.findall(body)}
    if not names:
        return []
    return list(users_who_can_see(conversation).filter(username__in=names))


@dataclass
class SidePanel:
    identities: list[Identity]
    attributes: list[AttributeRow]
    others: list[Conversation]
    scores: list[Any]


def side_panel(user: User, conversation: Conversation, identities: list[Identity]) -> SidePanel:
    customer = conversation.customer
    viewer = visibility_for(user)
    others = list(
        viewer.conversations()
        .filter(customer_id=customer.pk)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_activity_at", "-id")[:OTHER_CONVERSATIONS]
    )
    return SidePanel(
        identities=identities,
        attributes=attribute_rows(customer),
        others=others,
        scores=latest_scores(customer.pk, viewer=viewer),
    )


def customer_identities(conversation: Conversation) -> list[Identity]:
    return list(Identity.objects.filter(customer_id=conversation.customer_id).order_by("kind", "created_at"))


def all_labels() -> list[Label]:
    return list(Label.objects.all())


def newer_agent_messages(conversation: Conversation, last_seen_id: int | None) -> list[Message]:
    """Agent replies added after the message the agent last saw: someone else may have answered."""
    qs = Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND)
    if last_seen_id is not None:
        qs = qs.filter(pk__gt=last_seen_id)
    return list(qs.select_related("author", "channel").order_by("created_at", "id"))
