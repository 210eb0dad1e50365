"""The SVG charts and the target rules, without a database."""

from __future__ import annotations

import re

from analytics import charts
from analytics.targets import BY_KEY, TargetProgress


def test_bars_escape_labels_link_each_bar_and_read_out_the_value():
    svg = charts.bar_chart(
        [charts.Bar("<script>x</script>", 12, "12", "/d/?a=1&b=2"), charts.Bar("Mail", None)], title="Volume"
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<a ") == 1 and 'href="/d/?a=1&amp;b=2"' in svg
    assert "<title>&lt;script&gt;x&lt;/script&gt;: 12</title>" in svg
    assert ">—</text>" in svg  # no value is shown as a dash, not as a zero-length fact
    assert 'role="group" aria-label="Volume"' in svg


def test_bar_lengths_are_proportional():
    svg = charts.bar_chart([charts.Bar("a", 10), charts.Bar("b", 5)], title="t")
    widths = [float(w) for w in re.findall(r'<rect class="chart-bar" [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1]


def test_a_missing_point_breaks_the_line_and_bands_follow_the_interval():
    points = [
        charts.Point("1", 10, 5, 15),
        charts.Point("2", None),
        charts.Point("3", 20, 12, 28),
        charts.Point("4", 30, 25, 35, small=True),
    ]
    svg = charts.line_chart([charts.Series("NPS", points)], title="Scores")
    assert svg.count("<polyline") == 2  # 1 | 3-4
    assert svg.count("<polygon") == 2
    assert svg.count("<circle") == 3
    assert svg.count("chart-point--small") == 1


def test_heat_map_steps_and_cells():
    rows = [[charts.HeatCell(v, href=f"/d/?h={i}") for i, v in enumerate((0, 1, 5, 10))]]
    svg = charts.heat_map(rows, title="Heat", row_labels=["Mon"], column_labels=["00", "01", "02", "03"])
    levels = re.findall(r'class="heat heat-(\d)"', svg)
    assert levels == ["0", "1", "3", "5"]
    assert "<title>Mon 02: 5</title>" in svg


def test_target_progress_and_when_it_is_met():
    nps = BY_KEY["nps"]
    assert TargetProgress(nps, 40, 45).met is True
    assert TargetProgress(nps, 40, 39.9).met is False
    assert TargetProgress(nps, 40, 45, small=True).met is None
    assert TargetProgress(nps, 40, None).met is None
    assert TargetProgress(nps, 40, 10).percent == 79  # (10 + 100) / (40 + 100)
    first = BY_KEY["first_response"]
    assert TargetProgress(first, 60, 30).met is True
    assert TargetProgress(first, 60, 120).met is False
    assert TargetProgress(first, 60, 120).percent == 50
