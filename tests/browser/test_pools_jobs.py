"""Pools and jobs in a real browser: a demo pool's pipeline board, moving a member with the plain
form, creating a job and closing it. Screenshots: pools, pool-board, jobs, job."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.browser.conftest import shot


def open_first_pool(page: Any, timeout: float = 30.0) -> None:
    """The pool list is a projection the stream keeps: reload until the demo pools show."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto("/ui/pools")
        links = page.locator("table a[href^='/ui/pools/']")
        if links.count():
            break
        assert time.monotonic() < deadline, "the demo pools never appeared"
        time.sleep(0.5)
    shot(page, "pools")
    name = links.first.inner_text()
    links.first.click()
    assert page.get_by_role("heading", level=1).inner_text() == name


def column(page: Any, stage: str) -> Any:
    heading = page.get_by_role("heading", level=3, name=re.compile(rf"^{re.escape(stage)} \(\d+\)$"))
    return page.locator("li.column").filter(has=heading)


def test_move_a_member_on_a_demo_pool_board(signed_in: Any) -> None:
    page = signed_in
    open_first_pool(page)
    cards = page.locator("li.card")
    assert cards.count() > 0, "the demo pool has no members"
    card = cards.first
    link = card.locator("a.who")
    name, href = link.inner_text(), link.get_attribute("href")
    select = card.get_by_label(f"Move {name} to")
    current = select.input_value()
    target = next(s for s in ("hired", "offer", "contacted") if s != current)
    assert column(page, current).locator(f"a[href='{href}']").count() == 1
    shot(page, "pool-board")

    select.select_option(target)
    card.get_by_role("button", name="Move", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "The candidate is moved."
    assert column(page, target).locator(f"a[href='{href}']").count() == 1
    assert column(page, current).locator(f"a[href='{href}']").count() == 0

    # on a phone the columns sit side by side and scroll inside the board, never the page
    page.set_viewport_size({"width": 390, "height": 844})
    first, second = (page.locator("li.column").nth(i).bounding_box() for i in (0, 1))
    assert second["x"] >= first["x"] + first["width"] - 1 and abs(second["y"] - first["y"]) < 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "pool-board-phone")

    # the profile's timeline records the move
    page.locator(f"a[href='{href}']").first.click()
    assert "Put in " in page.locator("main").inner_text()


def test_create_a_job_close_it_and_open_a_demo_job(signed_in: Any) -> None:
    page = signed_in
    page.goto("/ui/jobs")
    shot(page, "jobs")
    page.get_by_label("Title").fill("Browser test engineer")
    page.get_by_label("Location (optional)").fill("Remote")
    page.get_by_role("button", name="Create job").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Browser test engineer"
    assert page.get_by_role("status").inner_text() == "The job is created."
    page.get_by_role("button", name="Close job").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("The job is closed")
    page.get_by_role("button", name="Open job").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("The job is open")

    page.goto("/ui/jobs")
    demo = page.locator("table a[href^='/ui/jobs/']").filter(has_not_text="Browser test engineer")
    hrefs = [demo.nth(i).get_attribute("href") for i in range(demo.count())]
    assert hrefs, "no demo jobs listed"
    for href in hrefs:  # the first demo job with applicants
        page.goto(href)
        applicants = page.get_by_role("table", name="Applicants")
        if applicants.count():
            break
    assert applicants.count(), "no demo job has applicants"
    first = applicants.get_by_role("link").first
    name = first.inner_text()
    shot(page, "job")
    first.click()
    assert page.get_by_role("heading", level=1).inner_text() == name


def test_rename_archive_and_unarchive_a_pool(signed_in: Any) -> None:
    page = signed_in
    page.goto("/ui/pools")
    page.get_by_label("Name", exact=True).fill("Browser pool")
    page.get_by_role("button", name="Create pool").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Browser pool"

    page.get_by_label("Pool name").fill("Browser pool, renamed")
    page.get_by_role("button", name="Rename", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "The pool is renamed."
    assert page.get_by_role("heading", level=1).inner_text() == "Browser pool, renamed"
    shot(page, "pool-rename")

    page.get_by_role("button", name="Archive", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("The pool is archived")
    assert page.get_by_role("heading", name="Add a candidate").count() == 0
    shot(page, "pool-archived")
    pool_url = page.url.split("?")[0]

    page.goto("/ui/pools")
    assert page.get_by_role("link", name="Browser pool, renamed").count() == 0
    page.get_by_role("link", name="Show archived").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Archived pools"
    deadline = time.monotonic() + 30
    while page.get_by_role("link", name="Browser pool, renamed").count() == 0:  # the list trails a little
        assert time.monotonic() < deadline, "the archived pool never appeared in its list"
        time.sleep(0.5)
        page.reload()
    shot(page, "pools-archived")
    page.get_by_role("link", name="Browser pool, renamed").click()
    assert page.url.split("?")[0] == pool_url
    page.get_by_role("button", name="Unarchive", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "The pool is back in the pool list."
    assert page.get_by_role("heading", name="Add a candidate").count() == 1
