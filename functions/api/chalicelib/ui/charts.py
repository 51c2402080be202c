"""The dashboard's charts as inline SVG drawn by the server (no script, no chart library): this
module computes everything a template needs as plain numbers (the nice axis maximum and its ticks,
each bar's position and length, labels cut to fit: the full text goes in the bar's ``<title>``).
Every function is pure; the numbers come from ``crm.analytics.service``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from crm.analytics.service import ENGAGEMENT, Pipeline, SourceCount
from crm.campaigns.models import Campaign

__all__ = ["ENGAGEMENT"]

#: A single-series bar's colour (the UI's primary, --c-primary in static/ui.css).
BAR_COLOUR = "#2451c4"
#: Each engagement series' colour. The colour is drawn as the bar's own ``fill`` attribute
#: (templates/ui_macros.html ``chart``); no style sheet rule may set a bar's fill, or every series
#: would take that one colour (tests/unit/test_dashboard_charts.py checks both).
ENGAGEMENT_COLOURS = {  # Okabe-Ito: told apart with colour-blindness too
    "sent": "#0072b2",
    "delivered": "#009e73",
    "opened": "#e69f00",
    "clicked": "#cc79a7",
    "bounced": "#d55e00",
}


# ------------------------------------------------------------------------------ geometry

WIDTH = 480  # viewBox width; the SVG scales to its box (width: 100%)
PAD = 4
VALUE_ROOM = 64  # right of the longest bar, for its value
LABEL_CHARS = 44
ROW = 38  # a label line and its bar
BAR = 14
AXIS = 24  # tick labels under the bars
GROUP_BAR = 10
GROUP_GAP = 4
LEGEND = 26


def nice_axis(largest: float, ticks: int = 4) -> tuple[int, list[int]]:
    """A round axis maximum at or above ``largest`` and its evenly spaced integer ticks (from 0).

    The step is 1, 2 or 5 times a power of ten (at least 1, these are counts), so 7 gives 8 with
    ticks 0, 2, 4, 6, 8; 0 gives 1 with ticks 0, 1."""
    if largest <= 0 or not math.isfinite(largest):
        return 1, [0, 1]
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= raw), 10 * power)
    step = max(1, int(step))
    top = int(math.ceil(largest / step) * step)
    return top, list(range(0, top + 1, step))


def compact(value: int) -> str:
    """A tick label: 950, 1.5k, 12k, 3M."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(value)


def _value_text(value: int) -> str:
    """A bar's value as drawn: in full up to a million (1,234), compact above (1.2M); the table and
    the bar's <title> have it in full."""
    return f"{value:,}" if value < 1_000_000 else compact(value)


