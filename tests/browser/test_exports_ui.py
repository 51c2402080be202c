"""Export from the candidates list in a real browser: filter the demo by a tag, "Export this list",
watch the export become ready on /ui/exports, click Download (the link is minted at the click) and
open the ZIP's candidates.csv. Screenshot: exports."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

from tests.browser.conftest import shot


def test_export_the_python_people_and_download_them(signed_in: Any) -> None:
    page = signed_in
    page.goto("/ui/candidates?tag=python")
    rows = page.locator("table tbody tr")
    deadline = time.monotonic() + 30
    while rows.count() == 0:  # lists are projections the stream keeps
        assert time.monotonic() < deadline, "the demo has nobody tagged python"
        page.wait_for_timeout(500)
        page.reload()
    page.get_by_label("Export as").select_option("csv")
    page.get_by_role("button", name="Export this list").click()
    assert "/ui/exports" in page.url, page.url
    deadline = time.monotonic() + 60
    while page.locator("tbody tr").first.get_by_role("link", name="Download").count() == 0:
        assert time.monotonic() < deadline, page.content()
        page.wait_for_timeout(500)
        page.reload()
    shot(page, "exports")
    with page.expect_download() as download:
        page.locator("tbody tr").first.get_by_role("link", name="Download").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        text = archive.read("candidates.csv").decode("utf-8")
    people = list(csv.DictReader(io.StringIO(text)))
    assert people and all("python" in p["tags"] for p in people)
