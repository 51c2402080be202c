"""A recruiter in a real browser finds a possible duplicate on a profile, merges the two people
choosing a field of the other, and undoes the merge from the survivor's profile."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.browser.conftest import shot
from tests.browser.test_recruiter_flow import make_candidate
from tests.e2e.conftest import CrmDev


def test_merge_two_people_then_undo(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    phone = f"+44 20 {uuid.uuid4().int % 10_000_000:07d}"
    survivor = make_candidate(stack, first_name="Mara", last_name="Merge", phone=phone)
    other = make_candidate(stack, first_name="Marah", last_name="Merge", phone=phone, location="Leeds")
    deadline = time.monotonic() + 30
    while True:  # the duplicate lookups are projections the stream keeps (a moment behind)
        page.goto(f"/ui/candidates/{survivor['id']}")
        if page.get_by_role("heading", name="Possible duplicates").count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    panel = page.locator("section.duplicates")
    assert "same phone" in panel.inner_text()
    panel.get_by_role("link", name="Merge…").click()
    assert page.get_by_role("heading", name="Merge two candidates").count() == 1
    page.get_by_role("radio", name="Marah").check()
    assert page.get_by_role("radio", name="Leeds").is_checked()  # the survivor has no location
    shot(page, "merge-preview")
    page.get_by_role("button", name="Merge", exact=True).click()
    assert page.get_by_role("status").first.inner_text().startswith("The two people are merged")
    assert page.get_by_role("heading", name="Marah Merge").count() == 1
    shot(page, "merge-done")
    page.get_by_role("button", name="Undo merge").click()
    assert page.get_by_role("status").first.inner_text().startswith("The merge is undone")
    assert page.get_by_role("heading", name="Mara Merge").count() == 1
    page.goto(f"/ui/candidates/{other['id']}")
    assert page.get_by_role("heading", name="Marah Merge").count() == 1
