"""Reading the answer store: scores with intervals, distributions, series, breakdowns, comments and the
drill-down behind every number.

Every function takes `DashboardFilters` and the viewer's `Visibility` and returns plain dataclasses.
Numbers come from the rollup cells when the filters allow (a viewer who sees every conversation, whole
UTC hours, no label or segment filter) and from the answer facts otherwise; both hold the same
histograms, so both give the same numbers. For anyone else the facts are read through
`Visibility.linked_q` on the answer's conversation: an answer tied to a conversation the viewer may not
see is left out, one tied to none stays. `drill_answers` returns the answers behind a number through
the same filters, so its count equals the number.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Trunc

from analytics import answer_scores, periods
from analytics.answer_models import SCORE_COLUMNS, SCORE_VALUES, AnswerCell, AnswerFact
from analytics.answer_scores import Changes, Scores, Tally
from surveys import scoring
from surveys.models import Survey, SurveyResponse
from tickets.models import Conversation
from tickets.visibility import Visibility

Dimension = Literal["channel", "medium", "team", "agent", "survey", "language"]
DIMENSION_FIELDS: dict[str, str] = {
    "channel": "channel_id",
    "medium": "medium",
    "team": "team_id",
    "agent": "agent_id",
    "survey": "survey_id",
    "language": "language",
}
GROUPS = ("promoter", "passive", "nps_detractor", "satisfied", "unsatisfied", "low_effort", "high_effort",
          "detractor")  # fmt: skip


@dataclass(frozen=True)
class AnswerCellFilter:
    """Narrows a drill to one bar, row or point; None = any. 0 = "none" for team and agent ids."""

    start: datetime | None = None
    end: datetime | None = None
    channel_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    survey_id: int | None = None
    medium: str | None = None
    language: str | None = None
    segment_id: int | None = None
    score: int | None = None
    scale: str | None = None  # a scale key of surveys.scoring ("nps", "csat5", "csat3", "ces")


# ---- where the histograms come from ---------------------------------------------------------------


def _surveys() -> dict[int, Survey]:
    return {survey.pk: survey for survey in Survey.objects.all()}


def _ids_q(field: str, ids: Iterable[int]) -> Q:
    """`field` in ids, where 0 means "none" (no team, unassigned)."""
    wanted = list(ids)
    q = Q(**{f"{field}__in": [i for i in wanted if i]})
    if 0 in wanted:
        q |= Q(**{f"{field}__isnull": True})
    return q


def _dims_q(filters: Any) -> Q:
    """The filters every answer carries as a dimension (the same fields on facts and on cells)."""
    q = Q()
    if filters.survey_ids:
        q &= Q(survey_id__in=filters.survey_ids)
    if filters.channel_ids:
        q &= Q(channel_id__in=filters.channel_ids)
    if filters.team_ids:
        q &= _ids_q("team_id", filters.team_ids)
    if filters.agent_ids:
        q &= _ids_q("agent_id", filters.agent_ids)
    if filters.language:
        q &= Q(language=filters.language)
    return q


def _cell_q(cell: AnswerCellFilter | None) -> Q:
    if cell is None:
        return Q()
    q = Q()
    for name in ("channel_id", "team_id", "agent_id"):
        value = getattr(cell, name)
        if value is not None:
            q &= Q(**{f"{name}__isnull": True}) if value == 0 else Q(**{name: value})
    for name, field in (("survey_id", "survey_id"), ("medium", "medium"), ("language", "language")):
        value = getattr(cell, name)
        if value is not None:
            q &= Q(**{field: value})
    return q


def _needs_facts(filters: Any, visibility: Visibility) -> bool:
    if not visibility.sees_all or filters.label_ids or filters.segment_id:
        return True
    return not (periods.is_whole_hour(filters.start) and periods.is_whole_hour(filters.end))


def facts(filters: Any, visibility: Visibility, cell: AnswerCellFilter | None = None) -> QuerySet[AnswerFact]:
    """The answer facts behind the filters (and a cell), through the viewer's visibility."""
    start, end = filters.start, filters.end
    if cell is not None:
        start = max(start, cell.start) if cell.start else start
        end = min(end, cell.end) if cell.end else end
    qs = AnswerFact.objects.filter(_dims_q(filters), _cell_q(cell), created_at__gte=start, created_at__lt=end)
    qs = qs.filter(_visible_q(visibility))
    if filters.label_ids:
        labelled = Conversation.labels.through.objects.filter(label_id__in=filters.label_ids)
        qs = qs.filter(conversation_id__in=labelled.values("conversation_id"))
    for segment_id in {filters.segment_id, cell.segment_id if cell else None} - {None}:
        qs = qs.filter(customer_id__in=_segment_customers(segment_id))
    if cell is not None and cell.score is not None:
        qs = qs.filter(score=cell.score)
    if cell is not None and cell.scale is not None:
        qs = qs.filter(survey_id__in=_surveys_on_scale(cell.scale))
    return qs


