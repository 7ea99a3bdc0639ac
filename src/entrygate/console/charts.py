"""Charts as server-rendered SVG: no JavaScript, no build step, readable by screen readers.

Each chart is an ``<svg role="img">`` with a title and a one-sentence description; the page puts
the same numbers in a table next to it. Colours are the console's stylesheet classes, chosen for
contrast against white and told apart by more than hue (the legend names them).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 14, 28


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    css: str  # the stylesheet class that colours it
    values: Sequence[float]


def _nice_max(value: float, *, counts: bool = True) -> float:
    """A round top for the axis. Its quarters are the gridlines, so for counts each quarter is a
    whole, round number (a top of 4, 8, 20, 60 …, never 50 with gridlines at 12.5)."""
    target = max(value, 4.0 if counts else 0.0) / 4
    if target <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(target))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        quarter = step * magnitude
        if quarter >= target and (not counts or quarter == int(quarter)):
            return 4 * quarter
    return 40 * magnitude


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(chart_id: str, title: str, description: str, body: list[str], *, height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body) + "</svg>")


def _y_axis(top_value: float, plot_h: float, *, unit: str = "") -> list[str]:
    out = []
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(f'<line class="gridline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(_fmt(value) + unit)}</text>')
    return out


def stacked_columns(chart_id: str, title: str, description: str, labels: Sequence[datetime | str],
                    series: Sequence[Series], *, label_format: str = "%H:%M", label_every: int = 10) -> Markup:
    """Columns, one per label, with the series stacked (decisions per minute by outcome)."""
    n = max(len(labels), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    slot = plot_w / n
    bar = max(slot * 0.8, 1.0)
    body = _y_axis(top, plot_h)
    for i, label in enumerate(labels):
        x = LEFT + i * slot + (slot - bar) / 2
        base = TOP + plot_h
        for s in series:
            h = plot_h * s.values[i] / top
            if h > 0:
                base -= h
                body.append(f'<rect class="{s.css}" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                            f'<title>{escape(_label(label, label_format))}: {escape(s.name)} {_fmt(s.values[i])}'
                            f'</title></rect>')
        if i % label_every == 0:
            body.append(f'<text class="tick" x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                        f'{escape(_label(label, label_format))}</text>')
    return _frame(chart_id, title, description, body)


def columns(chart_id: str, title: str, description: str, labels: Sequence[str], values: Sequence[float], *,
            css: str = "bar", unit: str = "") -> Markup:
    """Plain columns with their value on top (a histogram, percentiles)."""
    n = max(len(labels), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 10
    top = _nice_max(max(values, default=0), counts=not unit)
    slot = plot_w / n
    bar = slot * 0.7
    body = _y_axis(top, plot_h, unit=unit)
    for i, (label, value) in enumerate(zip(labels, values)):
        x = LEFT + i * slot + (slot - bar) / 2
        h = plot_h * value / top
        y = TOP + plot_h - h
        body.append(f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"/>')
        body.append(f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                    f'{escape(_fmt(value) + unit)}</text>')
        body.append(f'<text class="tick" x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                    f'{escape(label)}</text>')
    return _frame(chart_id, title, description, body)


def bars(chart_id: str, title: str, description: str, items: Sequence[tuple[str, float]], *,
         css: str = "bar-deny") -> Markup:
    """Horizontal bars with a label each (denial reasons)."""
    row, label_w = 26, 210
    height = max(len(items), 1) * row + TOP + 8
    top = _nice_max(max((v for _, v in items), default=0))
    plot_w = WIDTH - label_w - RIGHT - 36
    body = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * row
        w = plot_w * value / top
        body.append(f'<text class="tick" x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">'
                    f'{escape(label)}</text>')
        body.append(f'<rect class="{css}" x="{label_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 8}"/>')
        body.append(f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + row / 2 + 4:.1f}">{_fmt(value)}</text>')
    if not items:
        body.append(f'<text class="tick" x="{LEFT}" y="{TOP + 16}">No denials in this window.</text>')
    return _frame(chart_id, title, description, body, height=height)


def _label(label: datetime | str, fmt: str) -> str:
    return label.strftime(fmt) if isinstance(label, datetime) else str(label)
