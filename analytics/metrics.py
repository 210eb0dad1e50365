"""The old dashboard's score cards, computed by core.stats (the definitions live in core/stats.py and
surveys/scoring.py; docs/metrics.md)."""

from __future__ import annotations

from dataclasses import dataclass

from core import stats


@dataclass(frozen=True)
class ScoreSummary:
    responses: int
    value: float | None  # NPS in -100..100, CSAT in percent satisfied, CES as the mean score


def _summary(estimate: stats.Estimate, digits: int) -> ScoreSummary:
    return ScoreSummary(estimate.n, None if estimate.value is None else round(estimate.value, digits))


def nps(*, promoters: int, passives: int, detractors: int) -> ScoreSummary:
    return _summary(stats.nps_interval(promoters, passives, detractors), 1)


def csat(*, satisfied: int, total: int) -> ScoreSummary:
    """Share of satisfied answers, each counted on its own survey's scale (surveys.scoring)."""
    return _summary(stats.wilson(satisfied, total).scaled(100), 1)


def ces(*, score_sum: int, total: int) -> ScoreSummary:
    return _summary(stats.mean_interval(total, score_sum, 0), 2)
