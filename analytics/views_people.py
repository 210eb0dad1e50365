"""People: a table per agent and per team (volume, first response, resolution, CSAT with its interval,
reopen rate), and "My performance", each agent's own numbers and the praise customers wrote them."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import answer_reporting as ar
from analytics import reporting
from analytics.exports_tables import ExportTable, table_download
from analytics.views import breakdown_rows, conversation_headlines
from analytics.views_answers import score_headlines, score_row
from analytics.views_common import Page, drill_url, page_for
from analytics.views_render import render_dashboard

PRAISE_SHOWN = 20


def _with_scores(page: Page, by: Literal["team", "agent"]) -> list[dict]:
    """The conversation breakdown joined, row by row, with the answer breakdown of the same dimension
    (agent: the answer's agent; team: its conversation's team)."""
    rows = breakdown_rows(page, by)
    scores = {row.key or 0: row.scores for row in ar.answer_breakdown(page.filters, page.visibility, by=by)}  # type: ignore[arg-type]
    for row in rows:
        found = scores.get(row["key"] or 0)
        row["csat"] = (
            score_row(page, row["key"], row["label"], found, **{by: row["key"] or 0}) if found else None
        )
    return rows


def _table(key: str, title: str, dimension: str, rows: list[dict]) -> ExportTable:
    headers = [dimension, _("New"), _("Resolved"), _("First response, median"), _("Resolution, median"),
               _("CSAT, share satisfied"), _("Reopen rate")]  # fmt: skip
    body = [
        [
            r["label"] or _("(none)"),
            r["values"].created,
            r["values"].resolved,
            r["first_response"],
            r["resolution"],
            r["csat"]["csat"] if r["csat"] else "",
            r["reopen_rate"],
        ]
        for r in rows
    ]
    return ExportTable(key, title, headers, body)


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def people(request):
    page = page_for(request)
    agents, teams = _with_scores(page, "agent"), _with_scores(page, "team")
    tables = [
        _table("agents", _("Agents"), _("Agent"), agents),
        _table("teams", _("Teams"), _("Team"), teams),
    ]
    download = table_download(request, page.filters, tables)
    if download is not None:
        return download
    context = {"agents": agents, "teams": teams}
    return render_dashboard(request, page, "analytics/people.html", context, title=_("People"))


@require_GET
@requires(roles.WORK_INBOX)
def my_performance(request):
    """The signed-in user's own numbers: the agent filter is theirs whatever the URL says, and they are
    read through their own visibility like every other page."""
    page = page_for(request, agent_ids=(request.user.pk,))
    now = reporting.summary(page.filters, page.visibility)
    before = reporting.summary(page.filters.previous(), page.visibility)
    scores, _values = score_headlines(page)
    praise = ar.comments(page.filters, page.visibility, group="promoter")
    satisfied = ar.comments(page.filters, page.visibility, group="satisfied")
    kind_words = sorted(
        [*praise[:PRAISE_SHOWN], *satisfied[:PRAISE_SHOWN]], key=lambda c: c.created_at, reverse=True
    )
    context = {
        "headlines": [h for h in conversation_headlines(page, now, before) if h.key != "backlog"] + scores,
        "praise": kind_words[:PRAISE_SHOWN],
        "praise_href": drill_url(page, "comments", answers=True),
        "fixed_agent": True,
    }
    return render_dashboard(request, page, "analytics/me.html", context, title=_("My performance"))
