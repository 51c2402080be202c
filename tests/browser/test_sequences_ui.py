"""Nurture sequences and reminders in a real browser: create a two-step sequence from the demo
templates, enrol a demo pool and see each candidate's progress; the recruiter's reminders page.
Screenshots: sequences, sequence-new, sequence, reminders."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import shot
from tests.e2e.conftest import CrmDev

DEMO_TEMPLATES = ("Welcome to the talent network", "New roles this month")
DEMO_POOL = "Design talent"


def enrol_pool(page: Any, pool: str, timeout: float = 30.0) -> str:
    """Pool members are a projection the stream keeps: enrol again until someone is enrolled
    (enrolling again changes nothing for those already in)."""
    deadline = time.monotonic() + timeout
    while True:
        page.get_by_label("A whole pool").select_option(label=pool)
        page.get_by_role("button", name="Enrol").click()
        page.wait_for_load_state()
        notice = page.get_by_role("status").inner_text()
        if not notice.startswith("0 candidates were enrolled.") or "already enrolled" in notice:
            return notice
        assert time.monotonic() < deadline, f"nobody in {pool!r} was enrolled: {notice}"
        time.sleep(0.5)


def test_create_a_sequence_enrol_a_demo_pool_and_see_progress(signed_in: Any) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sequences").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Nurture sequences"
    page.get_by_role("link", name="New sequence").click()
    assert page.url.endswith("/ui/sequences/new")

    # Nothing chosen: the form comes back with the error next to the steps and the name kept.
    name = f"Browser nurture {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create sequence").click()
    assert page.get_by_role("alert").inner_text().startswith("The sequence was not saved")
    assert page.get_by_label("Name").input_value() == name
    assert "Add at least one step" in page.locator("#e-steps").inner_text()

    page.get_by_label("Step 1: template").select_option(label=DEMO_TEMPLATES[0])
    page.get_by_label("Step 1: wait").fill("0")
    page.get_by_label("Step 2: template").select_option(label=DEMO_TEMPLATES[1])
    page.get_by_label("Step 2: wait").fill("-2")
    page.get_by_role("button", name="Create sequence").click()
    wait = page.get_by_label("Step 2: wait")
    assert wait.get_attribute("aria-invalid") == "true" and wait.input_value() == "-2"
    assert "Enter a wait" in page.locator("#e-step-1-delay").inner_text()
    wait.fill("3")
    page.get_by_label("Unit of step 2's wait").select_option("days")
    assert page.get_by_label("the candidate unsubscribes (always)").is_disabled()
    shot(page, "sequence-new")
    page.get_by_role("button", name="Create sequence").click()

    assert page.get_by_role("heading", level=1).inner_text() == name
    assert "The sequence is saved." in page.get_by_role("status").inner_text()
    steps = page.locator("table").first
    assert DEMO_TEMPLATES[0] in steps.inner_text() and "3 days after step 1" in steps.inner_text()
    assert "Nobody is enrolled yet." in page.content()

    notice = enrol_pool(page, DEMO_POOL)
    enrolled = int(re.match(r"(\d+) candidates? (?:were|was) enrolled", notice).group(1))  # type: ignore[union-attr]
    assert enrolled > 0, notice
    progress = page.get_by_role("table", name="Progress")
    assert progress.locator("tbody tr").count() == enrolled
    assert progress.locator(".state-active").count() == enrolled
    assert "0 of 2 sent; step 1 due" in progress.inner_text()
    shot(page, "sequence")

    # Unknown emails are named next to the field and nobody is enrolled.
    page.get_by_label("Candidates' emails, one per line").fill("nobody-here@example.com")
    page.get_by_role("button", name="Enrol").click()
    emails = page.get_by_label("Candidates' emails, one per line")
    assert emails.get_attribute("aria-invalid") == "true"
    assert "nobody-here@example.com" in page.locator("#e-emails").inner_text()

    page.goto("/ui/sequences")
    assert page.get_by_role("link", name=name).count() == 1
    shot(page, "sequences")


def first_demo_candidate(stack: CrmDev) -> dict[str, Any]:
    response = stack.get("/v1/candidates?limit=1", headers=stack.auth())
    assert response.status_code == 200, response.text
    return dict(response.json()["items"][0])


def test_reminders_page_lists_due_then_upcoming(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    candidate = first_demo_candidate(stack)
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    for note, at in (
        (f"Call back {tag}", now - timedelta(hours=1)),
        (f"Send offer {tag}", now + timedelta(days=2)),
    ):
        body = {"candidate_id": candidate["id"], "due_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "note": note}
        response = stack.post("/v1/reminders", json=body, headers=stack.auth())
        assert response.status_code == 201, response.text
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reminders").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your reminders"
    due = page.get_by_role("list", name="Due now")
    upcoming = page.get_by_role("list", name="Upcoming")
    assert f"Call back {tag}" in due.inner_text() and f"Send offer {tag}" not in due.inner_text()
    assert f"Send offer {tag}" in upcoming.inner_text()
    item = due.locator("li.due", has_text=f"Call back {tag}")
    assert item.count() == 1
    shot(page, "reminders")
    item.get_by_role("link").click()
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == f"{candidate['first_name']} {candidate['last_name']}"
    )
