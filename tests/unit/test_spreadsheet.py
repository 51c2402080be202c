"""Every CSV the product writes is safe to open in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from crm.platform.spreadsheet import csv_lines, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_a_formula_start_is_prefixed(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value,expected", [("Ada", "Ada"), (None, ""), (3, "3"), (True, "true"), (["a", "b"], "a; b")]
)
def test_other_cells_are_left_alone(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_lines_read_back_with_the_csv_module() -> None:
    text = "".join(csv_lines(["name", "note"], [["Ada", 'says "hi",\nbye'], ["=cmd", None]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "note"], ["Ada", 'says "hi",\nbye'], ["'=cmd", ""]]
