"""Metric targets: which metrics can have one, which way is better, setting them, and progress.

A target is stored in the unit the overview shows (analytics/target_models.py); converting the
reading API's value (seconds, shares) into that unit happens here, in one place, so the overview, the
settings page and the digest compare like with like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from analytics.target_models import MetricTarget


@dataclass(frozen=True)
class TargetMetric:
    key: str
    label: Promise
    unit: Promise
    higher_is_better: bool
    # Multiply the reading API's value by this to get the target's unit (seconds → minutes: 1/60).
    scale: float = 1.0
    low: float = 0.0
    high: float = 100.0


METRICS: tuple[TargetMetric, ...] = (
    TargetMetric("nps", _("NPS"), _("points"), True, low=-100.0),
    TargetMetric("csat", _("CSAT, share satisfied"), _("%"), True),  # the answer side gives percent
    TargetMetric("ces", _("CES, mean"), _("of 7"), True, low=1.0, high=7.0),
    TargetMetric(
        "first_response", _("First response, median (business hours)"), _("min"), False, 1 / 60, high=10_000
    ),
    TargetMetric(
        "resolution", _("Resolution, median (business hours)"), _("h"), False, 1 / 3600, high=10_000
    ),
    TargetMetric("sla_attainment", _("SLA attainment"), _("%"), True, scale=100.0),
    TargetMetric("reopen_rate", _("Reopen rate"), _("%"), False, scale=100.0),
)
BY_KEY = {m.key: m for m in METRICS}


@dataclass(frozen=True)
class TargetProgress:
    metric: TargetMetric
    target: float
    value: float | None  # in the target's unit; None when there is no number for the period
    small: bool = False  # the value rests on a small sample: progress is shown, "met" is not claimed

    @property
    def met(self) -> bool | None:
        if self.value is None or self.small:
            return None
        return self.value >= self.target if self.metric.higher_is_better else self.value <= self.target

    @property
    def percent(self) -> int:
        """How far along the bar is (0 to 100): the share of the way from the scale's worst end to the
        target."""
        if self.value is None:
            return 0
        m = self.metric
        if m.higher_is_better:
            span = self.target - m.low
            done = (self.value - m.low) / span if span > 0 else 1.0
        else:
            done = self.target / self.value if self.value > 0 else 1.0
        return round(max(0.0, min(1.0, done)) * 100)


def targets() -> dict[str, MetricTarget]:
    return {t.metric: t for t in MetricTarget.objects.filter(metric__in=BY_KEY)}


def progress(values: Mapping[str, tuple[float | None, bool]]) -> list[TargetProgress]:
    """`values`: metric key -> (value as the reading API gives it, small sample?). Metrics with a target
    only."""
    out = []
    for key, target in targets().items():
        metric = BY_KEY[key]
        raw, small = values.get(key, (None, False))
        value = None if raw is None else raw * metric.scale
        out.append(TargetProgress(metric, target.value, value, small))
    return sorted(out, key=lambda p: METRICS.index(p.metric))


def check_target(metric: str, value: float) -> TargetMetric:
    m = BY_KEY.get(metric)
    if m is None:
        raise ValueError(f"no such metric: {metric}")
    if not (m.low <= value <= m.high):
        raise ValueError(f"{metric} target must be between {m.low:g} and {m.high:g}")
    return m


@transaction.atomic
def do_set_targets(*, values: Mapping[str, float | None], actor: User) -> None:
    """Set (a number) or clear (None) the target of each metric named in `values`."""
    for metric, value in values.items():
        if value is None:
            if metric in BY_KEY:
                MetricTarget.objects.filter(metric=metric).delete()
            continue
        check_target(metric, value)
        MetricTarget.objects.update_or_create(metric=metric, defaults={"value": value, "updated_by": actor})
