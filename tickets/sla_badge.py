"""The SLA badge of a conversation in a list or page: its nearest deadline and whether it is on track.

Read from the conversation's own fields only (no policy, business-hours or holiday lookups), so a list
of rows runs no extra queries; the same choice as tickets.sla.sla_state. "At risk" is the wall-clock
form of sla.AT_RISK_SHARE: less than a fifth of the time from the start of the wait (for resolution:
the conversation's creation) to the deadline is left. Whole seconds, as the inbox's SLA filter
(selectors_inbox) compares them, so a badge and the filter never disagree about a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class SlaBadge:
    kind: str  # first_response, next_response or resolution
    state: str  # on_track, at_risk or breached
    due: datetime


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def sla_badge(conversation: Any, now: datetime | None = None) -> SlaBadge | None:
    if conversation.status == "resolved":
        return None
    now_s = _seconds(now or timezone.now())
    response: tuple[str, datetime, datetime] | None = None
    if conversation.first_response_at is None and conversation.first_response_due_at:
        start = conversation.waiting_since or conversation.created_at
        response = ("first_response", conversation.first_response_due_at, start)
    elif conversation.waiting_since and conversation.next_response_due_at:
        response = ("next_response", conversation.next_response_due_at, conversation.waiting_since)
    resolution_due = conversation.resolution_due_at
    chosen = response
    if resolution_due and (response is None or _seconds(resolution_due) < _seconds(response[1])):
        chosen = ("resolution", resolution_due, conversation.created_at)
    if chosen is None:
        return None
    kind, due, start = chosen
    due_s, start_s = _seconds(due), _seconds(start)
    if now_s >= due_s:
        state = "breached"
    elif 5 * (due_s - now_s) < due_s - start_s:
        state = "at_risk"
    else:
        state = "on_track"
    return SlaBadge(kind=kind, state=state, due=due)
