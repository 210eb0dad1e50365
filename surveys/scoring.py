"""What a score means: the one definition of NPS groups, CSAT "satisfied", CES "low effort" and the
follow-up detractor, as Python functions, as Django `Q`/`Case` expressions and as SQL fragments.

Every rule is generated from the table of scales below, so the survey pages, the segment condition, the
answer batch SQL, the follow-up sweep and the dashboards cannot drift apart (docs/metrics.md;
tests/surveys/test_metric_consistency.py checks every score of every scale in the database).

This module imports no models (surveys.models imports it), so kinds are the plain strings that
`SurveyKind` stores.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Protocol

from django.db.models import Aggregate, Case, CharField, Count, F, Q, Sum, Value, When

from core import stats
from core.stats import Estimate, NpsCounts

NPS, CSAT, CES = "nps", "csat", "ces"


@dataclass(frozen=True)
class Scale:
    """One answer scale. `good_from` starts the top band the headline counts: promoters (NPS 9-10),
    satisfied (CSAT top two points of 1-5, top point of 1-3), low effort (CES 5-7).
    `detractor_at_or_below` is the follow-up threshold when the survey sets none."""

    key: str
    kind: str
    low: int
    high: int
    good_from: int
    detractor_at_or_below: int
    default: bool = True  # the kind's scale when `Survey.scale_max` says nothing else

    @property
    def full_range(self) -> int:
        return self.high - self.low


SCALE_TABLE: tuple[Scale, ...] = (
    Scale("nps", NPS, 0, 10, good_from=9, detractor_at_or_below=6),
    Scale("csat5", CSAT, 1, 5, good_from=4, detractor_at_or_below=2),
    Scale("csat3", CSAT, 1, 3, good_from=3, detractor_at_or_below=1, default=False),
    Scale("ces", CES, 1, 7, good_from=5, detractor_at_or_below=3),
)
_BY_KEY = {scale.key: scale for scale in SCALE_TABLE}
_DEFAULT = {scale.kind: scale for scale in SCALE_TABLE if scale.default}
_OTHER_MAXES = {kind: [s.high for s in SCALE_TABLE if s.kind == kind and not s.default] for kind in _DEFAULT}

# NPS groups by definition: detractors 0-6, passives 7-8, promoters 9-10.
NPS_PASSIVE_FROM = 7
NPS_GROUPS: dict[str, tuple[int, int]] = {
    "detractor": (_DEFAULT[NPS].low, NPS_PASSIVE_FROM - 1),
    "passive": (NPS_PASSIVE_FROM, _DEFAULT[NPS].good_from - 1),
    "promoter": (_DEFAULT[NPS].good_from, _DEFAULT[NPS].high),
}

# The default scale of each kind, and the follow-up threshold when a survey sets none.
SCALES: dict[str, tuple[int, int]] = {kind: (s.low, s.high) for kind, s in _DEFAULT.items()}
DETRACTOR_AT_OR_BELOW: dict[str, int] = {kind: s.detractor_at_or_below for kind, s in _DEFAULT.items()}


class SurveyLike(Protocol):
    kind: str
    scale_max: int | None
    detractor_threshold: int | None


# --- Python rules ----------------------------------------------------------------------------------


def scale_of(kind: str, scale_max: int | None = None) -> Scale:
    """The scale a survey uses: its kind's default unless `scale_max` picks another one of that kind."""
    if scale_max in _OTHER_MAXES.get(kind, ()):
        return next(s for s in SCALE_TABLE if s.kind == kind and s.high == scale_max)
    return _DEFAULT[kind]


def nps_group(score: int) -> str:
    for group, (low, high) in NPS_GROUPS.items():
        if low <= score <= high:
            return group
    raise ValueError(f"{score} is not an NPS score")


def is_promoter(score: int) -> bool:
    return score >= NPS_GROUPS["promoter"][0]


def is_satisfied(kind: str, scale_max: int | None, score: int) -> bool:
    """CSAT only (False for other kinds): each answer counts on its own survey's scale."""
    return kind == CSAT and score >= scale_of(kind, scale_max).good_from


def is_low_effort(score: int) -> bool:
    return score >= _DEFAULT[CES].good_from


def is_good(kind: str, scale_max: int | None, score: int) -> bool:
    """The headline's top band of any kind: a promoter, a satisfied answer, a low-effort answer."""
    return score >= scale_of(kind, scale_max).good_from


def detractor_at_or_below(kind: str, scale_max: int | None, threshold: int | None) -> int:
    return threshold if threshold is not None else scale_of(kind, scale_max).detractor_at_or_below


def is_detractor(survey: SurveyLike, score: int) -> bool:
    """An answer that opens a follow-up: at or below the survey's own threshold, else the kind's."""
    return score <= detractor_at_or_below(survey.kind, survey.scale_max, survey.detractor_threshold)


# --- Q and Case expressions ------------------------------------------------------------------------
# `prefix` leads from the queried model to the answer ("" on SurveyResponse, "responses__" on Survey);
# `survey_path` from the queried model to the survey (default: the answer's survey, `prefix + "survey__"`).


