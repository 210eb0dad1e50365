"""The row-level answer export: one row per survey answer a dashboard view stands on.

The answers are the answer side's drill of the view's filters (through the viewer's visibility). The
group column (promoter, satisfied, low effort…) comes from surveys.scoring, the one definition the
dashboards use. Channel, team and agent follow the answer store's rule (analytics/answer_models.py):
the channel and team of the answer's conversation (the answer's own channel when it has none), the
agent recorded on the answer or else the conversation's assignee.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from analytics import exports_cursor
from surveys import scoring
from surveys.models import Medium, SurveyKind, SurveyResponse

_FIELDS = (
    "pk",
    "created_at",
    "survey__name",
    "survey__kind",
    "survey__scale_max",
    "score",
    "comment",
    "customer__name",
    "conversation__channel__name",
    "channel__name",
    "medium",
    "locale",
    "agent__first_name",
    "agent__last_name",
    "agent__username",
    "conversation__assignee__first_name",
    "conversation__assignee__last_name",
    "conversation__assignee__username",
    "conversation__team__name",
    "conversation_id",
)


def headers() -> list[str]:
    return [
        _("ID"),
        _("Survey"),
        _("Score"),
        _("Group"),
        _("Comment"),
        _("Customer"),
        _("Channel"),
        _("Answered through"),
        _("Language"),
        _("Agent"),
        _("Team"),
        _("Conversation"),
        _("Answered at"),
    ]


def group(kind: str, scale_max: int | None, score: int) -> str:
    try:
        return _group(kind, scale_max, score)
    except ValueError:  # a score outside its scale (imported data): no group rather than no export
        return ""


def _group(kind: str, scale_max: int | None, score: int) -> str:
    if kind == SurveyKind.NPS:
        return {
            "promoter": pgettext("NPS group", "Promoter"),
            "passive": pgettext("NPS group", "Passive"),
            "detractor": pgettext("NPS group", "Detractor"),
        }[scoring.nps_group(score)]
    if kind == SurveyKind.CSAT:
        satisfied = scoring.is_satisfied(kind, scale_max, score)
        return pgettext("CSAT group", "Satisfied") if satisfied else pgettext("CSAT group", "Not satisfied")
    if kind == SurveyKind.CES:
        low = scoring.is_low_effort(score)
        return pgettext("CES group", "Low effort") if low else pgettext("CES group", "Not low effort")
    return ""


def rows(answers: QuerySet[SurveyResponse], *, base_url: str, page: int = 0) -> Iterator[Sequence[Any]]:
    media = {value: str(label) for value, label in Medium.choices}  # translated once
    groups: dict[tuple[str, int | None, int], str] = {}
    link = base_url + reverse("conversation_detail", args=[0])[:-2]

    def build(chunk: list[tuple[Any, ...]]) -> Iterator[Sequence[Any]]:
        for row in chunk:
            (pk, created, survey, kind, scale_max, score, comment, customer, conversation_channel, channel,
             medium, locale, first, last, username, c_first, c_last, c_username, team,
             conversation_id) = row  # fmt: skip
            agent = _name(first, last, username) or _name(c_first, c_last, c_username)
            yield [
                pk,
                survey,
                score,
                groups.get((kind, scale_max, score))
                or groups.setdefault((kind, scale_max, score), group(kind, scale_max, score)),
                comment,
                customer or "",
                conversation_channel or channel or "",
                media.get(medium, medium),
                locale,
                agent,
                team or "",
                f"{link}{conversation_id}/" if conversation_id else "",
                created,
            ]

    return exports_cursor.rows(answers, fields=_FIELDS, build=build, size=page)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(p for p in (first, last) if p) or username or ""
