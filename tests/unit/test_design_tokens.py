"""The UI's colours meet WCAG AA: every text/background pair the style sheet uses (its tokens in
``:root`` and the few literal colours of components) has a contrast of at least 4.5:1 (3:1 for large
text and for the borders of controls, WCAG 1.4.11). The numbers are computed from static/ui.css
itself, so a changed colour that breaks a pair fails here."""

from __future__ import annotations

import re

import pytest

from chalicelib.web.pages import TEMPLATES

CSS = (TEMPLATES.parent / "static" / "ui.css").read_text(encoding="utf-8")
ROOT = re.search(r":root\s*\{(.*?)\}", CSS, re.S)
assert ROOT is not None
TOKENS = dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", ROOT.group(1)))

TEXT, LARGE, CONTROL = 4.5, 3.0, 3.0
#: (foreground, background, minimum): a token name or a literal colour.
PAIRS = [
    # body text and secondary text on every surface
    *(
        (fg, bg, TEXT)
        for fg in ("--c-text", "--c-muted")
        for bg in ("--c-bg", "--c-surface", "--c-surface-2")
    ),
    # links and link-coloured labels
    *(("--c-primary", bg, TEXT) for bg in ("--c-bg", "--c-surface", "--c-surface-2", "--c-primary-soft")),
    ("--c-primary-hover", "--c-surface", TEXT),
    ("--c-muted", "#f5f8fe", TEXT),  # a table row under the pointer
    ("--c-text", "#f5f8fe", TEXT),
    # buttons
    ("#fff", "--c-primary", TEXT),
    ("#fff", "--c-primary-hover", TEXT),
    ("#fff", "--c-danger", TEXT),
    ("#fff", "#8e1e15", TEXT),
    ("--c-text", "--c-surface", TEXT),  # secondary
    # the product bar
    ("#fff", "--c-header", TEXT),
    ("--c-header-text", "--c-header", TEXT),
    ("#15203a", "#ffd27a", TEXT),  # the local stack's flag
    # badges and notices
    ("#2e3a4d", "#edf0f4", TEXT),
    ("--c-success", "--c-success-bg", TEXT),
    ("--c-warn", "--c-warn-bg", TEXT),
    ("--c-danger", "--c-danger-bg", TEXT),
    ("--c-info", "--c-info-bg", TEXT),
    ("#0f4727", "--c-success-bg", TEXT),
    ("#7a1a12", "--c-danger-bg", TEXT),
    ("--c-danger", "--c-surface", TEXT),  # field errors
    ("#1f3f8f", "--c-primary-soft", TEXT),  # tags, tokens
    # avatars: white initials on each colour
    *(
        ("#fff", colour, TEXT)
        for colour in re.findall(r"\.avatar-c\d \{ background: (#[0-9a-f]{6}); \}", CSS)
    ),
    # the outlines of inputs and of the focus ring against the page
    ("--c-border-strong", "--c-surface", CONTROL),
    ("--c-border-strong", "--c-bg", CONTROL),
    ("--c-focus", "--c-surface", CONTROL),
    ("--c-text", "--c-bg", LARGE),
]


def colour(value: str) -> tuple[float, float, float]:
    value = TOKENS.get(value, value).strip()
    value = TOKENS.get(value.removeprefix("var(").removesuffix(")"), value)
    found = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value)
    assert found, f"not a colour: {value}"
    digits = found.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(rgb: tuple[float, float, float]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    a, b = sorted((luminance(colour(foreground)), luminance(colour(background))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_the_contrast_formula() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#767676", "#fff"), 2) == 4.54  # the known AA threshold grey


def test_every_avatar_colour_is_checked() -> None:
    assert len(re.findall(r"\.avatar-c\d \{", CSS)) == 6


@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS)
def test_text_and_background_pairs_meet_aa(foreground: str, background: str, minimum: float) -> None:
    ratio = contrast(foreground, background)
    assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f}:1, needs {minimum}:1"


def test_the_scales_exist() -> None:
    for name in ("--text-sm", "--text-base", "--text-xl", "--space-1", "--space-4", "--radius", "--shadow-1"):
        assert name in TOKENS, name