def _survey(prefix: str, survey_path: str | None) -> str:
    return f"{prefix}survey__" if survey_path is None else survey_path


def scale_q(scale: Scale, prefix: str = "", survey_path: str | None = None) -> Q:
    """Answers given on this scale."""
    s = _survey(prefix, survey_path)
    q = Q(**{f"{s}kind": scale.kind})
    if not scale.default:
        return q & Q(**{f"{s}scale_max": scale.high})
    others = _OTHER_MAXES[scale.kind]
    if others:
        q &= Q(**{f"{s}scale_max__isnull": True}) | ~Q(**{f"{s}scale_max__in": others})
    return q


def _any(conditions: Iterable[Q]) -> Q:
    return reduce(operator.or_, conditions)


def _score(prefix: str, lookup: str, value: Any) -> Q:
    return Q(**{f"{prefix}score__{lookup}": value})


def good_q(prefix: str = "", survey_path: str | None = None) -> Q:
    return _any(
        scale_q(scale, prefix, survey_path) & _score(prefix, "gte", scale.good_from) for scale in SCALE_TABLE
    )


def promoter_q(prefix: str = "", survey_path: str | None = None) -> Q:
    return scale_q(_DEFAULT[NPS], prefix, survey_path) & _score(prefix, "range", NPS_GROUPS["promoter"])


def passive_q(prefix: str = "", survey_path: str | None = None) -> Q:
    return scale_q(_DEFAULT[NPS], prefix, survey_path) & _score(prefix, "range", NPS_GROUPS["passive"])


def nps_detractor_q(prefix: str = "", survey_path: str | None = None) -> Q:
    """The NPS group 0-6 (the follow-up rule is `detractor_q`, which honours a survey's threshold)."""
    return scale_q(_DEFAULT[NPS], prefix, survey_path) & _score(prefix, "range", NPS_GROUPS["detractor"])


def satisfied_q(prefix: str = "", survey_path: str | None = None) -> Q:
    return _any(
        scale_q(scale, prefix, survey_path) & _score(prefix, "gte", scale.good_from)
        for scale in SCALE_TABLE
        if scale.kind == CSAT
    )


def low_effort_q(prefix: str = "", survey_path: str | None = None) -> Q:
    return scale_q(_DEFAULT[CES], prefix, survey_path) & _score(prefix, "gte", _DEFAULT[CES].good_from)


def _against_threshold(lookup: str, prefix: str, survey_path: str | None) -> Q:
    s = _survey(prefix, survey_path)
    own = Q(**{f"{s}detractor_threshold__isnull": False}) & _score(
        prefix, lookup, F(f"{s}detractor_threshold")
    )
    defaults = _any(
        scale_q(scale, prefix, survey_path) & _score(prefix, lookup, scale.detractor_at_or_below)
        for scale in SCALE_TABLE
    )
    return own | (Q(**{f"{s}detractor_threshold__isnull": True}) & defaults)


def detractor_q(prefix: str = "", survey_path: str | None = None) -> Q:
    """Answers that open a follow-up (the survey's threshold, else its scale's default)."""
    return _against_threshold("lte", prefix, survey_path)


def neutral_q(prefix: str = "", survey_path: str | None = None) -> Q:
    """Neither in the top band nor a follow-up detractor (NPS passives with the default threshold)."""
    below_top = _any(
        scale_q(scale, prefix, survey_path) & _score(prefix, "lt", scale.good_from) for scale in SCALE_TABLE
    )
    return below_top & _against_threshold("gt", prefix, survey_path)


def nps_group_case(prefix: str = "", survey_path: str | None = None) -> Case:
    """The NPS group of an answer as an expression ('promoter', 'passive', 'detractor'; NULL when the
    answer is not to an NPS survey)."""
    return Case(
        When(promoter_q(prefix, survey_path), then=Value("promoter")),
        When(passive_q(prefix, survey_path), then=Value("passive")),
        When(nps_detractor_q(prefix, survey_path), then=Value("detractor")),
        default=None,
        output_field=CharField(),
    )


# --- SQL fragments (raw statements; `s` is the survey table's alias) ------------------------------


def _variant_sql(scale: Scale, s: str) -> str:
    return f"{s}.kind = '{scale.kind}'" + ("" if scale.default else f" AND {s}.scale_max = {scale.high}")


def _by_scale_sql(attribute: str, s: str) -> str:
    # Non-default scales first: CASE takes the first match, and the default then catches NULL scale_max.
    ordered = sorted(SCALE_TABLE, key=lambda scale: scale.default)
    whens = " ".join(f"WHEN {_variant_sql(scale, s)} THEN {getattr(scale, attribute)}" for scale in ordered)
    return f"(CASE {whens} END)"


def scale_low_sql(s: str = "s") -> str:
    return _by_scale_sql("low", s)


def scale_high_sql(s: str = "s") -> str:
    return _by_scale_sql("high", s)


def good_from_sql(s: str = "s") -> str:
    return _by_scale_sql("good_from", s)


def detractor_at_or_below_sql(s: str = "s") -> str:
    return f"COALESCE({s}.detractor_threshold, {_by_scale_sql('detractor_at_or_below', s)})"