def _visible_q(visibility: Visibility) -> Q:
    """`Visibility.linked_q` as a correlated EXISTS: with `IN (visible conversations)` PostgreSQL hashes
    the subquery only while it fits in memory, and for an agent of a big team it did not, which turned a
    two-year read of two million answers into a 20-minute scan. Same rule, a lookup per answer."""
    if visibility.sees_all:
        return Q()
    seen = visibility.conversations().filter(pk=OuterRef("conversation_id"))
    return Q(conversation_id__isnull=True) | Q(Exists(seen))


def _segment_customers(segment_id: int) -> QuerySet[Any, Any]:
    from profiles.models import Segment
    from profiles.segments import SegmentError, customers_in_segment

    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return Conversation.objects.none().values("customer_id")
    try:
        return customers_in_segment(segment).order_by().values("id")
    except SegmentError:
        return Conversation.objects.none().values("customer_id")


def _surveys_on_scale(key: str) -> list[int]:
    return [pk for pk, s in _surveys().items() if scoring.scale_of(s.kind, s.scale_max).key == key]


_FACT_HISTOGRAM = {
    **{
        column: Count("pk", filter=Q(score=value))
        for column, value in zip(SCORE_COLUMNS, SCORE_VALUES, strict=True)
    },
    "comments": Count("pk", filter=Q(has_comment=True)),
}
_CELL_HISTOGRAM = {**{column: Sum(column) for column in SCORE_COLUMNS}, "comments": Sum("comments")}


def _cells(filters: Any, start: datetime, end: datetime) -> QuerySet[AnswerCell]:
    runs = Q()
    for grain, lo, hi in periods.decompose(start, end):
        runs |= Q(grain=periods.GRAIN_CODES[grain], period_start__gte=lo, period_start__lt=hi)
    if not runs:
        return AnswerCell.objects.none()
    return AnswerCell.objects.filter(runs, _dims_q(filters))


