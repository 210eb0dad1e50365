"""The row-level conversation export: one row per conversation a dashboard view stands on.

The conversations are the reading API's drill of the view's filters (analytics.reporting.drill with
"created"), so the export holds exactly the conversations the dashboard counts as new in the range,
through the viewer's visibility. Times, SLA breaches and the latest scores come from the reporting
store's facts (one definition, the dashboards' own), read per page in one query, as are the labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from analytics import exports_cursor
from analytics.models import ConversationFact
from tickets.models import Conversation, ConversationStatus

_FIELDS = (
    "pk",
    "created_at",
    "customer__name",
    "channel__name",
    "team__name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "status",
    "subject",
)
# (fact field, header) in column order; seconds are whole seconds.
_FACT_FIELDS = (
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
    "reopen_count",
    "breaches_first_response",
    "breaches_next_response",
    "breaches_resolution",
    "csat_score",
    "nps_score",
    "ces_score",
)


def headers() -> list[str]:
    return [
        _("ID"),
        _("Link"),
        _("Subject"),
        _("Customer"),
        _("Channel"),
        _("Team"),
        _("Agent"),
        _("Status"),
        _("Labels"),
        _("Created"),
        _("First response (s)"),
        _("First response, business hours (s)"),
        _("Resolution (s)"),
        _("Resolution, business hours (s)"),
        _("Reopened (times)"),
        _("SLA breach: first response"),
        _("SLA breach: next response"),
        _("SLA breach: resolution"),
        _("CSAT"),
        _("NPS"),
        _("CES"),
    ]


def rows(conversations: QuerySet[Conversation], *, base_url: str, page: int = 0) -> Iterator[Sequence[Any]]:
    statuses = {value: str(label) for value, label in ConversationStatus.choices}  # translated once
    link = base_url + reverse("conversation_detail", args=[0])[:-2]

    def build(chunk: list[tuple[Any, ...]]) -> Iterator[Sequence[Any]]:
        ids = [row[0] for row in chunk]
        labels = _labels(ids)
        facts = {
            fact[0]: fact[1:]
            for fact in ConversationFact.objects.filter(pk__in=ids).values_list("pk", *_FACT_FIELDS)
        }
        empty = (None,) * len(_FACT_FIELDS)
        for pk, created, customer, channel, team, first, last, username, status, subject in chunk:
            agent = " ".join(p for p in (first, last) if p) or username or ""
            fact = facts.get(pk, empty)
            yield [
                pk,
                f"{link}{pk}/",
                subject,
                customer or "",
                channel or "",
                team or "",
                agent,
                statuses.get(status, status),
                "; ".join(labels.get(pk, ())),
                created,
                *(_whole(value) for value in fact[:4]),
                *fact[4:],
            ]

    return exports_cursor.rows(conversations, fields=_FIELDS, build=build, size=page)


def _labels(ids: list[int]) -> dict[int, list[str]]:
    through = Conversation.labels.through
    found: dict[int, list[str]] = {}
    pairs = through.objects.filter(conversation_id__in=ids).order_by("label__name")
    for conversation_id, name in pairs.values_list("conversation_id", "label__name"):
        found.setdefault(conversation_id, []).append(name)
    return found


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)
