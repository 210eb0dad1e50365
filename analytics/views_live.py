"""The dashboards' live trigger for survey answers.

Conversation and message events already reach every browser allowed to see them (tickets/events.py);
answers had no browser event. After each commit that stored answers, this sends one `dashboards.changed`
event, without numbers, to the audience of each answered conversation (and to managers and admins for
answers tied to none). An open dashboard then asks the server for its numbers again
(static/js/dashboards.js): no number ever travels through the socket, so no permission is needed beyond
knowing that something changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from accounts.roles import Role
from core import events, realtime
from tickets.events import audience
from tickets.models import Conversation

DASHBOARDS_CHANGED = "dashboards.changed"


def announce_answers(answered: Sequence[events.SurveyAnswered]) -> None:
    groups = {realtime.role_group(Role.MANAGER), realtime.role_group(Role.ADMIN)}
    ids = {event.conversation_id for event in answered if event.conversation_id}
    channel_teams: dict[int, list[int]] = {}
    for conversation in Conversation.objects.filter(pk__in=ids).select_related("channel"):
        groups.update(audience(conversation, channel_teams=channel_teams))
    realtime.publish_now(sorted(groups), DASHBOARDS_CHANGED, {"kind": "answers", "count": len(answered)})


def register() -> None:
    events.subscribe_batch(events.SurveyAnswered, announce_answers)
