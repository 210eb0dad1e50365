"""How sure a number is: intervals and significance tests for the CX scores, in plain Python.

Pure math (no Django, no numpy at run time), so the rollups, the pages, the digest and the exports all
get the same answer from the same counts. Every function takes sufficient statistics (counts, sums,
sums of squares) rather than raw rows, because that is what the database and the rollups hand over.
`docs/metrics.md` states each formula; `tests/core/test_stats.py` checks them against scipy.

Edge cases are part of the contract: an empty sample gives `value=None`; a sample too small for an
interval (one answer for a mean or an NPS) gives the value without `low`/`high`; nothing raises
ZeroDivisionError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

from core.distributions import (  # noqa: F401 (t_ppf, t_sf, normal_ppf are part of this API)
    Z95,
    normal_cdf,
    normal_ppf,
    normal_two_sided_p,
    t_ppf,
    t_sf,
    t_two_sided_p,
)

# The small-sample rule (docs/metrics.md, "The small-sample rule"): a number is shown as a fact only when at
# least this many answers stand behind it ...
MIN_SAMPLE = 30
# ... and its 95% interval is no wider than this share of the metric's whole range (NPS: 50 of its
# 200 points; a percentage: 25 points; a CES mean: 1.5 of its 6 points).
MAX_RELATIVE_WIDTH = 0.25

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A number with its 95% interval. `value` is None for an empty sample; `low`/`high` are None when
    the sample is too small to have an interval. `small` is the flag every view shows instead of
    presenting the number as a fact (see `is_small`)."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    standard_error: float | None = None
    small: bool = True

    @property
    def width(self) -> float | None:
        return None if self.low is None or self.high is None else self.high - self.low

    def scaled(self, factor: float) -> Estimate:
        """The same estimate in other units (a proportion as a percentage)."""

        def times(x: float | None) -> float | None:
            return None if x is None else x * factor

        return replace(
            self,
            value=times(self.value),
            low=times(self.low),
            high=times(self.high),
            standard_error=times(self.standard_error),
        )


@dataclass(frozen=True)
class Comparison:
    """The difference between two samples (first minus second) and whether it is significant."""

    difference: float | None
    standard_error: float | None
    statistic: float | None
    p_value: float | None
    df: float | None = None

    def significant(self, alpha: float = 1 - CONFIDENCE) -> bool:
        return self.p_value is not None and self.p_value < alpha


NO_COMPARISON = Comparison(None, None, None, None)


def is_small(n: int, width: float | None = None, full_range: float | None = None) -> bool:
    """The small-sample rule: fewer than MIN_SAMPLE answers, no interval, or an interval wider than
    MAX_RELATIVE_WIDTH of the metric's whole range."""
    if n < MIN_SAMPLE:
        return True
    if full_range is None:
        return False
    return width is None or width > MAX_RELATIVE_WIDTH * full_range


def _estimate(value: float, low: float | None, high: float | None, n: int, se: float | None,
              full_range: float | None) -> Estimate:  # fmt: skip
    width = None if low is None or high is None else high - low
    return Estimate(value, low, high, n, se, is_small(n, width, full_range))