def _histograms(filters: Any, visibility: Visibility, group: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One query: per survey (and `group` fields) the counts per score and of comments."""
    fields = tuple(dict.fromkeys(("survey_id", *group)))
    if _needs_facts(filters, visibility):
        qs: QuerySet[Any] = facts(filters, visibility).values(*fields).annotate(**_FACT_HISTOGRAM)
    else:
        qs = _cells(filters, filters.start, filters.end).values(*fields).annotate(**_CELL_HISTOGRAM)
    return list(qs.order_by())


def _fold(
    rows: Iterable[Mapping[str, Any]], surveys: Mapping[int, Survey], key: Any = None
) -> dict[Any, Tally]:
    tallies: dict[Any, Tally] = {}
    for row in rows:
        survey = surveys.get(row["survey_id"])
        if survey is None:  # deleted since the last refresh; its facts go with the next one
            continue
        tally = tallies.setdefault(key(row) if key else None, Tally())
        tally.add(survey, [row[column] or 0 for column in SCORE_COLUMNS], row["comments"] or 0)
    return tallies


def _scores(tally: Tally | None) -> Scores:
    return answer_scores.scores(tally or Tally())


# ---- the reading API ------------------------------------------------------------------------------


def answer_scores_for(filters: Any, visibility: Visibility) -> Scores:
    """NPS, CSAT (% satisfied and mean) and CES (mean, % low effort) with intervals and n; responses,
    comments, detractors and the distribution per scale. Two queries (surveys, histograms)."""
    return _scores(_fold(_histograms(filters, visibility), _surveys()).get(None))


@dataclass(frozen=True)
class ScoresWithChange:
    current: Scores
    previous: Scores
    changes: Changes


def answer_summary(filters: Any, visibility: Visibility) -> ScoresWithChange:
    """This range, the previous one of the same length, and whether each change is significant."""
    surveys = _surveys()
    current = _scores(_fold(_histograms(filters, visibility), surveys).get(None))
    previous = _scores(_fold(_histograms(filters.previous(), visibility), surveys).get(None))
    return ScoresWithChange(current, previous, answer_scores.changes(current, previous))


@dataclass(frozen=True)
class AnswerPoint:
    start: datetime  # aware, in the filter's time zone
    end: datetime
    scores: Scores


def answer_series(
    filters: Any, visibility: Visibility, *, step: Literal["day", "week", "month"] = "day"
) -> list[AnswerPoint]:
    """Scores per local day, ISO week or month of the filter's time zone. Two queries."""
    zone = filters.zone
    buckets = periods.local_buckets(filters.start, filters.end, zone, step)
    starts = [lo.astimezone(UTC) for lo, _hi in buckets]
    surveys = _surveys()

    def bucket_of(moment: datetime) -> int:
        return max(0, bisect_right(starts, moment.astimezone(UTC)) - 1)

    if _needs_facts(filters, visibility) or any(
        not (periods.is_whole_hour(lo) and periods.is_whole_hour(hi)) for lo, hi in buckets
    ):
        fact_rows = list(
            facts(filters, visibility)
            .annotate(local=Trunc("created_at", step, tzinfo=zone))
            .values("survey_id", "local")
            .annotate(**_FACT_HISTOGRAM)
            .order_by()
        )
        tallies = _fold(fact_rows, surveys, key=lambda row: bucket_of(max(row["local"], filters.start)))
    else:
        # Each bucket's own hours, days and months; a cell lies inside one bucket, found by its start.
        runs = Q()
        for grain, run_lo, run_hi in _merged_runs(buckets):
            runs |= Q(grain=periods.GRAIN_CODES[grain], period_start__gte=run_lo, period_start__lt=run_hi)
        cell_rows = list(
            AnswerCell.objects.filter(runs, _dims_q(filters))
            .values("survey_id", "period_start")
            .annotate(**_CELL_HISTOGRAM)
            .order_by()
        )
        tallies = _fold(cell_rows, surveys, key=lambda row: bucket_of(row["period_start"]))
    return [AnswerPoint(lo, hi, _scores(tallies.get(index))) for index, (lo, hi) in enumerate(buckets)]


def _merged_runs(buckets: list[tuple[datetime, datetime]]) -> list[tuple[periods.Grain, datetime, datetime]]:
    """Each bucket's hours, days and months, with touching runs of one grain joined: a year of local
    days in a zone off UTC is one run of hours, not 730."""
    pieces = sorted(
        (grain, lo.astimezone(UTC), hi.astimezone(UTC))
        for start, end in buckets
        for grain, lo, hi in periods.decompose(start, end)
    )
    merged: list[tuple[periods.Grain, datetime, datetime]] = []
    for grain, lo, hi in pieces:
        if merged and merged[-1][0] == grain and merged[-1][2] == lo:
            merged[-1] = (grain, merged[-1][1], hi)
        else:
            merged.append((grain, lo, hi))
    return merged


@dataclass(frozen=True)
class AnswerRow:
    key: int | str | None  # the id (channel, team, user, survey, segment) or value (medium, language)
    label: str
    scores: Scores


def answer_breakdown(filters: Any, visibility: Visibility, *, by: Dimension) -> list[AnswerRow]:
    """Scores per channel, medium, team, agent, survey or language, most answers first. Three queries
    (surveys, histograms, labels)."""
    field = DIMENSION_FIELDS[by]
    tallies = _fold(_histograms(filters, visibility, (field,)), _surveys(), key=lambda row: row[field])
    labels = _labels(by, [key for key in tallies if key not in (None, "")])
    rows = [AnswerRow(key, labels.get(key, ""), _scores(tally)) for key, tally in tallies.items()]
    return sorted(rows, key=lambda row: (-row.scores.responses, str(row.label)))


def answer_breakdown_by_segment(
    filters: Any, visibility: Visibility, *, segment_ids: Iterable[int]
) -> list[AnswerRow]:
    """Scores of the answers of each segment's customers (raw rows: a segment is not a dimension of
    the rollups). One query per segment, plus two."""
    from profiles.models import Segment

    surveys = _surveys()
    out = []
    for segment in Segment.objects.filter(pk__in=list(segment_ids)).order_by("name"):
        rows = (
            facts(filters, visibility, AnswerCellFilter(segment_id=segment.pk))
            .values("survey_id")
            .annotate(**_FACT_HISTOGRAM)
            .order_by()
        )
        out.append(AnswerRow(segment.pk, segment.name, _scores(_fold(rows, surveys).get(None))))
    return out


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    from accounts.models import Team, User
    from channels_app.models import Channel
    from surveys.invitation_models import medium_choices

    if by == "channel":
        return {c.pk: c.name for c in Channel.objects.filter(pk__in=keys)}
    if by == "team":
        return {t.pk: t.name for t in Team.objects.filter(pk__in=keys)}
    if by == "agent":
        return {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=keys)}
    if by == "survey":
        return {s.pk: s.name for s in Survey.objects.filter(pk__in=keys)}
    if by == "medium":
        return {value: str(label) for value, label in medium_choices() if value in keys}
    return {key: key for key in keys}


