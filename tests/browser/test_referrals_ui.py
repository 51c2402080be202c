"""Referrals in a real browser: the demo's employee@example.com signs in and lands on their
referrals (the menu has nothing else), copies their link, refers someone with a resume through the
form (its errors shown by the fields first); the referred person confirms from the emailed link;
a recruiter's move shows on the referrer's page in plain words; recruiters read the report.
Screenshots: referral-mine, referral-form-errors, referral-form, referral-sent, referral-confirm,
referral-confirmed, referral-in-process, referral-mine-phone, referral-report."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

from tests.browser.conftest import shot, sign_in
from tests.browser.test_portal_and_careers import MINIMAL_PDF, wait_for_mail
from tests.e2e.conftest import CrmDev

EMPLOYEE = "employee@example.com"


def wait_for_status(
    stack: CrmDev, employee: dict[str, str], name: str, status: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        items = stack.get("/v1/referrals/mine", headers=employee).json()["items"]
        if any(r["first_name"] == name and r["status"] == status for r in items):
            return
        assert time.monotonic() < deadline, f"{name} never became {status}: {items}"
        time.sleep(0.5)


def test_an_employee_refers_someone_and_follows_the_referral(
    page: Any, stack: CrmDev, tmp_path: Path
) -> None:
    u = uuid.uuid4().hex[:6]
    title = f"Data engineer {u}"
    job = stack.post("/v1/jobs", json={"title": title, "location": "Lisbon"}, headers=stack.auth()).json()
    address = f"ref-{u}@example.com"

    page.goto("/ui/")
    sign_in(page, EMPLOYEE)
    assert page.url.endswith("/ui/referrals/mine")
    menu = page.get_by_role("navigation", name="Main")
    assert [link.inner_text() for link in menu.locator(".nav-links a").all()] == [
        "Refer someone",
        "Your referrals",
    ]
    link = page.get_by_role("textbox", name="Your referral link")
    assert re.search(r"/careers\?ref=[a-z2-7]{10}$", link.input_value())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Copied.").wait_for()
    shot(page, "referral-mine")

    # Another page of the UI sends them back to their referrals.
    page.goto("/ui/candidates")
    assert page.url.endswith("/ui/referrals/mine")

    menu.get_by_role("link", name="Refer someone").click()
    page.wait_for_load_state()
    form = page.get_by_role("form", name="Refer someone")
    form.get_by_label("Their email").fill("not an email")
    form.get_by_role("button", name="Send referral").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").first.inner_text().startswith("The referral was not sent")
    assert page.locator("#r-email").get_attribute("aria-invalid") == "true"
    assert page.locator("#r-first_name").get_attribute("aria-invalid") == "true"
    shot(page, "referral-form-errors")

    form = page.get_by_role("form", name="Refer someone")
    form.get_by_label("First name").fill("Rosa")
    form.get_by_label("Last name").fill(f"Ref{u}")
    form.get_by_label("Their email").fill(address)
    form.get_by_label("Job").select_option(label=f"{title} (Lisbon)")
    form.get_by_label("Why you recommend them").fill("She ran our data platform migration <b>calmly</b>.")
    resume = tmp_path / "rosa-cv.pdf"
    resume.write_bytes(MINIMAL_PDF)
    form.get_by_label("Their resume").set_input_files(str(resume))
    shot(page, "referral-form")
    form.get_by_role("button", name="Send referral").click()
    page.wait_for_load_state()
    assert page.url.endswith("/ui/referrals/mine?done=referred")
    assert "your referral is received" in page.get_by_role("status").first.inner_text()
    row = page.get_by_role("row").filter(has_text=f"Rosa Ref{u}")
    assert title in row.inner_text() and "Received" in row.inner_text()
    shot(page, "referral-sent")

    # The referred person's one email: the page says who referred them; they confirm.
    mail = wait_for_mail(stack, address)
    assert EMPLOYEE in mail["subject"] and "calmly" not in mail["text"]
    confirm = re.search(r"https?://[^\s\"<>]+/public/referrals/confirm\?token=[\w.\-]+", mail["text"])
    assert confirm, mail["text"]
    visitor = page.context.browser.new_context(
        base_url=stack.base_url, viewport={"width": 390, "height": 844}
    )
    try:
        person = visitor.new_page()
        person.goto(confirm.group(0))
        assert person.get_by_role("heading", level=1).inner_text() == f"{EMPLOYEE} recommended you"
        shot(person, "referral-confirm")
        person.get_by_role("button", name="Yes, I am interested").click()
        person.wait_for_load_state()
        assert "You are now an applicant for" in person.get_by_role("main").inner_text()
        shot(person, "referral-confirmed")
    finally:
        visitor.close()

    # A recruiter moves the application on: the referrer sees it in plain words.
    auth = stack.auth()
    applications = stack.get(f"/v1/jobs/{job['id']}/applications", headers=auth).json()["items"]
    (application,) = applications
    moved = stack.http.patch(
        f"{stack.base_url}/v1/applications/{application['id']}",
        json={"stage": "interview", "version": application["version"]},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    employee = stack.auth(EMPLOYEE)
    wait_for_status(stack, employee, "Rosa", "in_process")
    page.goto("/ui/referrals/mine")
    row = page.get_by_role("row").filter(has_text=f"Rosa Ref{u}")
    assert "In process" in row.inner_text()
    shot(page, "referral-in-process")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot(page, "referral-mine-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Recruiters' report: the referral by referrer and by job, its "why" as text.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in(page)
    page.goto("/ui/referrals")
    assert page.get_by_role("heading", level=1).inner_text() == "Referrals"
    assert page.get_by_role("region", name="By referrer").get_by_text(EMPLOYEE).count() >= 1
    assert page.get_by_role("region", name="By job").get_by_role("link", name=title).count() == 1
    assert "<b>calmly</b>" in page.get_by_role("row").filter(has_text=f"Rosa Ref{u}").inner_text()
    shot(page, "referral-report")
