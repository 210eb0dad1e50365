"""Server-rendered SVG charts: horizontal bars, lines with interval bands, and the hour-of-week heat map.

Charts are drawn on the server so pages need no front-end build and print exactly as they show. Every
mark that stands for a number is a link to the rows behind it (the drill-down), focusable with the
keyboard, with a <title> that reads the number out. Colours come from CSS classes (static/css/
dashboards.css), so the print stylesheet can switch them to ink-friendly ones. The same data is always
also rendered as a table by the template that embeds the chart: a chart is never the only way to read a
number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# viewBox widths, close to the width each chart gets on a 1280 px screen, so 11 px text stays 11 px:
# bars sit in half-width cards, lines and the heat map across the page.
BAR_WIDTH = 480
WIDE = 960
LABEL_WIDTH = 168
VALUE_WIDTH = 64
ROW_HEIGHT = 26
BAR_HEIGHT = 16
LABEL_CHARS = 24
LINE_HEIGHT = 220
PLOT_LEFT = 48
PLOT_RIGHT = 12
PLOT_TOP = 12
PLOT_BOTTOM = 28
MAX_X_LABELS = 7
HEAT_LEVELS = 5


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    display: str = ""  # the value as the page shows it ("42 %", "1 h 5 min"); defaults to the number
    href: str = ""
    small: bool = False  # a small sample: drawn hatched, not as a fact


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    display: str = ""
    href: str = ""
    small: bool = False


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]
    css: str = "chart-series-1"


@dataclass(frozen=True)
class HeatCell:
    value: float
    display: str = ""
    href: str = ""


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _link(href: str, title: str, body: str, *, focusable: bool = True) -> str:
    """A mark wrapped in a link when it has one; the <title> is what a screen reader and a hover show.

    The heat map's 168 cells are left out of the tab order (`focusable=False`): the table beside it
    holds the same links, and nobody should have to tab through a week of hours to get past it."""
    inner = format_html("<title>{}</title>", title) + mark_safe(body)  # noqa: S308 (built here, escaped)
    if not href:
        return format_html("<g>{}</g>", inner)
    if not focusable:
        return format_html('<a href="{}" class="chart-link" tabindex="-1">{}</a>', href, inner)
    return format_html('<a href="{}" class="chart-link">{}</a>', href, inner)


def _svg(width: int, view_height: float, title: str, body: str, css: str) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="group" aria-label="{}" '
        'preserveAspectRatio="xMinYMin meet">'
        "{}</svg>",
        css,
        width,
        _fmt(view_height),
        title,
        mark_safe(body),  # noqa: S308 (every piece escaped where it was built)
    )


def bar_chart(
    bars: Sequence[Bar], *, title: str, max_value: float | None = None, width: int = BAR_WIDTH
) -> SafeString:
    """One row per bar, the label on the left and the value at the bar's end; empty values drawn as —."""
    values = [b.value for b in bars if b.value is not None]
    top = max_value if max_value is not None else max([abs(v) for v in values] or [0])
    top = top or 1.0
    span = width - LABEL_WIDTH - VALUE_WIDTH
    parts: list[str] = []
    for index, bar in enumerate(bars):
        y = index * ROW_HEIGHT
        shown = bar.display or ("—" if bar.value is None else _fmt(bar.value))
        label = format_html(
            '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
            LABEL_WIDTH - 8,
            y + ROW_HEIGHT / 2 + 4,
            _short(bar.label),
        )
        length = 0.0 if bar.value is None else max(0.0, abs(bar.value)) / top * span
        css = "chart-bar chart-bar--small" if bar.small else "chart-bar"
        rect = format_html(
            '<rect class="{}" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>',
            css,
            LABEL_WIDTH,
            _fmt(y + (ROW_HEIGHT - BAR_HEIGHT) / 2),
            _fmt(round(max(length, 1.5 if bar.value else 0), 1)),
            BAR_HEIGHT,
        )
        value = format_html(
            '<text class="chart-value" x="{}" y="{}">{}</text>',
            _fmt(round(LABEL_WIDTH + length + 6, 1)),
            y + ROW_HEIGHT / 2 + 4,
            shown,
        )
        parts.append(label + _link(bar.href, f"{bar.label}: {shown}", rect + value))
    return _svg(width, max(len(bars), 1) * ROW_HEIGHT, title, "".join(parts), "chart--bars")