# ---- drill-down and comments ----------------------------------------------------------------------

MEASURES = ("responses", "answers", "comments", "nps", "promoters", "passives", "nps_detractors", "csat",
            "csat_satisfied", "ces", "ces_low_effort", "detractors")  # fmt: skip


def _scores_where(surveys: Mapping[int, Survey], keep: Any) -> Q:
    """Answers whose (survey, score) the rule `keep(survey, score)` accepts: the Python rules of
    surveys.scoring turned into (survey, scores) pairs, so the drill applies exactly the rule the
    number was counted with."""
    q = Q(pk__in=[])
    for pk, survey in surveys.items():
        scores = [score for score in SCORE_VALUES if keep(survey, score)]
        if scores:
            q |= Q(survey_id=pk, score__in=scores)
    return q


_MEASURE_RULES: dict[str, Any] = {
    "responses": None,
    "answers": None,  # the same as "responses" (the exports' name)
    "comments": None,
    "nps": lambda s, v: s.kind == scoring.NPS,
    "promoters": lambda s, v: s.kind == scoring.NPS and scoring.nps_group(v) == "promoter",
    "passives": lambda s, v: s.kind == scoring.NPS and scoring.nps_group(v) == "passive",
    "nps_detractors": lambda s, v: s.kind == scoring.NPS and scoring.nps_group(v) == "detractor",
    "csat": lambda s, v: s.kind == scoring.CSAT,
    "csat_satisfied": lambda s, v: scoring.is_satisfied(s.kind, s.scale_max, v),
    "ces": lambda s, v: s.kind == scoring.CES,
    "ces_low_effort": lambda s, v: s.kind == scoring.CES and scoring.is_low_effort(v),
    "detractors": lambda s, v: scoring.is_detractor(s, v),
}
_GROUP_RULES: dict[str, Any] = {
    "promoter": _MEASURE_RULES["promoters"],
    "passive": _MEASURE_RULES["passives"],
    "nps_detractor": _MEASURE_RULES["nps_detractors"],
    "satisfied": _MEASURE_RULES["csat_satisfied"],
    "unsatisfied": lambda s, v: s.kind == scoring.CSAT and not scoring.is_satisfied(s.kind, s.scale_max, v),
    "low_effort": _MEASURE_RULES["ces_low_effort"],
    "high_effort": lambda s, v: s.kind == scoring.CES and not scoring.is_low_effort(v),
    "detractor": _MEASURE_RULES["detractors"],
}


def drill_facts(
    filters: Any, visibility: Visibility, measure: str, cell: AnswerCellFilter | None = None
) -> QuerySet[AnswerFact]:
    if measure not in _MEASURE_RULES:
        raise ValueError(f"unknown answer measure {measure!r}")
    qs = facts(filters, visibility, cell)
    if measure == "comments":
        return qs.filter(has_comment=True)
    rule = _MEASURE_RULES[measure]
    return qs if rule is None else qs.filter(_scores_where(_surveys(), rule))


def drill_answers(
    filters: Any, visibility: Visibility, measure: str, cell: AnswerCellFilter | None = None
) -> QuerySet[SurveyResponse]:
    """The answers behind a number: its count equals the number (`responses`, `comments`, the n of
    `nps`/`csat`/`ces`, `promoters`, `passives`, `nps_detractors`, `csat_satisfied`, `ces_low_effort`,
    `detractors`), newest first."""
    behind = drill_facts(filters, visibility, measure, cell).values("pk")
    return visibility.linked(SurveyResponse.objects.filter(pk__in=behind)).order_by("-created_at", "-pk")


def comments(
    filters: Any,
    visibility: Visibility,
    *,
    group: str = "",
    text: str = "",
    cell: AnswerCellFilter | None = None,
) -> QuerySet[SurveyResponse]:
    """Verbatim comments, newest first: the filters (survey, channel, … through `filters` and `cell`), a
    score group (`GROUPS`) and a text search (case-insensitive, anywhere in the comment)."""
    qs = drill_answers(filters, visibility, "comments", cell)
    if group:
        if group not in _GROUP_RULES:
            raise ValueError(f"unknown score group {group!r}")
        qs = qs.filter(_scores_where(_surveys(), _GROUP_RULES[group]))
    if text.strip():
        qs = qs.filter(comment__icontains=text.strip())
    return qs.select_related("survey", "channel", "customer")
