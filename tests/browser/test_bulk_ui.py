"""Bulk actions in a real browser: find the demo's "python berlin" people by text, tick them all,
tag them at once, watch the job finish by itself, then export them and see the file.
Screenshots: bulk-select, bulk-done, bulk-export."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.browser.conftest import shot


def wait_for_done(page: Any, timeout: float = 60.0) -> None:
    """The progress page refreshes itself every 2 s until the job is done."""
    deadline = time.monotonic() + timeout
    while "Done" not in page.locator(".page-head .badge").inner_text():
        assert time.monotonic() < deadline, page.content()
        page.wait_for_timeout(500)


def test_find_tick_tag_and_export_python_berlin(signed_in: Any) -> None:
    page = signed_in
    page.goto(page.url.split("/ui/")[0] + "/ui/candidates?" + "q=python+berlin")
    rows = page.locator("table tbody tr")
    deadline = time.monotonic() + 30
    while rows.count() == 0:  # lists are projections the stream keeps
        assert time.monotonic() < deadline, "the demo has nobody for python berlin"
        page.reload()
    found = rows.count()
    boxes = page.locator('input[type="checkbox"][name="candidate_ids"]')
    for i in range(min(found, 20)):
        boxes.nth(i).check()
    tag = f"shortlist-{uuid.uuid4().hex[:4]}"
    page.get_by_label("Action").select_option(label="Add tags")
    page.get_by_label("Tags (to add or remove, comma-separated)").fill(tag)
    shot(page, "bulk-select")
    page.get_by_role("button", name="Apply").click()
    assert page.url.split("?")[0].rsplit("/", 2)[-2] == "bulk"
    wait_for_done(page)
    tiles = page.locator(".tiles").inner_text()
    assert f"{min(found, 20)}" in tiles and "changed" in tiles
    shot(page, "bulk-done")

    # Everyone now carries the tag: the list filtered by it shows them (after the stream).
    page.goto(page.url.split("/ui/")[0] + f"/ui/candidates?tag={tag}")
    deadline = time.monotonic() + 30
    while page.locator("table tbody tr").count() < min(found, 20):
        assert time.monotonic() < deadline, page.content()
        page.wait_for_timeout(500)
        page.reload()
    assert f"all {min(found, 20)} who match" in page.content()
    page.get_by_label(f"all {min(found, 20)} who match").check()
    page.get_by_label("Action").select_option(label="Export as CSV")
    page.get_by_role("button", name="Apply").click()
    wait_for_done(page)
    shot(page, "bulk-export")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download the CSV ({min(found, 20)} people)").click()
    with open(download.value.path(), encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("id,first_name,last_name,email") and text.count(tag) == min(found, 20)
