"""The dashboard's chart geometry (chalicelib.ui.charts) and counts (crm.analytics.service): axis
maxima, bar lengths, labels, buckets."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from chalicelib.ui import charts as dashboard
from chalicelib.ui.charts import (
    PAD,
    VALUE_ROOM,
    WIDTH,
    bar_chart,
    compact,
    grouped_chart,
    nice_axis,
    truncate,
)
from chalicelib.ui.dev import email_links
from crm.analytics.service import (
    Pipeline,
    PoolStages,
    SourceCount,
    count_stages,
    order_stages,
    reminder_buckets,
)

PLOT = WIDTH - 2 * PAD - VALUE_ROOM  # the longest possible bar


@pytest.mark.parametrize(
    ("largest", "top", "ticks"),
    [
        (0, 1, [0, 1]),
        (1, 1, [0, 1]),
        (3, 3, [0, 1, 2, 3]),
        (7, 8, [0, 2, 4, 6, 8]),
        (10, 10, [0, 5, 10]),
        (101, 150, [0, 50, 100, 150]),
        (1_234_567, 1_500_000, [0, 500_000, 1_000_000, 1_500_000]),
    ],
)
def test_nice_axis(largest: int, top: int, ticks: list[int]) -> None:
    assert nice_axis(largest) == (top, ticks)


@pytest.mark.parametrize("largest", [1, 2, 5, 9, 11, 37, 99, 250, 999, 12_345, 10**9 + 7])
def test_nice_axis_always_covers_the_value_with_few_even_ticks(largest: int) -> None:
    top, ticks = nice_axis(largest)
    assert top >= largest and ticks[0] == 0 and ticks[-1] == top
    assert 2 <= len(ticks) <= 6
    assert len({b - a for a, b in pairwise(ticks)}) == 1


def test_compact_tick_labels() -> None:
    assert [compact(v) for v in (0, 950, 1000, 1500, 12_000, 2_500_000, 3_000_000_000)] == [
        "0",
        "950",
        "1k",
        "1.5k",
        "12k",
        "2.5M",
        "3G",
    ]


def test_empty_chart_has_no_bars_and_says_why() -> None:
    chart = bar_chart("Nothing", [], empty_text="No candidates yet.")
    assert chart.empty and chart.bars == []
    assert chart.desc == "No candidates yet." and chart.height > 0
    assert chart.axis_max == 1


def test_one_value_fills_the_plot() -> None:
    chart = bar_chart("One", [("linkedin", 4, "/ui/candidates?source=linkedin")])
    (bar,) = chart.bars
    assert chart.axis_max == 4 and bar.width == PLOT
    assert bar.value_x == PAD + PLOT + 4 and bar.value_text == "4"
    assert bar.href == "/ui/candidates?source=linkedin"
    assert "Total 4" in chart.desc and "linkedin: 4" in chart.desc


def test_bars_are_proportional_and_stacked_in_rows() -> None:
    chart = bar_chart("Stages", [("sourced", 8, None), ("interview", 2, None), ("offer", 0, None)])
    widths = [b.width for b in chart.bars]
    assert widths[0] == PLOT and widths[1] == pytest.approx(PLOT / 4) and widths[2] == 0
    ys = [b.y for b in chart.bars]
    assert ys == sorted(ys) and len(set(ys)) == 3
    assert all(b.label_y < b.y for b in chart.bars)  # the label sits above its bar
    assert chart.plot_bottom >= chart.bars[-1].y + chart.bars[-1].height
    assert chart.height > chart.plot_bottom  # room for the tick labels
    assert [t.x for t in chart.ticks][-1] == pytest.approx(PAD + PLOT)


def test_big_numbers_stay_inside_the_chart() -> None:
    chart = bar_chart("Big", [("a", 1_234_567_890, None), ("b", 1, None)])
    assert chart.bars[0].value_text == "1.2G" and chart.bars[0].value == 1_234_567_890
    assert bar_chart("Big", [("a", 999_999, None)]).bars[0].value_text == "999,999"
    assert all(b.x + b.width <= WIDTH - PAD - VALUE_ROOM + 0.01 for b in chart.bars)
    assert [t.text for t in chart.ticks] == ["0", "500M", "1G", "1.5G"]


def test_negative_values_count_as_zero() -> None:
    chart = bar_chart("Odd", [("minus", -5, None)])
    assert chart.bars[0].value == 0 and chart.bars[0].width == 0


def test_long_labels_are_cut_with_the_full_text_kept() -> None:
    label = "A very long pool name that would never fit on one line of a phone screen"
    chart = bar_chart("Long", [(label, 1, None)])
    bar = chart.bars[0]
    assert bar.label == label
    assert bar.short.endswith("…") and len(bar.short) <= dashboard.LABEL_CHARS
    assert truncate("short") == "short"
    assert truncate("two\n lines\there") == "two lines here"


def test_hostile_labels_are_kept_as_plain_text_for_the_template_to_escape() -> None:
    chart = bar_chart("Hostile", [("<script>alert(1)</script>", 1, None)])
    assert chart.bars[0].label == "<script>alert(1)</script>"  # escaping is the template's job


def test_grouped_chart_one_bar_per_series_with_a_legend() -> None:
    stats = {"sent": 100, "delivered": 90, "opened": 50, "clicked": 10, "bounced": 2}
    chart = grouped_chart("Campaigns", [("Spring", stats, "/ui/campaigns/c1"), ("Empty", {}, None)])
    assert [s for s, _, _ in chart.legend] == list(dashboard.ENGAGEMENT)
    assert len(chart.groups) == 2 and len(chart.bars) == 10
    spring = chart.bars[:5]
    assert [b.value for b in spring] == [100, 90, 50, 10, 2]
    assert spring[0].width == PLOT and spring[1].width == pytest.approx(PLOT * 0.9)
    assert len({b.colour for b in spring}) == 5
    assert all(b.value == 0 for b in chart.bars[5:])
    assert chart.groups[1].y > chart.bars[4].y  # the second group starts below the first
    assert "Spring: sent 100, delivered 90" in chart.desc


def test_grouped_chart_empty() -> None:
    chart = grouped_chart("Campaigns", [], empty_text="No campaigns yet.")
    assert chart.empty and chart.desc == "No campaigns yet."


def test_stages_in_pipeline_order_then_alphabetical() -> None:
    assert order_stages(["offer", "Zeta", "sourced", "alpha", "interview"]) == [
        "sourced",
        "interview",
        "offer",
        "alpha",
        "Zeta",
    ]


def test_pipeline_sums_the_pools() -> None:
    members = [{"pools": {"p1": "sourced"}}, {"pools": {"p1": "offer"}}, {"pools": {"p1": "sourced"}}, {}]
    counts = count_stages("p1", members)
    assert counts == {"sourced": 2, "offer": 1, "(no stage)": 1}
    pipeline = Pipeline(
        pools=[
            PoolStages("p1", "One", {"sourced": 2, "offer": 1}),
            PoolStages("p2", "Two", {"interview": 4}, truncated=True),
        ],
        more_pools=False,
    )
    assert pipeline.stages == ["sourced", "interview", "offer"]
    assert pipeline.totals == {"sourced": 2, "interview": 4, "offer": 1}
    assert pipeline.truncated
    chart = dashboard.pipeline_chart(pipeline)
    assert [(b.label, b.value) for b in chart.bars] == [("sourced", 2), ("interview", 4), ("offer", 1)]


def test_sources_chart_links_each_source() -> None:
    chart = dashboard.sources_chart([SourceCount("career site&x", 3), SourceCount("api", 1)])
    assert chart.bars[0].href == "/ui/candidates?source=career+site%26x"


def test_reminder_buckets() -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    due = [
        "2026-01-01T09:00:00Z",
        "2026-01-10T12:00:00Z",
        "2026-01-10T18:00:00.000000Z",
        "2026-01-15T09:00:00+00:00",
        "2026-03-01T09:00:00",
        "not a time",
    ]
    assert reminder_buckets(due, now) == [
        ("Due now", 3),
        ("In the next 24 hours", 1),
        ("In the next 7 days", 1),
        ("Later", 1),
    ]
    assert dashboard.reminders_chart(reminder_buckets([], now)).empty


def test_email_links_only_http() -> None:
    html = (
        '<a href="https://example.com/u?a=1&amp;b=2">Unsubscribe</a> <a href="javascript:alert(1)">x</a>'
        "<a href='http://example.com/portal'>Portal</a>"
    )
    text = "Unsubscribe: https://example.com/u?a=1&b=2\nPortal (http://example.com/portal)."
    assert email_links(html, text) == ["https://example.com/u?a=1&b=2", "http://example.com/portal"]
    assert email_links(None, None) == []
