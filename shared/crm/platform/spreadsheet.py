"""CSV a spreadsheet opens safely: a cell that a spreadsheet would read as a formula is neutralised.

OWASP's rule for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as text.
Every CSV the product writes (exports, the audit log, an import's failed rows) goes through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one cell, prefixed with ``'`` when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        text = "; ".join(str(v) for v in value)
    else:
        text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and each row as CSV text (RFC 4180, CRLF line ends), one line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
