"""A change is called significant or not only when both periods are large enough to test."""

from __future__ import annotations

from analytics import views_headlines as hl


def share(now: tuple[int, int], before: tuple[int, int]) -> hl.Headline:
    return hl.proportion("sla", "SLA", now, before, "/x", higher_is_better=True)


def test_a_large_change_between_large_samples_is_significant():
    # 90 of 100 against 60 of 100: z = 4.9, p < 0.001.
    got = share((90, 100), (60, 100))
    assert got.significant is True and got.p_value is not None and got.p_value < 0.001


def test_no_change_between_large_samples_is_not_significant():
    got = share((61, 100), (60, 100))
    assert got.significant is False


def test_no_verdict_when_either_side_is_a_small_sample():
    # 9 of 10 against 1 of 10 would test as significant (p < 0.001), but ten answers are a small sample.
    small_now = share((9, 10), (60, 100))
    small_before = share((90, 100), (1, 10))
    assert small_now.significant is None and small_now.small
    assert small_before.significant is None and small_before.p_value is not None
