"""The text of a resume, for search: PDF with ``pypdf``, DOCX with ``python-docx``.

Extraction runs in the stream function when an application names a new resume; the parsers are
imported there, at first use, so the API's cold start does not pay for them. A legacy ``.doc``
(binary Word) is stored but not read: no well-kept pure-Python reader exists. A file that does
not parse gives no text (and the reason), never a failed stream record: a broken PDF is the
candidate's problem, not one a retry would fix.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

#: Pages of a PDF read (a resume longer than this is rarely a resume).
MAX_PAGES = 20
#: Characters kept of a resume's text.
MAX_CHARS = 100_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResumeText:
    text: str
    #: "ok", "empty" (no text layer, e.g. a scan), "unsupported" (.doc) or "unreadable".
    outcome: str


def kind_of(key: str) -> str:
    return key.rpartition(".")[2].lower()


def extract_text(data: bytes, kind: str) -> ResumeText:
    """The text of a resume of ``kind`` (pdf, docx or doc)."""
    try:
        if kind == "pdf":
            text = _pdf_text(data)
        elif kind == "docx":
            text = _docx_text(data)
        else:
            return ResumeText("", "unsupported")
    except Exception as exc:  # any parser failure means "no text", never a retry
        logger.warning("resume text not extracted: %s", type(exc).__name__)
        return ResumeText("", "unreadable")
    text = " ".join(text.split())[:MAX_CHARS]
    return ResumeText(text, "ok" if text else "empty")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts: list[str] = []
    for page in reader.pages[:MAX_PAGES]:
        parts.append(page.extract_text() or "")
        if sum(map(len, parts)) > MAX_CHARS:
            break
    return "\n".join(parts)


def _docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)
