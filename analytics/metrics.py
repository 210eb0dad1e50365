"""Metric definitions: one place that says what NPS, CSAT and CES mean here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreSummary:
    responses: int
    value: float | None  # NPS in -100..100, CSAT in percent satisfied, CES as the mean score


def nps(*, promoters: int, passives: int, detractors: int) -> ScoreSummary:
    total = promoters + passives + detractors
    if not total:
        return ScoreSummary(0, None)
    return ScoreSummary(total, round(100 * (promoters - detractors) / total, 1))


def csat(*, satisfied: int, total: int) -> ScoreSummary:
    """Share of answers in the top two points of a 1-5 scale."""
    if not total:
        return ScoreSummary(0, None)
    return ScoreSummary(total, round(100 * satisfied / total, 1))


def ces(*, score_sum: int, total: int) -> ScoreSummary:
    if not total:
        return ScoreSummary(0, None)
    return ScoreSummary(total, round(score_sum / total, 2))
