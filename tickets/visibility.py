"""Who may see what: the one place that scopes reads of conversations and of everything derived from them.

Every read of conversations, messages, internal notes, survey answers, invitations, timeline entries,
counts and previews starts from `visibility_for(user)`. Views and selectors never filter by team
themselves: a new page that reads through this module gets the rule for free, and a change of the rule
reaches every page at once.

The rule: users with the all-conversations permission (managers, admins, and agents granted all-access)
see everything; anyone else sees the conversations of their teams' channels, those routed to one of
their teams, and those assigned to them. A row tied to a conversation is visible with it; a row tied to
none (a purchase event, a survey answered through the website widget) is visible to anyone who may open
the page it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from accounts import roles
from accounts.models import Team, User
from channels_app.models import Channel
from profiles.models import TimelineEntry
from tickets.models import Conversation, InternalNote, Message

RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True, eq=False)
class Visibility:
    user: User

    @cached_property
    def sees_all(self) -> bool:
        return bool(self.user.is_active and self.user.has_perm(roles.VIEW_ALL_CONVERSATIONS))

    def _team_ids(self) -> QuerySet[Team, Any]:
        # Subqueries rather than joins or id lists: no repeated rows (so no DISTINCT in the way of
        # ordering and keyset pages) and no extra query before the one that reads.
        return Team.objects.filter(members=self.user).values("id")

    def conversations(self) -> QuerySet[Conversation]:
        qs = Conversation.objects.all()
        if self.sees_all:
            return qs
        if not self.user.is_active:
            return qs.none()
        team_ids = self._team_ids()
        channel_ids = Channel.objects.filter(teams__in=team_ids).values("id")
        return qs.filter(Q(channel__in=channel_ids) | Q(team__in=team_ids) | Q(assignee=self.user))

    def conversation_ids(self) -> QuerySet[Conversation, Any]:
        return self.conversations().order_by().values("id")

    def may_see(self, conversation_id: int | None) -> bool:
        if conversation_id is None:
            return False
        return self.sees_all or self.conversations().filter(pk=conversation_id).exists()

    def linked(self, qs: QuerySet[RowT], field: str = "conversation") -> QuerySet[RowT]:
        """`qs` without the rows tied (through `field`) to a conversation the user may not see.

        Rows tied to no conversation stay: they are visible to whoever may open the page listing them.
        For models above this app (survey answers, invitations, follow-ups), which this module does not
        import.
        """
        if self.sees_all:
            return qs
        return qs.filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__in": self.conversation_ids()}))

    def only_linked(self, qs: QuerySet[RowT], field: str = "conversation") -> QuerySet[RowT]:
        """Like `linked`, but rows tied to no conversation are dropped too."""
        if self.sees_all:
            return qs
        return qs.filter(**{f"{field}__in": self.conversation_ids()})

    def linked_q(self, field: str = "conversation") -> Q:
        """The same rule as a condition, for counts and annotations over a relation (`responses__...`)."""
        if self.sees_all:
            return Q()
        return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__in": self.conversation_ids()})

    def only_linked_q(self, field: str = "conversation") -> Q:
        if self.sees_all:
            return Q()
        return Q(**{f"{field}__in": self.conversation_ids()})

    def messages(self) -> QuerySet[Message]:
        return self.only_linked(Message.objects.all())

    def notes(self) -> QuerySet[InternalNote]:
        return self.only_linked(InternalNote.objects.all())

    def timeline(self) -> QuerySet[TimelineEntry]:
        """Journey entries: those of hidden conversations (their messages, openings, resolutions and the
        survey answers given in them) go; purchases, events and merges stay."""
        return self.linked(TimelineEntry.objects.all())

    def reply_channels(self, conversation: Conversation) -> QuerySet[Channel]:
        """Channels the user may send a reply of this conversation through: the conversation's own, and
        for everyone without all-access only those of their teams besides."""
        qs = Channel.objects.all()
        if self.sees_all:
            return qs
        owned = Channel.objects.filter(teams__in=self._team_ids()).values("id")
        return qs.filter(Q(pk=conversation.channel_id) | Q(pk__in=owned))


def visibility_for(user: User) -> Visibility:
    return Visibility(user)
