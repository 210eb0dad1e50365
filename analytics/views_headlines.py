"""Headline numbers as the overview shows them: the value, the change against the previous period,
whether a test says the change is real, and a flag instead of a number presented as fact when the sample
is small. The statistics come from core/stats.py; nothing here computes a metric."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from analytics.views_common import duration, number, share
from core import stats


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: str
    href: str = ""
    previous: str = ""
    change: str = ""
    trend: str = ""  # "up", "down" or "" (no change or nothing to compare)
    good: bool | None = None  # whether the change is an improvement; None when neither
    # None: no test applies to this kind of number (a count, a median); else the test's verdict.
    significant: bool | None = None
    p_value: float | None = None
    small: bool = False
    note: str = ""  # sample size, interval
    drill_count: int | None = None  # rows the link opens, when that is the number shown (tests check it)


def _trend(difference: float | None) -> str:
    if not difference:
        return ""
    return "up" if difference > 0 else "down"


def _good(difference: float | None, higher_is_better: bool | None) -> bool | None:
    if not difference or higher_is_better is None:
        return None
    return (difference > 0) == higher_is_better


def count(
    key: str, label: str, now: int, before: int, href: str, *, higher_is_better: bool | None = None
) -> Headline:
    difference = now - before
    change = f"{difference:+d}"
    if before:
        change += f" ({difference / before * 100:+.0f} %)"
    return Headline(
        key,
        label,
        number(now),
        href,
        previous=number(before),
        change=change,
        trend=_trend(difference),
        good=_good(difference, higher_is_better),
        drill_count=now,
    )


def time(key: str, label: str, now, before, href: str) -> Headline:
    """A median time (TimeStats of the reading API): lower is better; medians get no test here."""
    difference = None if now.median is None or before.median is None else now.median - before.median
    sign = "+" if difference and difference > 0 else "\N{MINUS SIGN}"
    change = "" if difference is None else sign + duration(abs(difference))
    note = _("n = %(n)s · p90 %(p90)s") % {"n": number(now.n), "p90": duration(now.p90)}
    return Headline(
        key,
        label,
        duration(now.median),
        href,
        previous=duration(before.median),
        change=change if difference else "",
        trend=_trend(difference),
        good=_good(difference, False),
        small=now.median is not None and stats.is_small(now.n),
        note=note,
        drill_count=now.n,
    )


def proportion(
    key: str,
    label: str,
    now: tuple[int, int],
    before: tuple[int, int],
    href: str,
    *,
    higher_is_better: bool,
    drill_count: int | None = None,
) -> Headline:
    """A share (successes, n) with its Wilson interval, tested against the previous period."""
    (s1, n1), (s2, n2) = now, before
    estimate = stats.wilson(s1, n1)
    previous = stats.wilson(s2, n2)
    comparison = stats.two_proportions(s1, n1, s2, n2)
    difference = None if estimate.value is None or previous.value is None else estimate.value - previous.value
    return Headline(
        key,
        label,
        share(estimate.value),
        href,
        previous=share(previous.value),
        change="" if not difference else _("%(d)s pts") % {"d": f"{difference * 100:+.1f}"},
        trend=_trend(difference),
        good=_good(difference, higher_is_better),
        significant=_verdict(comparison, estimate, previous),
        p_value=comparison.p_value,
        small=estimate.value is not None and estimate.small,
        note=_interval_note(estimate, 100, "%"),
        drill_count=drill_count,
    )


def estimate(
    key: str,
    label: str,
    now: stats.Estimate,
    before: stats.Estimate,
    comparison: stats.Comparison,
    href: str,
    *,
    digits: int = 0,
    unit: str = "",
    drill_count: int | None = None,
) -> Headline:
    """A score (NPS, CSAT, CES) as the answer side estimates it, with its own test of the change."""
    difference = None if now.value is None or before.value is None else now.value - before.value
    return Headline(
        key,
        label,
        "—" if now.value is None else f"{number(now.value, digits)}{unit}",
        href,
        previous="—" if before.value is None else f"{number(before.value, digits)}{unit}",
        change="" if not difference else f"{difference:+.{max(digits, 1)}f}",
        trend=_trend(difference),
        good=_good(difference, True),
        significant=_verdict(comparison, now, before),
        p_value=comparison.p_value,
        small=now.value is not None and now.small,
        note=_interval_note(now, 1, unit, digits),
        drill_count=drill_count,
    )


def _verdict(comparison: stats.Comparison, now: stats.Estimate, before: stats.Estimate) -> bool | None:
    """Significant or not; no verdict when either side is a small sample, where the normal
    approximations behind the tests are weakest (docs/metrics.md)."""
    if comparison.p_value is None or now.small or before.small:
        return None
    return comparison.significant()


def _interval_note(estimate: stats.Estimate, factor: float, unit: str, digits: int = 0) -> str:
    n = _("n = %(n)s") % {"n": number(estimate.n)}
    if estimate.low is None or estimate.high is None:
        return n
    low = number(estimate.low * factor, digits)
    high = number(estimate.high * factor, digits)
    # Translators: an interval, "n = 120 · 95% CI 31-42 %"
    return _("%(n)s · 95%% CI %(low)s to %(high)s%(unit)s") % {"n": n, "low": low, "high": high, "unit": unit}
