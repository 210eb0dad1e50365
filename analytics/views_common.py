"""What every dashboard page shares: the filters from the URL, the filter bar's choices, drill-down
links, and the formatting of numbers (durations, shares, changes) in the viewer's language.

Pages only lay out what the reading API (analytics/reporting.py, analytics/answer_reporting.py)
returns: no page computes a number itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from analytics.filters import DashboardFilters
from channels_app.models import Channel
from profiles.models import Segment
from surveys.models import Survey
from tickets.models import Label
from tickets.visibility import Visibility, visibility_for

# The zones offered besides the viewer's own and the server's; any IANA name typed into the URL works.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Warsaw",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Almaty",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
PRESET_LABELS = (
    ("today", gettext_lazy("Today")),
    ("7d", gettext_lazy("Last 7 days")),
    ("30d", gettext_lazy("Last 30 days")),
    ("this_month", gettext_lazy("This month")),
    ("last_month", gettext_lazy("Last month")),
    ("quarter", gettext_lazy("This quarter")),
    ("year", gettext_lazy("This year")),
    ("custom", gettext_lazy("Custom")),
)
# A drill cell of answers without a medium or language (an empty parameter would mean "any").
NONE_TEXT = "-"
# Cell parameters of a drill-down link: which bar, row or heat-map cell it narrows to.
CELL_PARAMS = (
    "cell_start",
    "cell_end",
    "cell_channel",
    "cell_team",
    "cell_agent",
    "cell_weekday",
    "cell_hour",
)


@dataclass(frozen=True)
class Page:
    """One request's dashboard: who asks, what they may see, and what they filtered."""

    filters: DashboardFilters
    visibility: Visibility
    query: str  # the filters as a query string, for links that keep them


def page_for(request: HttpRequest, **fixed: Any) -> Page:
    filters = DashboardFilters.from_query(request.GET, request.user)
    if fixed:
        filters = filters.replace(**fixed)
    return Page(filters, visibility_for(request.user), filters.to_query())  # type: ignore[arg-type]


@dataclass(frozen=True)
class FilterChoices:
    channels: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    agents: list[tuple[int, str]]
    segments: list[tuple[int, str]]
    surveys: list[tuple[int, str]]
    labels: list[tuple[int, str]]
    languages: list[tuple[str, str]]
    zones: list[str]
    presets: tuple[tuple[str, Any], ...]


def filter_choices(filters: DashboardFilters) -> FilterChoices:
    """What the filter bar offers: six small queries, whatever the page."""
    agents = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    zones = list(COMMON_ZONES)
    for extra in (settings.TIME_ZONE, filters.tz):
        if extra not in zones:
            zones.insert(0, extra)
    return FilterChoices(
        channels=list(Channel.objects.order_by("name").values_list("id", "name")),
        teams=list(Team.objects.order_by("name").values_list("id", "name")),
        agents=[(u.pk, u.display_name) for u in agents.only("id", "first_name", "last_name", "username")],
        segments=list(Segment.objects.order_by("name").values_list("id", "name")),
        surveys=list(Survey.objects.order_by("name").values_list("id", "name")),
        labels=list(Label.objects.order_by("name").values_list("id", "name")),
        languages=[(code, str(name)) for code, name in settings.LANGUAGES],
        zones=zones,
        presets=PRESET_LABELS,
    )


def drill_url(
    page: Page,
    measure: str,
    *,
    answers: bool = False,
    follow_ups: bool = False,
    invitations: bool = False,
    **cell: Any,
) -> str:
    """The list behind a number: its measure and the cell (bar, row, heat-map cell) it narrows to:
    conversations, or with a flag answers, follow-ups or survey invitations."""
    name = "dashboards_drill_answers" if answers else "dashboards_drill"
    if follow_ups:
        name = "dashboards_drill_follow_ups"
    if invitations:
        name = "dashboards_drill_invitations"
    params: dict[str, Any] = {"measure": measure}
    for key, value in cell.items():
        if value is None:
            continue
        params[f"cell_{key}"] = value.isoformat() if isinstance(value, datetime) else value
    extra = urlencode(params)
    return f"{reverse(name)}?{page.query}&{extra}" if page.query else f"{reverse(name)}?{extra}"


def with_query(name: str, page: Page) -> str:
    return f"{reverse(name)}?{page.query}" if page.query else reverse(name)


# --- Formatting -----------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": round(seconds)}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


def share(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    # number_format cuts digits off (45.94 -> "45"); round first so 45.94 reads "46".
    return f"{number_format(round(value * 100, digits), digits)} %"


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return number_format(round(value, digits), digits, force_grouping=True)


def step_for(filters: DashboardFilters) -> Literal["day", "week", "month"]:
    """Series step that keeps a chart readable: days up to two months, then weeks, then months."""
    days = (filters.end - filters.start).days
    if days <= 62:
        return "day"
    if days <= 370:
        return "week"
    return "month"
