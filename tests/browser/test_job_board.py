"""A job's pipeline in a real browser: two people apply on the career site's endpoint, the
recruiter moves one along the board with the card's plain form, rejects the other with a reason,
and sees the stage on the profile. Screenshots: job-board, job-board-phone, profile-stage."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.conftest import shot
from tests.browser.test_pools_jobs import column
from tests.e2e.conftest import CrmDev


def test_run_a_job_from_application_to_offer_on_its_board(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    u = uuid.uuid4().hex[:6]
    auth = stack.auth()
    job = stack.http.post(
        f"{stack.base_url}/v1/jobs", json={"title": f"Board engineer {u}", "location": "Lisbon"}, headers=auth
    ).json()
    for first in ("Bea", "Cal"):
        body = {"email": f"{first.lower()}-{u}@example.com", "first_name": first, "last_name": f"Board{u}"}
        assert stack.post(f"/public/jobs/{job['id']}/applications", json=body).status_code == 202

    page.goto(f"/ui/jobs/{job['id']}")
    applied = column(page, "Applied")
    assert applied.locator("a.who").count() == 2
    shot(page, "job-board")

    bea = f"Bea Board{u}"
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=bea))
    card.get_by_label(f"Move {bea} to").select_option(label="Interview")
    card.get_by_role("button", name=f"Move {bea}").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "The application is moved."
    assert column(page, "Interview").get_by_role("link", name=bea).count() == 1
    assert column(page, "Applied").get_by_role("link", name=bea).count() == 0

    # A rejection without a reason is refused on the card; with one it lands in Rejected.
    cal = f"Cal Board{u}"
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=cal))
    card.get_by_label(f"Move {cal} to").select_option(label="Rejected")
    card.get_by_role("button", name=f"Move {cal}").click()
    page.wait_for_load_state()
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=cal))
    assert "a rejection needs a reason" in card.inner_text()
    card.get_by_label(f"Move {cal} to").select_option(label="Rejected")
    card.get_by_label("Reason, for a rejection").select_option(label="Position filled")
    card.get_by_role("button", name=f"Move {cal}").click()
    page.wait_for_load_state()
    assert "Position filled" in column(page, "Rejected").inner_text()

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "job-board-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The profile shows the stage and moves it too.
    page.locator("li.card").get_by_role("link", name=bea).click()
    page.wait_for_load_state()
    assert "Interview" in page.locator("ul.applications strong.stage").inner_text()
    page.get_by_label(f"Stage for Board engineer {u}").select_option(label="Offer")
    page.get_by_role("button", name=f"Move the application for Board engineer {u}").click()
    page.wait_for_load_state()
    assert page.locator("ul.applications strong.stage").inner_text() == "Offer"
    assert "Moved from “Interview” to “Offer”" in page.locator("main").inner_text()
    shot(page, "profile-stage")
