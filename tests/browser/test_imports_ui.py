"""CSV import in a real browser: upload a file straight to S3 (the presigned POST), see the guessed
columns, start, watch the progress bar reach the report, and find the failed row's reason.
Screenshots: import-mapping, import-report."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from tests.browser.conftest import shot


def test_upload_map_start_and_read_the_report(signed_in: Any, tmp_path: Path) -> None:
    page = signed_in
    tag = f"fair-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "fair.csv"
    csv.write_text(
        "E-mail,First name,Surname,City\n"
        f"{tag}-ada@example.com,Ada,Lovelace,London\n"
        "not-an-email,Bad,Row,Paris\n",
        encoding="utf-8",
    )
    page.goto(page.url.split("/ui/")[0] + "/ui/candidates")
    page.get_by_role("link", name="Import a CSV").click()
    page.get_by_role("button", name="Choose a file").click()
    page.get_by_label("CSV file (UTF-8, a header row)").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="2. Check the columns").wait_for()
    assert page.get_by_label("E-mail").input_value() == "email"
    assert page.get_by_label("Surname").input_value() == "last_name"
    page.get_by_label("Tags for every row (comma-separated)").fill(tag)
    shot(page, "import-mapping")
    page.get_by_role("button", name="Start the import").click()
    deadline = time.monotonic() + 60
    while page.locator("#count-created").count() == 0:  # the bar polls, then the page shows the report
        assert time.monotonic() < deadline, page.content()
        page.wait_for_timeout(500)
    assert page.locator("#count-created").inner_text() == "1"
    assert page.locator("#count-failed").inner_text() == "1"
    shot(page, "import-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the failed rows (CSV, with the reason)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "not-an-email" in text and "reason" in text.splitlines()[0]
