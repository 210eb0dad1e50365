"""Automatic assignment of new conversations to an available agent.

A conversation follows its channel's active rule, else the active rule of one of the channel's teams
(the lowest team id, so the choice is stable). The agents it may go to are the members of the rule's
team and of the channel's teams who are active, online and below their capacity of open conversations.

Everything is read for the whole run at once, so a batch of fifty conversations costs the same handful
of queries as one. The rule rows are locked (in id order, so two workers never deadlock) for the rest
of the transaction: two workers draining at once cannot hand out the same round-robin turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Team, User
from channels_app.models import Channel
from core import events as domain_events
from core import realtime
from tickets.models import AssignmentRule, Conversation, ConversationStatus

ONLINE = "online"
# What counts against an agent's capacity.
LOAD_STATUSES = (ConversationStatus.OPEN,)


@dataclass
class _Agent:
    user: User
    load: int

    @property
    def has_room(self) -> bool:
        return self.load < self.user.capacity


@transaction.atomic
def do_auto_assign(*, conversations: Sequence[Conversation]) -> list[Conversation]:
    """Assign each new open conversation without an assignee; returns those assigned.

    Conversations nobody is eligible for stay unassigned. The objects passed in get their assignee set.
    """
    wanted = {c.pk: c for c in conversations if c.pk is not None and c.assignee_id is None}
    if not wanted:
        return []
    # Lock the conversations too, and re-read who still needs an agent: another worker (or a person)
    # may have assigned some since they were loaded.
    still_free = set(
        Conversation.objects.select_for_update()
        .filter(pk__in=wanted, assignee__isnull=True, status=ConversationStatus.OPEN)
        .values_list("pk", flat=True)
    )
    pending = sorted((wanted[pk] for pk in still_free), key=lambda c: c.pk)
    if not pending:
        return []

    channel_ids = {c.channel_id for c in pending}
    channel_teams: dict[int, list[int]] = defaultdict(list)
    for channel_id, team_id in (
        Channel.teams.through.objects.filter(channel_id__in=channel_ids)
        .order_by("team_id")
        .values_list("channel_id", "team_id")
    ):
        channel_teams[channel_id].append(team_id)
    all_team_ids = {team_id for teams in channel_teams.values() for team_id in teams}

    rules = list(
        AssignmentRule.objects.select_for_update()
        .filter(Q(channel_id__in=channel_ids) | Q(team_id__in=all_team_ids), is_active=True)
        .order_by("pk")
    )
    by_channel = {rule.channel_id: rule for rule in rules if rule.channel_id is not None}
    by_team = {rule.team_id: rule for rule in rules if rule.team_id is not None}

    def rule_for(conversation: Conversation) -> AssignmentRule | None:
        rule = by_channel.get(conversation.channel_id)
        if rule is not None:
            return rule
        for team_id in channel_teams.get(conversation.channel_id, []):
            if team_id in by_team:
                return by_team[team_id]
        return None

    plan = [(c, rule) for c in pending if (rule := rule_for(c)) is not None]
    if not plan:
        return []

    pool_teams = set(all_team_ids) | {rule.team_id for _c, rule in plan if rule.team_id is not None}
    members: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in Team.members.through.objects.filter(team_id__in=pool_teams).values_list(
        "team_id", "user_id"
    ):
        members[team_id].add(user_id)
    member_ids = {user_id for ids in members.values() for user_id in ids}
    agents = {
        user.pk: _Agent(user, user.load)
        for user in User.objects.filter(pk__in=member_ids, is_active=True, availability=ONLINE)
        .annotate(
            load=Count("assigned_conversations", filter=Q(assigned_conversations__status__in=LOAD_STATUSES))
        )
        .order_by("pk")
    }

    assigned: list[Conversation] = []
    changed_rules: dict[int, AssignmentRule] = {}
    for conversation, rule in plan:
        pool_ids = set().union(*(members[t] for t in channel_teams.get(conversation.channel_id, [])))
        if rule.team_id is not None:
            pool_ids |= members[rule.team_id]
        eligible = [agents[pk] for pk in sorted(pool_ids) if pk in agents and agents[pk].has_room]
        if not eligible:
            continue
        if rule.strategy == AssignmentRule.LEAST_LOADED:
            chosen = min(eligible, key=lambda agent: (agent.load, agent.user.pk))
        else:
            last = rule.last_assignee_id or 0
            chosen = next((agent for agent in eligible if agent.user.pk > last), eligible[0])
            rule.last_assignee_id = chosen.user.pk
            changed_rules[rule.pk] = rule
        chosen.load += 1
        conversation.assignee = chosen.user
        assigned.append(conversation)

    if not assigned:
        return []
    Conversation.objects.bulk_update(assigned, ["assignee"])
    if changed_rules:
        AssignmentRule.objects.bulk_update(list(changed_rules.values()), ["last_assignee"])
    for conversation in assigned:
        _notify(conversation)
    domain_events.publish_many(
        domain_events.ConversationAssigned(
            conversation_id=c.pk, assignee_id=c.assignee_id, previous_assignee_id=None, actor_id=None
        )
        for c in assigned
    )
    return assigned


def _notify(conversation: Conversation) -> None:
    user = conversation.assignee
    assert user is not None
    with translation.override(user.language or settings.LANGUAGE_CODE):
        notice: realtime.SystemNotice = {
            "level": "info",
            "text": _("New conversation assigned to you"),
            "url": f"/inbox/{conversation.pk}/",
        }
    # realtime.publish sends after the transaction commits.
    realtime.publish([realtime.user_group(user.pk)], realtime.SYSTEM_NOTICE, dict(notice))