def wilson(successes: int, n: int, z: float = Z95) -> Estimate:
    """A proportion (0..1) with its Wilson score interval (no continuity correction). Defined from one
    answer on: 1 of 1 gives [0.207, 1]."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    se = math.sqrt(p * (1 - p) / n)
    return _estimate(p, max(0.0, centre - half), min(1.0, centre + half), n, se, 1.0)


class NpsCounts(NamedTuple):
    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors


def _nps_point(counts: NpsCounts) -> tuple[float, float] | None:
    """NPS (-100..100) and its standard error from the trinomial variance."""
    n = counts.n
    if n <= 0:
        return None
    pp, pd = counts.promoters / n, counts.detractors / n
    variance = max(0.0, pp + pd - (pp - pd) ** 2)
    return 100 * (pp - pd), 100 * math.sqrt(variance / n)


def nps_interval(promoters: int, passives: int, detractors: int, z: float = Z95) -> Estimate:
    """NPS = 100·(p - d)/n with a normal 95% interval, var = (p_p + p_d - (p_p - p_d)²)/n, clipped to
    [-100, 100]. One answer has a value but no interval (its variance estimate is zero)."""
    counts = NpsCounts(promoters, passives, detractors)
    point = _nps_point(counts)
    if point is None:
        return Estimate(None, None, None, 0)
    value, se = point
    if counts.n < 2:
        return _estimate(value, None, None, counts.n, None, 200.0)
    return _estimate(value, max(-100.0, value - z * se), min(100.0, value + z * se), counts.n, se, 200.0)


def _mean_and_variance(n: int, total: float, sum_of_squares: float) -> tuple[float, float | None]:
    mean = total / n
    if n < 2:
        return mean, None
    # Clamped: rounding can push an all-equal sample a hair below zero.
    return mean, max(0.0, (sum_of_squares - total * total / n) / (n - 1))


def mean_interval(n: int, total: float, sum_of_squares: float, *, confidence: float = CONFIDENCE,
                  scale: tuple[float, float] | None = None) -> Estimate:  # fmt: skip
    """The mean with a Student t interval (df = n - 1). `scale` (the answer range) lets the small-sample
    rule judge the interval's width; one answer has a mean but no interval."""
    if n <= 0:
        return Estimate(None, None, None, 0)
    full_range = None if scale is None else scale[1] - scale[0]
    mean, variance = _mean_and_variance(n, total, sum_of_squares)
    if variance is None:
        return _estimate(mean, None, None, n, None, full_range)
    se = math.sqrt(variance / n)
    half = t_ppf(1 - (1 - confidence) / 2, n - 1) * se
    return _estimate(mean, mean - half, mean + half, n, se, full_range)


def two_proportions(s1: int, n1: int, s2: int, n2: int) -> Comparison:
    """Two-proportion z test with the pooled standard error; two-sided p. The difference is s1/n1 -
    s2/n2 (a proportion, not percentage points)."""
    if n1 <= 0 or n2 <= 0:
        return NO_COMPARISON
    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        # Both samples all successes or all failures: identical, nothing to test.
        return Comparison(p1 - p2, 0.0, None, 1.0)
    z = (p1 - p2) / se
    return Comparison(p1 - p2, se, z, normal_two_sided_p(z))


def nps_difference(a: NpsCounts, b: NpsCounts) -> Comparison:
    """NPS(a) - NPS(b) in points, with the unpooled standard error sqrt(se_a² + se_b²) and a two-sided
    normal p. Undefined (None) when either side has fewer than two answers."""
    first, second = _nps_point(NpsCounts(*a)), _nps_point(NpsCounts(*b))
    if first is None or second is None or NpsCounts(*a).n < 2 or NpsCounts(*b).n < 2:
        return NO_COMPARISON
    difference = first[0] - second[0]
    se = math.hypot(first[1], second[1])
    if se == 0:
        # Every answer on both sides in one group: only an identical pair can be judged (p = 1).
        return Comparison(difference, 0.0, None, 1.0 if difference == 0 else None)
    z = difference / se
    return Comparison(difference, se, z, normal_two_sided_p(z))


def welch(n1: int, sum1: float, sq1: float, n2: int, sum2: float, sq2: float) -> Comparison:
    """Welch's t test for the difference of two means (unequal variances), Welch-Satterthwaite df,
    two-sided p. Needs two answers on each side."""
    if n1 < 2 or n2 < 2:
        return NO_COMPARISON
    mean1, var1 = _mean_and_variance(n1, sum1, sq1)
    mean2, var2 = _mean_and_variance(n2, sum2, sq2)
    assert var1 is not None and var2 is not None  # n >= 2 on both sides
    v1, v2 = var1 / n1, var2 / n2
    difference = mean1 - mean2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return Comparison(difference, 0.0, None, 1.0 if difference == 0 else None)
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    t = difference / se
    return Comparison(difference, se, t, t_two_sided_p(t, df), df)
