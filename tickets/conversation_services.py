"""What agents do to one conversation: status, snooze, assignment, priority, labels, internal notes.

Each service is one transaction; the realtime events go out after it commits, to everyone allowed to
see the conversation (and, when the assignee changes, to the one who just lost it too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import events as domain_events
from core import realtime
from profiles.timeline import record_conversation_resolved
from tickets import events
from tickets.models import Conversation, ConversationRead, ConversationStatus, InternalNote, Label, Priority
from tickets.selectors_conversation import mentioned_users, users_who_can_see
from tickets.sla import do_apply_sla

CONVERSATION_UPDATED = "conversation.updated"
NOTE_CREATED = "note.created"
SETTABLE_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.RESOLVED)


class ConversationActionError(ValueError):
    pass


def _announce(conversation: Conversation, *, actor: User, extra_groups: list[str] | None = None) -> None:
    payload: dict[str, Any] = {
        "conversation_id": conversation.pk,
        "status": conversation.status,
        "priority": conversation.priority,
        "assignee_id": conversation.assignee_id,
        "snoozed_until": conversation.snoozed_until.isoformat() if conversation.snoozed_until else None,
        "actor_id": actor.pk,
    }
    groups = events.audience(conversation) + (extra_groups or [])
    realtime.publish(sorted(set(groups)), CONVERSATION_UPDATED, payload)


@transaction.atomic
def do_set_status(*, conversation: Conversation, actor: User, status: str) -> Conversation:
    if status not in SETTABLE_STATUSES:
        raise ConversationActionError(_("Choose open, pending or resolved."))
    now = timezone.now()
    was_resolved = conversation.status == ConversationStatus.RESOLVED
    conversation.status = status
    conversation.snoozed_until = None
    conversation.resolved_at = now if status == ConversationStatus.RESOLVED else None
    if status == ConversationStatus.RESOLVED and not was_resolved:
        record_conversation_resolved(conversation, at=now)
    conversation.save(update_fields=["status", "snoozed_until", "resolved_at"])
    if status == ConversationStatus.RESOLVED and not was_resolved:
        do_apply_sla(conversations=[conversation], event="resolved", at=now)
        domain_events.publish(
            domain_events.ConversationResolved(
                conversation_id=conversation.pk, customer_id=conversation.customer_id, actor_id=actor.pk
            )
        )
    elif was_resolved and status != ConversationStatus.RESOLVED:
        do_apply_sla(conversations=[conversation], event="reopened", at=now)
        domain_events.publish(
            domain_events.ConversationReopened(
                conversation_id=conversation.pk, customer_id=conversation.customer_id, actor_id=actor.pk
            )
        )
    _announce(conversation, actor=actor)
    return conversation


@transaction.atomic
def do_snooze(*, conversation: Conversation, actor: User, until: datetime | None) -> Conversation:
    """Snooze until a time, or (until=None) until the customer writes again."""
    if until is not None and until <= timezone.now():
        raise ConversationActionError(_("Pick a time in the future."))
    conversation.status = ConversationStatus.SNOOZED
    conversation.snoozed_until = until
    conversation.save(update_fields=["status", "snoozed_until"])
    _announce(conversation, actor=actor)
    return conversation


@transaction.atomic
def do_assign(*, conversation: Conversation, actor: User, assignee: User | None) -> Conversation:
    if assignee is not None and not users_who_can_see(conversation).filter(pk=assignee.pk).exists():
        raise ConversationActionError(_("%(name)s cannot see this conversation.") % {"name": assignee})
    previous = conversation.assignee_id
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    extra = [realtime.user_group(previous)] if previous and previous != conversation.assignee_id else []
    _announce(conversation, actor=actor, extra_groups=extra)
    if previous != conversation.assignee_id:
        domain_events.publish(
            domain_events.ConversationAssigned(
                conversation_id=conversation.pk,
                assignee_id=conversation.assignee_id,
                previous_assignee_id=previous,
                actor_id=actor.pk,
            )
        )
    return conversation


@transaction.atomic
def do_set_priority(*, conversation: Conversation, actor: User, priority: str) -> Conversation:
    if priority not in Priority.values:
        raise ConversationActionError(_("Unknown priority."))
    conversation.priority = priority
    conversation.save(update_fields=["priority"])
    do_apply_sla(conversations=[conversation], event="priority_changed", at=timezone.now())
    _announce(conversation, actor=actor)
    return conversation


@transaction.atomic
def do_add_label(*, conversation: Conversation, actor: User, label: Label) -> Conversation:
    conversation.labels.add(label)
    _announce(conversation, actor=actor)
    return conversation


@transaction.atomic
def do_remove_label(*, conversation: Conversation, actor: User, label: Label) -> Conversation:
    conversation.labels.remove(label)
    _announce(conversation, actor=actor)
    return conversation


@transaction.atomic
def do_add_internal_note(*, conversation: Conversation, author: User, body: str) -> InternalNote:
    """A note for colleagues; each @username who can see the conversation is told in real time."""
    body = body.strip()
    if not body:
        raise ConversationActionError(_("A note needs some text."))
    note = InternalNote.objects.create(conversation=conversation, author=author, body=body)
    mentioned = [user for user in mentioned_users(conversation, body) if user.pk != author.pk]
    note.mentions.set(mentioned)
    realtime.publish(
        events.audience(conversation),
        NOTE_CREATED,
        {"conversation_id": conversation.pk, "note_id": note.pk, "author_id": author.pk},
    )
    for user in mentioned:
        notice: realtime.SystemNotice = {
            "level": "info",
            "text": _("%(author)s mentioned you in “%(conversation)s”.")
            % {"author": author.display_name, "conversation": conversation},
        }
        realtime.publish([realtime.user_group(user.pk)], realtime.SYSTEM_NOTICE, dict(notice))
    return note


def do_mark_read(*, conversation: Conversation, user: User) -> None:
    """Every opening of a conversation writes this, so it is one upsert whose commit does not wait.

    A read marker lost in a crash only shows a conversation as unread again; waiting for the WAL flush
    on every page view cost more than the rest of the page's queries together.
    """
    now = timezone.now()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # One statement in its own transaction: the setting is local to it, so it covers this commit
        # and nothing else, with no BEGIN and COMMIT round trips around it.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ConversationRead._meta.db_table} (user_id, conversation_id, read_at)"  # noqa: S608
                " SELECT %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) AS setting"
                " ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = EXCLUDED.read_at",
                [user.pk, conversation.pk, now],
            )
        return
    ConversationRead.objects.bulk_create(
        [ConversationRead(user=user, conversation=conversation, read_at=now)],
        update_conflicts=True,
        unique_fields=["user", "conversation"],
        update_fields=["read_at"],
    )
