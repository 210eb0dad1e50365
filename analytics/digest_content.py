"""What a weekly digest says: the overview's headline numbers for last week against the week before,
which changes are significant, the weakest touchpoint, and the detractors still waiting for a call.

Nothing here computes a metric: the headlines are the overview's own (analytics.views /
views_answers, built on the reading API), so the email and the dashboard agree to the digit; the
weakest touchpoint is read from the answer side's breakdown by channel. Links are absolute (a mail
client has no page to be relative to) and carry the week as filters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.urls import reverse

from accounts.models import User
from analytics import answer_loop, answer_reporting, reporting
from analytics import views_headlines as hl
from analytics.filters import DashboardFilters
from analytics.views import conversation_headlines
from analytics.views_answers import score_headlines
from analytics.views_common import Page, number, share
from core import stats
from tickets.visibility import visibility_for

OPEN_LOOPS_SINCE_DAYS = 365  # older open follow-ups are not "waiting for a call" any more


@dataclass(frozen=True)
class Touchpoint:
    label: str
    good_share: str  # share of good answers (promoters, satisfied, low effort), with its interval
    answers: int
    href: str


@dataclass(frozen=True)
class Digest:
    start: datetime  # the reported week, local
    end: datetime
    headlines: list[hl.Headline]
    worst: Touchpoint | None
    open_loops: int
    oldest_open_days: int | None
    closed_this_week: int
    opened_this_week: int
    links: dict[str, str]

    @property
    def significant(self) -> list[hl.Headline]:
        return [h for h in self.headlines if h.significant and not h.small]


def build_digest(user: User, *, start: datetime, end: datetime, time_zone: str, base_url: str) -> Digest:
    filters = DashboardFilters(start=start, end=end, tz=time_zone)
    visibility = visibility_for(user)
    page = Page(filters, visibility, filters.to_query())
    now = reporting.summary(filters, visibility)
    before = reporting.summary(filters.previous(), visibility)
    scores, _values = score_headlines(page)
    headlines = [
        replace(h, href=base_url + h.href if h.href else "")
        for h in conversation_headlines(page, now, before) + scores
    ]
    loop = answer_loop.closed_loop(filters, visibility)
    since = DashboardFilters(start=end - timedelta(days=OPEN_LOOPS_SINCE_DAYS), end=end, tz=time_zone)
    still_open = answer_loop.drill_follow_ups(since, visibility, "open")
    oldest = still_open.order_by("opened_at").values_list("opened_at", flat=True).first()

    def link(name: str) -> str:
        return f"{base_url}{reverse(name)}?{page.query}"

    return Digest(
        start=start,
        end=end,
        headlines=headlines,
        worst=_worst_touchpoint(filters, visibility, base_url, page.query),
        open_loops=still_open.count(),
        oldest_open_days=None if oldest is None else max(0, (end - oldest).days),
        closed_this_week=loop.total.closed,
        opened_this_week=loop.total.opened,
        links={
            "overview": link("dashboards"),
            "surveys": link("dashboards_surveys"),
            "operations": link("dashboards_operations"),
            "loop": link("dashboards_loop"),
            "people": link("dashboards_people"),
        },
    )


def _worst_touchpoint(filters: DashboardFilters, visibility, base_url: str, query: str) -> Touchpoint | None:
    """The channel whose answers are least often good, among channels with enough answers to say so
    (the small-sample rule of core.stats on the Wilson interval of that share)."""
    candidates = []
    for row in answer_reporting.answer_breakdown(filters, visibility, by="channel"):
        n, good = row.scores.responses, row.scores.totals.good
        estimate = stats.wilson(good, n)
        if row.key is None or estimate.value is None or estimate.small:
            continue
        candidates.append((estimate.value, row.label, estimate, n, row.key))
    if not candidates:
        return None
    _value, label, estimate, n, key = min(candidates, key=lambda c: (c[0], str(c[1])))
    interval = ""
    if estimate.low is not None and estimate.high is not None:
        interval = f" ({number(estimate.low * 100)}\u2013{number(estimate.high * 100)} %)"
    href = f"{base_url}{reverse('dashboards_surveys')}?{query}&channel={key}"
    return Touchpoint(str(label), share(estimate.value) + interval, n, href)
