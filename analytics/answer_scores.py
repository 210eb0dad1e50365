"""From counts per score value to the score figures: the rules of `surveys.scoring`, the statistics
of `core.stats`, applied at read time to histograms (rollup cells or facts alike).

A histogram is 11 counts (score 0..10) of one survey; the survey's kind, scale and threshold say what
each score means, so mixed 1-3 and 1-5 CSAT surveys are each judged on their own scale. The histograms
are folded into `scoring.ScoreTotals` and summarised by `scoring.summarize`, the same code the survey
pages use on raw answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core import stats
from surveys import scoring
from surveys.models import Survey

Histogram = Sequence[int]


@dataclass
class Tally:
    """Sufficient statistics of a set of answers, summed histogram by histogram."""

    comments: int = 0
    moments: dict[str, list[int]] = field(default_factory=dict)  # scale key -> [n, sum, sum of squares]
    counts: dict[str, int] = field(default_factory=dict)  # the group counts of ScoreTotals
    # Counts per score by scale key ("nps", "csat5", "csat3", "ces"): the distribution charts.
    distribution: dict[str, list[int]] = field(default_factory=dict)

    def add(self, survey: Survey, histogram: Histogram, comments: int = 0) -> None:
        self.comments += comments
        scale = scoring.scale_of(survey.kind, survey.scale_max)
        moments = self.moments.setdefault(scale.key, [0, 0, 0])
        bars = self.distribution.setdefault(scale.key, [0] * 11)
        for score, count in enumerate(histogram):
            if not count:
                continue
            bars[score] += count
            moments[0] += count
            moments[1] += score * count
            moments[2] += score * score * count
            for name in _groups(survey, score):
                self.counts[name] = self.counts.get(name, 0) + count

    @property
    def responses(self) -> int:
        return sum(m[0] for m in self.moments.values())

    def totals(self) -> scoring.ScoreTotals:
        return scoring.ScoreTotals(
            # Every scale, as scoring.totals_from reads them, so the two compare equal.
            {
                scale.key: scoring.Moments(*self.moments.get(scale.key, (0, 0, 0)))
                for scale in scoring.SCALE_TABLE
            },
            **{name: self.counts.get(name, 0) for name in _GROUP_NAMES},
        )


_GROUP_NAMES = ("promoters", "passives", "nps_detractors", "satisfied", "low_effort", "good", "detractors",
                "neutral")  # fmt: skip


def _groups(survey: Survey, score: int) -> list[str]:
    """The ScoreTotals counts one answer adds to, by the Python rules of surveys.scoring."""
    names = []
    if survey.kind == scoring.NPS:
        names.append({"promoter": "promoters", "passive": "passives", "detractor": "nps_detractors"}[
            scoring.nps_group(score)
        ])  # fmt: skip
    if scoring.is_satisfied(survey.kind, survey.scale_max, score):
        names.append("satisfied")
    if survey.kind == scoring.CES and scoring.is_low_effort(score):
        names.append("low_effort")
    good = scoring.is_good(survey.kind, survey.scale_max, score)
    detractor = scoring.is_detractor(survey, score)
    if good:
        names.append("good")
    if detractor:
        names.append("detractors")
    if not good and not detractor:
        names.append("neutral")
    return names


@dataclass(frozen=True)
class Scores:
    """The figures of a set of answers: scoring's summaries with intervals, plus what the dashboards
    add (responses, comments, the distribution per scale)."""

    responses: int
    comments: int
    summary: scoring.Scores
    distribution: dict[str, tuple[int, ...]]

    @property
    def totals(self) -> scoring.ScoreTotals:
        return self.summary.totals

    @property
    def nps(self) -> stats.Estimate:
        return self.summary.nps

    @property
    def csat_satisfied(self) -> stats.Estimate:
        return self.summary.csat_satisfied

    @property
    def csat_mean(self) -> stats.Estimate:
        """The 1-5 mean when there are 1-5 answers, else the 1-3 one (a 2 of 3 is not a 2 of 5)."""
        means = self.summary.means
        return means["csat5"] if means["csat5"].n or not means["csat3"].n else means["csat3"]

    @property
    def ces_mean(self) -> stats.Estimate:
        return self.summary.ces_mean

    @property
    def ces_low_effort(self) -> stats.Estimate:
        return self.summary.ces_low_effort

    @property
    def detractors(self) -> int:
        """Answers at or below their survey's follow-up threshold (the closed loop's detractors)."""
        return self.totals.detractors


def scores(tally: Tally) -> Scores:
    return Scores(
        responses=tally.responses,
        comments=tally.comments,
        summary=scoring.summarize(tally.totals()),
        distribution={key: tuple(bars) for key, bars in sorted(tally.distribution.items())},
    )


@dataclass(frozen=True)
class Changes:
    """This period against the previous one: differences and whether each is significant."""

    nps: stats.Comparison
    csat_satisfied: stats.Comparison  # difference of proportions (0..1)
    csat_mean: stats.Comparison  # Welch, on the scale `Scores.csat_mean` uses
    ces_mean: stats.Comparison
    ces_low_effort: stats.Comparison


def _welch(key: str, a: scoring.ScoreTotals, b: scoring.ScoreTotals) -> stats.Comparison:
    x, y = a.moments.get(key, scoring.Moments()), b.moments.get(key, scoring.Moments())
    return stats.welch(x.n, x.total, x.squares, y.n, y.total, y.squares)


def changes(current: Scores, previous: Scores) -> Changes:
    a, b = current.totals, previous.totals
    csat_key = "csat5" if a.n("csat5") or b.n("csat5") else "csat3"
    csat_n = ("csat5", "csat3")
    return Changes(
        nps=stats.nps_difference(
            stats.NpsCounts(a.promoters, a.passives, a.nps_detractors),
            stats.NpsCounts(b.promoters, b.passives, b.nps_detractors),
        ),
        csat_satisfied=stats.two_proportions(a.satisfied, a.n(*csat_n), b.satisfied, b.n(*csat_n)),
        csat_mean=_welch(csat_key, a, b),
        ces_mean=_welch("ces", a, b),
        ces_low_effort=stats.two_proportions(a.low_effort, a.n("ces"), b.low_effort, b.n("ces")),
    )
