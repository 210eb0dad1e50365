"""core/stats.py against scipy (the reference implementation, a dev-only dependency) to 3 decimals, on
hand-computed samples and on random ones, plus the edge cases every view relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sp

from core import stats

PLACES = 3


def close(a: float | None, b: float) -> bool:
    return a is not None and round(a, PLACES) == pytest.approx(round(float(b), PLACES), abs=1.5 * 10**-PLACES)


# --- quantiles --------------------------------------------------------------------------------------


def test_t_quantile_matches_scipy_for_df_1_to_200():
    worst = 0.0
    for df in range(1, 201):
        for p in (0.5, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.025, 0.001):
            ours, theirs = stats.t_ppf(p, df), sp.t.ppf(p, df)
            worst = max(worst, abs(ours - theirs) / max(1.0, abs(theirs)))
    assert worst < 1e-9


@given(st.floats(0.001, 0.999), st.floats(0.5, 500))
def test_t_quantile_and_tail_match_scipy_for_fractional_df(p, df):
    assert stats.t_ppf(p, df) == pytest.approx(sp.t.ppf(p, df), rel=1e-7, abs=1e-7)
    t = sp.t.ppf(p, df)
    assert stats.t_sf(t, df) == pytest.approx(sp.t.sf(t, df), rel=1e-7, abs=1e-12)


def test_normal_quantile_matches_scipy():
    for p in (1e-10, 0.001, 0.02, 0.025, 0.3, 0.5, 0.8, 0.975, 0.99999):
        assert stats.normal_ppf(p) == pytest.approx(sp.norm.ppf(p), rel=1e-12, abs=1e-12)
    assert abs(stats.Z95 - 1.959963984540054) < 1e-12


def test_quantiles_refuse_probabilities_outside_zero_and_one():
    with pytest.raises(ValueError):
        stats.t_ppf(1.0, 5)
    with pytest.raises(ValueError):
        stats.normal_ppf(0.0)


# --- Wilson -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    # Hand-computed from the Wilson formula with z = 1.959964.
    [(7, 20, 0.181192, 0.567146), (0, 10, 0.0, 0.277533), (10, 10, 0.722467, 1.0), (1, 1, 0.206549, 1.0),
     (45, 100, 0.356145, 0.547554)],
)  # fmt: skip
def test_wilson_hand_computed_and_scipy(successes, n, low, high):
    estimate = stats.wilson(successes, n)
    reference = sp.binomtest(successes, n).proportion_ci(method="wilson")
    assert estimate.value == pytest.approx(successes / n)
    assert close(estimate.low, low) and close(estimate.high, high)
    assert close(estimate.low, reference.low) and close(estimate.high, reference.high)
    assert estimate.n == n


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_scipy_on_random_samples(sample):
    successes, n = sample
    estimate = stats.wilson(successes, n)
    reference = sp.binomtest(successes, n).proportion_ci(method="wilson")
    assert close(estimate.low, reference.low) and close(estimate.high, reference.high)


def test_wilson_as_a_percentage():
    estimate = stats.wilson(7, 20).scaled(100)
    assert estimate.value == pytest.approx(35.0)
    assert close(estimate.low, 18.119) and close(estimate.high, 56.715)


# --- NPS ----------------------------------------------------------------------------------------------


def nps_reference(promoters: int, passives: int, detractors: int) -> tuple[float, float, float]:
    """NPS from the raw answers: the mean of +1/0/-1 values times 100, a normal 95% interval from their
    population variance (the trinomial variance), clipped."""
    values = np.array([1] * promoters + [0] * passives + [-1] * detractors, dtype=float)
    mean, se = values.mean() * 100, values.std(ddof=0) / math.sqrt(len(values)) * 100
    low, high = sp.norm.interval(0.95, loc=mean, scale=se) if se > 0 else (mean, mean)
    return mean, max(-100.0, low), min(100.0, high)


def test_nps_hand_computed():
    # 5 promoters, 3 passives, 2 detractors: NPS = 100 * (5 - 2) / 10 = 30;
    # var = (0.5 + 0.2 - 0.3**2) / 10 = 0.061, se = 24.698, half width = 1.959964 * 24.698 = 48.408.
    estimate = stats.nps_interval(5, 3, 2)
    assert estimate.value == pytest.approx(30.0)
    assert close(estimate.standard_error, 24.698)
    assert close(estimate.low, -18.408) and close(estimate.high, 78.408)
    assert estimate.n == 10 and estimate.small


def test_nps_interval_is_clipped_to_its_range():
    estimate = stats.nps_interval(9, 0, 1)  # NPS 80, se = 100 * sqrt((1 - 0.64) / 10) = 18.97
    assert estimate.high == 100.0 and close(estimate.low, 80 - 1.959964 * 18.974)


@given(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400))
def test_nps_matches_the_numpy_reference(promoters, passives, detractors):
    if promoters + passives + detractors < 2:
        return
    estimate = stats.nps_interval(promoters, passives, detractors)
    value, low, high = nps_reference(promoters, passives, detractors)
    assert close(estimate.value, value) and close(estimate.low, low) and close(estimate.high, high)


def test_nps_empty_and_one_answer():
    empty = stats.nps_interval(0, 0, 0)
    assert (empty.value, empty.low, empty.high, empty.n, empty.small) == (None, None, None, 0, True)
    one = stats.nps_interval(0, 0, 1)
    assert (one.value, one.low, one.high, one.n, one.small) == (-100.0, None, None, 1, True)


# --- means ----------------------------------------------------------------------------------------------


def moments(values) -> tuple[int, float, float]:
    return len(values), float(sum(values)), float(sum(v * v for v in values))


def test_mean_hand_computed():
    # 1..5: mean 3, s = 1.5811, se = 0.7071, t(0.975, 4) = 2.776445, half width 1.9632.
    estimate = stats.mean_interval(*moments([1, 2, 3, 4, 5]))
    assert estimate.value == 3.0 and close(estimate.low, 1.0368) and close(estimate.high, 4.9632)


@settings(max_examples=200)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=300))
def test_mean_matches_scipy_t_interval(values):
    estimate = stats.mean_interval(*moments(values), scale=(1, 7))
    data = np.array(values, dtype=float)
    sem = sp.sem(data)
    assert close(estimate.value, data.mean())
    if sem == 0:
        assert estimate.low == estimate.high == estimate.value
        return
    low, high = sp.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=sem)
    assert close(estimate.low, low) and close(estimate.high, high)


def test_mean_empty_one_answer_and_no_spread():
    assert stats.mean_interval(0, 0, 0).value is None
    one = stats.mean_interval(*moments([4]))
    assert (one.value, one.low, one.high, one.n) == (4.0, None, None, 1)
    same = stats.mean_interval(*moments([3, 3, 3]))
    assert (same.value, same.low, same.high) == (3.0, 3.0, 3.0)


# --- tests of a difference ------------------------------------------------------------------------


def test_two_proportions_hand_computed_and_against_the_chi_square_test():
    # 30/100 against 45/100: pooled 0.375, se = sqrt(0.375 * 0.625 * 0.02) = 0.068465, z = -2.19089.
    comparison = stats.two_proportions(30, 100, 45, 100)
    assert close(comparison.difference, -0.15) and close(comparison.statistic, -2.19089)
    assert close(comparison.p_value, 0.028460)
    reference = sp.chi2_contingency([[30, 70], [45, 55]], correction=False)
    assert close(comparison.p_value, reference.pvalue)
    assert comparison.significant()


@given(st.integers(1, 2000), st.integers(1, 2000), st.data())
def test_two_proportions_matches_scipy(n1, n2, data):
    s1, s2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    comparison = stats.two_proportions(s1, n1, s2, n2)
    if s1 + s2 in (0, n1 + n2):
        assert comparison.p_value == 1.0 and comparison.difference == 0
        return
    pooled = (s1 + s2) / (n1 + n2)
    z = (s1 / n1 - s2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert close(comparison.statistic, z) and close(comparison.p_value, 2 * sp.norm.sf(abs(z)))


def test_nps_difference_hand_computed():
    # A: 50 promoters, 30 passives, 20 detractors (NPS 30, se 7.8102); B: 30/30/40 (NPS -10, se 8.3066).
    comparison = stats.nps_difference(stats.NpsCounts(50, 30, 20), stats.NpsCounts(30, 30, 40))
    assert close(comparison.difference, 40.0)
    assert close(comparison.standard_error, math.hypot(7.81025, 8.30662))
    assert close(comparison.p_value, 2 * sp.norm.sf(40 / math.hypot(7.81025, 8.30662)))
    assert comparison.significant()


@given(
    st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200)),
    st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200)),
)
def test_nps_difference_matches_the_numpy_reference(a, b):
    comparison = stats.nps_difference(stats.NpsCounts(*a), stats.NpsCounts(*b))
    if sum(a) < 2 or sum(b) < 2:
        assert comparison.p_value is None and comparison.difference is None
        return
    values = [np.array([1] * p + [0] * q + [-1] * d, dtype=float) for p, q, d in (a, b)]
    difference = (values[0].mean() - values[1].mean()) * 100
    se = math.sqrt(sum(v.var(ddof=0) / len(v) for v in values)) * 100
    assert close(comparison.difference, difference)
    if se == 0:
        assert comparison.p_value == (1.0 if difference == 0 else None)
        return
    assert close(comparison.p_value, 2 * sp.norm.sf(abs(difference / se)))


def test_welch_hand_computed_against_scipy():
    a, b = [1, 2, 2, 3, 4, 5, 5], [3, 4, 4, 5, 5, 5, 6, 7]
    comparison = stats.welch(*moments(a), *moments(b))
    reference = sp.ttest_ind(a, b, equal_var=False)
    assert close(comparison.statistic, reference.statistic) and close(comparison.p_value, reference.pvalue)
    assert close(comparison.difference, np.mean(a) - np.mean(b))


@settings(max_examples=200)
@given(
    st.lists(st.integers(1, 7), min_size=2, max_size=200),
    st.lists(st.integers(1, 7), min_size=2, max_size=200),
)
def test_welch_matches_scipy_from_stats(a, b):
    comparison = stats.welch(*moments(a), *moments(b))
    sd_a, sd_b = np.std(a, ddof=1), np.std(b, ddof=1)
    if sd_a == 0 and sd_b == 0:
        assert comparison.p_value == (1.0 if np.mean(a) == np.mean(b) else None)
        return
    reference = sp.ttest_ind_from_stats(np.mean(a), sd_a, len(a), np.mean(b), sd_b, len(b), equal_var=False)
    assert close(comparison.statistic, reference.statistic) and close(comparison.p_value, reference.pvalue)


def test_comparisons_of_empty_and_one_answer_samples_are_undefined():
    for comparison in (
        stats.two_proportions(0, 0, 3, 10),
        stats.nps_difference(stats.NpsCounts(1, 0, 0), stats.NpsCounts(5, 5, 5)),
        stats.nps_difference(stats.NpsCounts(0, 0, 0), stats.NpsCounts(0, 0, 0)),
        stats.welch(*moments([5]), *moments([1, 2, 3])),
        stats.welch(0, 0, 0, 0, 0, 0),
    ):
        assert comparison.p_value is None and not comparison.significant()


# --- the small-sample rule ----------------------------------------------------------------------------


def test_the_small_sample_rule():
    assert stats.is_small(0) and stats.is_small(29)
    assert not stats.is_small(30)
    assert stats.is_small(30, width=None, full_range=200)  # no interval
    assert stats.is_small(100, width=51, full_range=200) and not stats.is_small(100, width=49, full_range=200)
    # 50% of 30 answers: the Wilson interval is ~34 points wide, more than a quarter of 100.
    assert stats.wilson(15, 30).small
    assert not stats.wilson(60, 100).small
    # NPS of 100 mixed answers: se ~ 8.7, width ~ 34 of 200 points: a fact.
    assert not stats.nps_interval(50, 30, 20).small
    assert stats.nps_interval(15, 5, 9).small  # 29 answers
    assert not stats.mean_interval(*moments([4, 5, 6] * 20), scale=(1, 7)).small
    assert stats.mean_interval(*moments([1, 7] * 15), scale=(1, 7)).small  # wide: width ~2.3 > 1.5
