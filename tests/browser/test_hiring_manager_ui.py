"""A hiring manager in a real browser: the demo's manager@example.com signs in, lands on the jobs
that name them, opens an applicant from the board, finds the recruiter's feedback hidden until
they give their own, gives it with the scorecard form, and then reads both. The recruiters'
pages are not in the menu and send them back to their jobs.
Screenshots: hm-jobs, hm-feedback-hidden, hm-feedback-given, hm-feedback-phone."""

from __future__ import annotations

import uuid
from typing import Any

from tests.browser.conftest import shot, sign_in
from tests.e2e.conftest import CrmDev

MANAGER = "manager@example.com"


def test_a_hiring_manager_gives_feedback_on_their_job_and_then_sees_the_others(
    page: Any, stack: CrmDev
) -> None:
    u = uuid.uuid4().hex[:6]
    auth = stack.auth()
    job = {
        "title": f"Platform lead {u}",
        "location": "Porto",
        "hiring_managers": [MANAGER],
        "scorecard": ["System design", "Communication"],
        "interviews": ["Technical interview"],
    }
    job = stack.http.post(f"{stack.base_url}/v1/jobs", json=job, headers=auth).json()
    other = stack.http.post(
        f"{stack.base_url}/v1/jobs", json={"title": f"Not theirs {u}"}, headers=auth
    ).json()
    person = {"email": f"noor-{u}@example.com", "first_name": "Noor", "last_name": f"Lead{u}"}
    assert stack.post(f"/public/jobs/{job['id']}/applications", json=person).status_code == 202
    apps = stack.http.get(f"{stack.base_url}/v1/jobs/{job['id']}/applications", headers=auth).json()["items"]
    app_id = apps[0]["id"]
    recruiter_feedback = {
        "interview": "Technical interview",
        "ratings": {"System design": 2, "Communication": 3},
        "recommendation": "no",
        "notes": f"Unsure about scale {u}.",
    }
    given = stack.http.post(
        f"{stack.base_url}/v1/applications/{app_id}/feedback", json=recruiter_feedback, headers=auth
    )
    assert given.status_code == 201, given.text

    page.goto("/ui/")
    sign_in(page, MANAGER)
    assert page.url.endswith("/ui/jobs")
    assert page.get_by_role("heading", name="Your jobs").count() == 1
    menu = page.get_by_role("navigation", name="Main")
    assert menu.get_by_role("link", name="Candidates").count() == 0
    assert page.get_by_role("link", name=job["title"]).count() == 1
    assert page.get_by_role("link", name=other["title"]).count() == 0
    shot(page, "hm-jobs")

    page.get_by_role("link", name=job["title"]).click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Move").count() == 0
    page.locator("li.card").get_by_role("link", name=f"Noor Lead{u}").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Applications to your jobs").count() == 1
    feedback = page.locator("details.feedback")
    feedback.locator("summary").click()
    assert "1 feedback hidden until you give your own" in feedback.inner_text()
    assert recruiter_feedback["notes"] not in page.content()
    shot(page, "hm-feedback-hidden")

    form = page.get_by_role("form", name=f"Give feedback for {job['title']}")
    form.get_by_role("group", name="System design").get_by_label("4").check()
    form.get_by_role("group", name="Communication").get_by_label("3").check()
    form.get_by_role("group", name="Overall recommendation").get_by_label("Strong yes").check()
    form.get_by_label("Notes").fill("Designed the queue back-pressure well.")
    form.get_by_role("button", name=f"Give feedback for {job['title']}").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Your feedback is saved."
    opened = page.locator("details.feedback")
    if not opened.evaluate("d => d.open"):
        opened.locator("summary").click()
    text = opened.inner_text()
    assert "Designed the queue back-pressure well." in text and recruiter_feedback["notes"] in text
    assert "Strong yes" in text and "System design: 2 of 4" in text
    shot(page, "hm-feedback-given")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "hm-feedback-phone")

    # A recruiters' page sends them to their jobs; another job is refused.
    page.goto("/ui/candidates")
    assert page.url.endswith("/ui/jobs")
    assert page.goto(f"/ui/jobs/{other['id']}").status == 403
