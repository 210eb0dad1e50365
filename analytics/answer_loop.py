"""The closed loop: detractors, their follow-ups open and closed, the share closed and the median time
to close, overall and by owner and team.

Which answers: those of the range under the dashboard filters (the answer facts, so the same answers
the scores count). Detractors are answers at or below their survey's follow-up threshold
(`scoring.is_detractor`). A follow-up's owner is its conversation's assignee and its team the
conversation's team; the viewer sees a follow-up when they may see its conversation (one whose
conversation is gone stays visible, as any row tied to no conversation). Time to close is
`closed_at - opened_at`, the median over the closed ones (PostgreSQL's `percentile_cont(0.5)`).
Follow-ups are few (one per detractor with a known customer), so they are read live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet

from analytics.answer_reporting import drill_facts, facts
from core import stats
from surveys.invitation_models import FollowUp
from tickets.visibility import Visibility


class _Seconds(Func):
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()


class _Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


_CLOSED = Q(closed_at__isnull=False)


@dataclass(frozen=True)
class Loop:
    key: int | None  # owner (user) or team id; None = nobody / no team, or the total
    label: str
    opened: int
    closed: int
    median_seconds_to_close: float | None

    @property
    def open(self) -> int:
        return self.opened - self.closed

    @property
    def share_closed(self) -> stats.Estimate:
        """Closed of opened (0..100) with its Wilson interval."""
        return stats.wilson(self.closed, self.opened).scaled(100)


@dataclass(frozen=True)
class ClosedLoop:
    detractors: int  # answers at or below their survey's threshold, in the range
    total: Loop
    by_owner: list[Loop]
    by_team: list[Loop]


def follow_ups(filters: Any, visibility: Visibility) -> QuerySet[FollowUp]:
    behind = facts(filters, visibility).values("pk")
    return visibility.linked(FollowUp.objects.filter(response_id__in=behind), "conversation")


_LOOP = {
    "opened": Count("pk"),
    "closed": Count("pk", filter=_CLOSED),
    "median": _Median(_Seconds(F("closed_at") - F("opened_at")), filter=_CLOSED),
}


def _loops(qs: QuerySet[FollowUp], field: str) -> list[dict[str, Any]]:
    return list(qs.values(field).annotate(**_LOOP).order_by())


def closed_loop(filters: Any, visibility: Visibility) -> ClosedLoop:
    """Four grouped queries (detractors, total, by owner, by team) plus two for the labels."""
    from accounts.models import Team, User

    detractors = drill_facts(filters, visibility, "detractors").count()
    qs = follow_ups(filters, visibility)
    total = qs.aggregate(**_LOOP)
    owners = _loops(qs, "conversation__assignee_id")
    teams = _loops(qs, "conversation__team_id")
    owner_ids = [r["conversation__assignee_id"] for r in owners if r["conversation__assignee_id"]]
    team_ids = [r["conversation__team_id"] for r in teams if r["conversation__team_id"]]
    users = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=owner_ids)}
    team_names = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name"))

    def rows(found: list[dict[str, Any]], field: str, names: dict[int, str]) -> list[Loop]:
        out = [
            Loop(r[field], names.get(r[field], "") if r[field] else "", r["opened"], r["closed"], r["median"])
            for r in found
        ]
        return sorted(out, key=lambda loop: (-loop.opened, loop.label))

    return ClosedLoop(
        detractors=detractors,
        total=Loop(None, "", total["opened"], total["closed"], total["median"]),
        by_owner=rows(owners, "conversation__assignee_id", users),
        by_team=rows(teams, "conversation__team_id", team_names),
    )


def drill_follow_ups(
    filters: Any,
    visibility: Visibility,
    measure: Literal["opened", "open", "closed"],
    *,
    owner_id: int | None = None,
    team_id: int | None = None,
) -> QuerySet[FollowUp]:
    """The follow-ups behind a closed-loop number (0 = no owner / no team); its count equals it. The
    detractors number drills through `answer_reporting.drill_answers(..., "detractors")`."""
    qs = follow_ups(filters, visibility)
    for field, value in (("conversation__assignee_id", owner_id), ("conversation__team_id", team_id)):
        if value is not None:
            qs = qs.filter(**({f"{field}__isnull": True} if value == 0 else {field: value}))
    if measure == "closed":
        qs = qs.filter(_CLOSED)
    elif measure == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif measure != "opened":
        raise ValueError(f"unknown closed-loop measure {measure!r}")
    return qs.select_related("response", "conversation").order_by("-opened_at", "-pk")