def truncate(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` on one line, cut with an ellipsis when longer than ``limit`` characters."""
    flat = re.sub(r"\s+", " ", label).strip()
    return flat if len(flat) <= limit else flat[: max(1, limit - 1)].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    label: str  # the full text (the bar's <title>)
    short: str  # what fits
    value: int
    x: float
    y: float
    width: float
    height: float
    label_y: float
    value_x: float
    value_text: str
    href: str | None = None
    colour: str = BAR_COLOUR
    series: str = ""


@dataclass(frozen=True)
class Tick:
    value: int
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    desc: str
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    axis_max: int
    plot_top: float
    plot_bottom: float
    groups: list[Bar] = field(default_factory=list)  # group headings (grouped charts): label, y
    legend: list[tuple[str, str, float]] = field(default_factory=list)  # series, colour, x
    empty_text: str = ""

    @property
    def empty(self) -> bool:
        return not self.bars


def _scale(axis_max: int) -> float:
    return (WIDTH - 2 * PAD - VALUE_ROOM) / axis_max


def _ticks(axis_max: int, values: list[int]) -> list[Tick]:
    scale = _scale(axis_max)
    return [Tick(value=v, x=round(PAD + v * scale, 2), text=compact(v)) for v in values]


def bar_chart(
    title: str,
    items: Sequence[tuple[str, int, str | None]],
    *,
    empty_text: str = "Nothing to show yet.",
    unit: str = "",
) -> Chart:
    """Horizontal bars, one row each: the label above its bar, the value after it.

    ``items``: (label, value, link or None). Negative values count as 0."""
    values = [max(0, int(v)) for _, v, _ in items]
    axis_max, tick_values = nice_axis(max(values, default=0))
    scale = _scale(axis_max)
    bars = []
    for index, ((label, _, href), value) in enumerate(zip(items, values, strict=True)):
        top = PAD + index * ROW
        width = round(value * scale, 2)
        bars.append(
            Bar(
                label=label,
                short=truncate(label),
                value=value,
                x=PAD,
                y=top + 18,
                width=width,
                height=BAR,
                label_y=top + 13,
                value_x=round(PAD + width + 4, 2),
                value_text=_value_text(value) + unit,
                href=href,
            )
        )
    bottom = PAD + max(1, len(bars)) * ROW
    height = int(bottom + AXIS)
    total = sum(values)
    desc = (
        f"{len(bars)} bars; "
        + "; ".join(f"{b.label}: {b.value:,}" for b in bars[:20])
        + ("; more in the table." if len(bars) > 20 else ".")
        if bars
        else empty_text
    )
    if bars:
        desc = f"Total {total:,}. {desc}"
    return Chart(
        title=title,
        desc=desc,
        width=WIDTH,
        height=height,
        bars=bars,
        ticks=_ticks(axis_max, tick_values),
        axis_max=axis_max,
        plot_top=PAD,
        plot_bottom=bottom,
        empty_text=empty_text,
    )


def grouped_chart(
    title: str,
    groups: Sequence[tuple[str, Mapping[str, int], str | None]],
    series: Sequence[str] = ENGAGEMENT,
    colours: Mapping[str, str] = ENGAGEMENT_COLOURS,
    *,
    empty_text: str = "Nothing to show yet.",
) -> Chart:
    """Grouped horizontal bars: per group (label, {series: value}, link) a heading and one thin bar
    per series, with a legend on top."""
    values = [max(0, int(v.get(s, 0))) for _, v, _ in groups for s in series]
    axis_max, tick_values = nice_axis(max(values, default=0))
    scale = _scale(axis_max)
    legend_step = (WIDTH - 2 * PAD) / max(1, len(series))
    legend = [(s, colours.get(s, "#555"), round(PAD + i * legend_step, 2)) for i, s in enumerate(series)]
    group_height = 20 + len(series) * (GROUP_BAR + GROUP_GAP) + 8
    headings: list[Bar] = []
    bars: list[Bar] = []
    for index, (label, stats, href) in enumerate(groups):
        top = PAD + LEGEND + index * group_height
        headings.append(
            Bar(
                label=label,
                short=truncate(label),
                value=0,
                x=PAD,
                y=top,
                width=0,
                height=0,
                label_y=top + 14,
                value_x=0,
                value_text="",
                href=href,
            )
        )
        for position, name in enumerate(series):
            value = max(0, int(stats.get(name, 0)))
            width = round(value * scale, 2)
            y = top + 20 + position * (GROUP_BAR + GROUP_GAP)
            bars.append(
                Bar(
                    label=f"{label}, {name}",
                    short=name,
                    value=value,
                    x=PAD,
                    y=y,
                    width=width,
                    height=GROUP_BAR,
                    label_y=y + GROUP_BAR - 1,
                    value_x=round(PAD + width + 4, 2),
                    value_text=_value_text(value),
                    href=href,
                    colour=colours.get(name, "#555"),
                    series=name,
                )
            )
    bottom = PAD + LEGEND + max(1, len(groups)) * group_height
    desc = (
        "; ".join(
            f"{label}: " + ", ".join(f"{s} {max(0, int(v.get(s, 0))):,}" for s in series)
            for label, v, _ in groups
        )
        + "."
        if groups
        else empty_text
    )
    return Chart(
        title=title,
        desc=desc,
        width=WIDTH,
        height=int(bottom + AXIS),
        bars=bars,
        ticks=_ticks(axis_max, tick_values),
        axis_max=axis_max,
        plot_top=PAD + LEGEND,
        plot_bottom=bottom,
        groups=headings,
        legend=legend,
        empty_text=empty_text,
    )


# ------------------------------------------------------------------------------ the four panels


def pipeline_chart(pipeline: Pipeline) -> Chart:
    totals = pipeline.totals
    return bar_chart(
        "Pipeline: members per stage, all pools",
        [(stage, count, "/ui/pools") for stage, count in totals.items()],
        empty_text="No pool has members yet.",
    )


def sources_chart(sources: Sequence[SourceCount]) -> Chart:
    return bar_chart(
        "Candidates by source",
        [(s.source, s.count, f"/ui/candidates?{urlencode({'source': s.source})}") for s in sources],
        empty_text="No candidates yet.",
    )


def engagement_chart(campaigns: Sequence[Campaign]) -> Chart:
    return grouped_chart(
        "Recent campaigns: engagement",
        [
            (
                c.name,
                {s: int(getattr(c.stats, s)) for s in ENGAGEMENT},
                f"/ui/campaigns/{quote(c.id, safe='')}",
            )
            for c in campaigns
        ],
        empty_text="No campaigns yet.",
    )


def reminders_chart(buckets: Sequence[tuple[str, int]], *, at_least: bool = False) -> Chart:
    return bar_chart(
        "Your reminders by when they are due" + (" (the first 100)" if at_least else ""),
        [(name, count, "/ui/reminders") for name, count in buckets] if any(c for _, c in buckets) else [],
        empty_text="You have no reminders.",
    )
