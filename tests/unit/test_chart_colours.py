"""The campaign chart's series keep their own colours: each bar is drawn with its series' fill
(templates/ui_macros.html ``chart``), and no style sheet rule sets a chart bar's fill (such a rule
beat the SVG attributes and drew every series in one colour)."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.ui.charts import BAR_COLOUR, ENGAGEMENT_COLOURS, bar_chart, grouped_chart
from chalicelib.web.pages import TEMPLATES, environment
from crm.analytics.service import ENGAGEMENT

STYLE_SHEET = TEMPLATES.parent / "static" / "ui.css"
RECT = re.compile(r"<rect\b[^>]*>")


def _draw(chart: object) -> str:
    macros = environment().get_template("ui_macros.html").module
    return str(macros.chart(chart, "c"))  # type: ignore[attr-defined]


def _attr(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag)
    return found.group(1) if found else None


def test_each_series_is_drawn_in_its_own_colour() -> None:
    stats = {"sent": 120, "delivered": 110, "opened": 64, "clicked": 17, "bounced": 3}
    chart = grouped_chart("Recent campaigns", [("Spring", stats, None), ("Autumn", stats, None)])
    svg = _draw(chart)
    bars = [t for t in RECT.findall(svg) if 'class="bar"' in t]
    assert len(bars) == 2 * len(ENGAGEMENT)
    for tag in bars:
        series = _attr(tag, "data-series")
        assert series in ENGAGEMENT
        assert _attr(tag, "fill") == ENGAGEMENT_COLOURS[series], tag
    assert len({_attr(t, "fill") for t in bars}) == len(ENGAGEMENT)  # five series, five colours
    # the legend shows the same colour beside each series' name
    keys = {_attr(t, "data-series"): _attr(t, "fill") for t in RECT.findall(svg) if 'class="key"' in t}
    assert keys == {s: ENGAGEMENT_COLOURS[s] for s in ENGAGEMENT}
    assert 'style="' not in svg  # colours are attributes, not inline styles (CSP-friendly)


def test_a_single_series_chart_has_one_colour_set_on_each_bar() -> None:
    svg = _draw(bar_chart("Sources", [("referral", 3, None), ("api", 1, None)]))
    fills = [_attr(t, "fill") for t in RECT.findall(svg) if 'class="bar"' in t]
    assert fills == [BAR_COLOUR, BAR_COLOUR]


def _css_rules(css: str) -> list[tuple[str, str]]:
    """(selector, declarations) of every innermost rule (inside @media too), comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(m.group(1).strip(), m.group(2)) for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css)]


def _all_styles() -> dict[str, str]:
    sheets = {STYLE_SHEET.name: STYLE_SHEET.read_text(encoding="utf-8")}
    for template in sorted(Path(TEMPLATES).glob("*.html")):
        text = template.read_text(encoding="utf-8")
        # a page's own rules: a <style> element, or the layout's {% block styles %}
        blocks = re.findall(r"<style>(.*?)</style>", text, re.S)
        blocks += re.findall(r"\{% block styles %\}(.*?)\{% endblock %\}", text, re.S)
        for i, block in enumerate(blocks):
            sheets[f"{template.name}#{i}"] = re.sub(r"\{[%#].*?[%#]\}", "", block, flags=re.S)
    return sheets


def test_no_style_rule_sets_the_fill_of_a_chart_series() -> None:
    offending = []
    for name, css in _all_styles().items():
        for selector, body in _css_rules(css):
            if re.search(r"(^|;|\s)fill\s*:", body) and re.search(
                r"\.bar\b|\brect\b|\.key\b|data-series", selector
            ):
                offending.append(f"{name}: {selector} {{{body.strip()}}}")
    assert not offending, "a style rule overrides the series' colours:\n" + "\n".join(offending)


def test_the_check_would_catch_the_old_rule() -> None:
    rules = _css_rules("@media (min-width: 1px) { .chart .bar { fill: #0b5cad; } }")
    assert rules == [(".chart .bar", " fill: #0b5cad; ")]