def _nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step / 2:
        ticks.append(round(value, 6))
        value += step
    return ticks


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_min: float | None = None,
    y_max: float | None = None,
    width: int = WIDE,
) -> SafeString:
    """Lines over shared x labels (each series the same length), with a shaded interval band where a
    point has low/high. A missing value breaks the line instead of pretending it was zero."""
    points = [p for s in series for p in s.points]
    numbers = [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    low = y_min if y_min is not None else min(numbers or [0])
    high = y_max if y_max is not None else max(numbers or [1])
    ticks = _nice_ticks(min(low, 0) if y_min is None and low >= 0 else low, high)
    low, high = ticks[0], ticks[-1]
    count = max((len(s.points) for s in series), default=0)
    plot_w = width - PLOT_LEFT - PLOT_RIGHT
    plot_h = LINE_HEIGHT - PLOT_TOP - PLOT_BOTTOM

    def x(i: int) -> float:
        return PLOT_LEFT + (plot_w / 2 if count <= 1 else i * plot_w / (count - 1))

    def y(v: float) -> float:
        return PLOT_TOP + plot_h - (v - low) / ((high - low) or 1) * plot_h

    parts: list[str] = []
    for tick in ticks:
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                PLOT_LEFT,
                width - PLOT_RIGHT,
                _fmt(round(y(tick), 1)),
                _fmt(round(y(tick), 1)),
                PLOT_LEFT - 6,
                _fmt(round(y(tick) + 4, 1)),
                _fmt(tick),
            )
        )
    labels = series[0].points if series else []
    every = max(1, math.ceil(count / MAX_X_LABELS))
    for i, point in enumerate(labels):
        if i % every == 0 or i == count - 1:
            parts.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _fmt(round(x(i), 1)),
                    LINE_HEIGHT - 8,
                    point.label,
                )
            )
    for one in series:
        parts.append(_band(one, x, y))
        parts.append(_polyline(one, x, y))
        for i, point in enumerate(one.points):
            if point.value is None:
                continue
            shown = point.display or _fmt(point.value)
            css = f"chart-point {one.css}" + (" chart-point--small" if point.small else "")
            dot = format_html(
                '<circle class="{}" cx="{}" cy="{}" r="4"></circle>',
                css,
                _fmt(round(x(i), 1)),
                _fmt(round(y(point.value), 1)),
            )
            parts.append(_link(point.href, f"{one.name}, {point.label}: {shown}", dot))
    return _svg(width, LINE_HEIGHT, title, "".join(parts), "chart--line")


def _runs(points: Sequence[Point], has: Callable[[Point], bool]) -> list[list[int]]:
    runs: list[list[int]] = [[]]
    for i, point in enumerate(points):
        if has(point):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _polyline(one: Series, x: Callable[[int], float], y: Callable[[float], float]) -> str:
    out = []
    for run in _runs(one.points, lambda p: p.value is not None):
        coords = " ".join(f"{x(i):.1f},{y(one.points[i].value or 0):.1f}" for i in run)
        out.append(format_html('<polyline class="chart-line {}" points="{}"></polyline>', one.css, coords))
    return "".join(out)


def _band(one: Series, x: Callable[[int], float], y: Callable[[float], float]) -> str:
    out = []
    for run in _runs(one.points, lambda p: p.low is not None and p.high is not None):
        upper = [f"{x(i):.1f},{y(one.points[i].high or 0):.1f}" for i in run]
        lower = [f"{x(i):.1f},{y(one.points[i].low or 0):.1f}" for i in reversed(run)]
        out.append(
            format_html(
                '<polygon class="chart-band {}" points="{}"></polygon>', one.css, " ".join(upper + lower)
            )
        )
    return "".join(out)


def heat_map(
    rows: Sequence[Sequence[HeatCell]], *, title: str, row_labels: Sequence[str], column_labels: Sequence[str]
) -> SafeString:
    """A grid (hour of week: 7 rows by 24 columns) shaded in HEAT_LEVELS steps of the largest value.

    Steps rather than a continuous scale: they survive a black-and-white printout (the print stylesheet
    maps them to grey levels) and the number is in each cell's title and in the table beside it.
    """
    columns = max((len(r) for r in rows), default=0) or 1
    left = 44
    cell_w = (WIDE - left) / columns
    cell_h = 22
    top = max((c.value for r in rows for c in r), default=0) or 1
    parts: list[str] = []
    for j, label in enumerate(column_labels):
        if j % 3 == 0:
            parts.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="12" text-anchor="middle">{}</text>',
                    _fmt(round(left + (j + 0.5) * cell_w, 1)),
                    label,
                )
            )
    for i, row in enumerate(rows):
        y = 18 + i * cell_h
        parts.append(
            format_html(
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                left - 6,
                _fmt(y + cell_h / 2 + 4),
                row_labels[i] if i < len(row_labels) else "",
            )
        )
        for j, cell in enumerate(row):
            level = 0 if cell.value <= 0 else max(1, math.ceil(cell.value / top * HEAT_LEVELS))
            shown = cell.display or _fmt(cell.value)
            rect = format_html(
                '<rect class="heat heat-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                level,
                _fmt(round(left + j * cell_w + 1, 1)),
                _fmt(y + 1),
                _fmt(round(cell_w - 2, 1)),
                cell_h - 2,
            )
            row_name = row_labels[i] if i < len(row_labels) else ""
            name = f"{row_name} {column_labels[j] if j < len(column_labels) else ''}"
            parts.append(_link(cell.href, f"{name.strip()}: {shown}", rect, focusable=False))
    return _svg(WIDE, 18 + len(rows) * cell_h, title, "".join(parts), "chart--heat")