def is_detractor_sql(score: str, s: str = "s") -> str:
    return f"({score} <= {detractor_at_or_below_sql(s)})"


def is_good_sql(score: str, s: str = "s") -> str:
    return f"({score} >= {good_from_sql(s)})"


def nps_group_sql(score: str) -> str:
    whens = " ".join(f"WHEN {score} BETWEEN {lo} AND {hi} THEN '{g}'" for g, (lo, hi) in NPS_GROUPS.items())
    return f"(CASE {whens} END)"


# --- One-query aggregates and the summaries built from them --------------------------------------

PREFIX = "m_"  # annotation names, so they cannot clash with a model's fields
_COUNTS = {
    "promoters": promoter_q,
    "passives": passive_q,
    "nps_detractors": nps_detractor_q,
    "satisfied": satisfied_q,
    "low_effort": low_effort_q,
    "good": good_q,
    "detractors": detractor_q,
    "neutral": neutral_q,
}


def aggregates(
    prefix: str = "", survey_path: str | None = None, where: Q | None = None
) -> dict[str, Aggregate]:
    """Everything a summary needs, as aggregate expressions for one `aggregate()` or `annotate()`: per
    scale the count, sum and sum of squares; the counts of each group over all scales."""
    where = where if where is not None else Q()
    score = F(f"{prefix}score")
    out: dict[str, Aggregate] = {}
    for scale in SCALE_TABLE:
        on_scale = where & scale_q(scale, prefix, survey_path)
        out[f"{PREFIX}{scale.key}_n"] = Count(f"{prefix}id", filter=on_scale)
        out[f"{PREFIX}{scale.key}_sum"] = Sum(score, filter=on_scale)
        out[f"{PREFIX}{scale.key}_sq"] = Sum(score * score, filter=on_scale)
    for name, rule in _COUNTS.items():
        out[f"{PREFIX}{name}"] = Count(f"{prefix}id", filter=where & rule(prefix, survey_path))
    return out


@dataclass(frozen=True)
class Moments:
    n: int = 0
    total: int = 0
    squares: int = 0


@dataclass(frozen=True)
class ScoreTotals:
    """The sufficient statistics of a set of answers (what `aggregates` reads)."""

    moments: dict[str, Moments] = field(default_factory=dict)
    promoters: int = 0
    passives: int = 0
    nps_detractors: int = 0
    satisfied: int = 0
    low_effort: int = 0
    good: int = 0
    detractors: int = 0
    neutral: int = 0

    def n(self, *keys: str) -> int:
        return sum(self.moments.get(key, Moments()).n for key in keys or _BY_KEY)


def totals_from(row: Mapping[str, Any] | object) -> ScoreTotals:
    """Read the aggregates back from an `aggregate()` dict or an annotated model instance."""

    def get(name: str) -> int:
        value = row.get(PREFIX + name) if isinstance(row, Mapping) else getattr(row, PREFIX + name)
        return int(value or 0)

    moments = {
        s.key: Moments(get(f"{s.key}_n"), get(f"{s.key}_sum"), get(f"{s.key}_sq")) for s in SCALE_TABLE
    }
    return ScoreTotals(moments, **{name: get(name) for name in _COUNTS})


def score_totals(responses: Any) -> ScoreTotals:
    """One query over a response queryset (already narrowed by the viewer's visibility)."""
    return totals_from(responses.order_by().aggregate(**aggregates()))


@dataclass(frozen=True)
class Scores:
    """The survey summaries with their intervals. Percentages are 0-100, NPS -100..100."""

    totals: ScoreTotals
    nps: Estimate
    csat_satisfied: Estimate
    ces_low_effort: Estimate
    means: dict[str, Estimate]  # by scale key: "nps", "csat5", "csat3", "ces"

    @property
    def ces_mean(self) -> Estimate:
        return self.means["ces"]

    def headline(self, kind: str, scale_max: int | None = None) -> Estimate:
        """The number a manager reads first: NPS for NPS, % satisfied for CSAT, the mean for CES."""
        if kind == NPS:
            return self.nps
        if kind == CSAT:
            return self.csat_satisfied
        return self.means[scale_of(kind, scale_max).key]


def summarize(totals: ScoreTotals) -> Scores:
    means = {
        key: stats.mean_interval(m.n, m.total, m.squares, scale=(_BY_KEY[key].low, _BY_KEY[key].high))
        for key, m in totals.moments.items()
    }
    for key in _BY_KEY:
        means.setdefault(key, stats.mean_interval(0, 0, 0))
    csat_n = totals.n(*(s.key for s in SCALE_TABLE if s.kind == CSAT))
    return Scores(
        totals=totals,
        nps=stats.nps_interval(*NpsCounts(totals.promoters, totals.passives, totals.nps_detractors)),
        csat_satisfied=stats.wilson(totals.satisfied, csat_n).scaled(100),
        ces_low_effort=stats.wilson(totals.low_effort, totals.n("ces")).scaled(100),
        means=means,
    )


HEADLINE_KINDS = {NPS: "nps", CSAT: "csat", CES: "average"}
