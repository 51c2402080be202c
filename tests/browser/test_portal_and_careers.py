"""A candidate in a real browser: the career site (apply with a resume) and the portal, from the
emailed link to erasure. Mail is read from the local stack's outbox, as a tester would."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from tests.browser.conftest import shot
from tests.e2e.conftest import CrmDev

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def email() -> str:
    return f"c-{uuid.uuid4().hex[:10]}@example.com"


def wait_for_mail(stack: CrmDev, to: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        items = stack.get("/dev/outbox", headers=stack.auth()).json()["items"]
        mine = [m for m in items if to in m["to"]]
        if mine:
            return dict(mine[0])
        assert time.monotonic() < deadline, f"no email to {to} within {timeout} s"
        time.sleep(1)


def find_candidate(stack: CrmDev, address: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = stack.get("/v1/candidates", params={"email": address}, headers=stack.auth()).json()["items"]
        if found:
            return dict(stack.get(f"/v1/candidates/{found[0]['id']}", headers=stack.auth()).json())
        assert time.monotonic() < deadline, f"{address} never became a candidate"
        time.sleep(0.5)


def open_job(stack: CrmDev) -> dict[str, Any]:
    title = f"Site Reliability Engineer {uuid.uuid4().hex[:4]}"
    response = stack.post(
        "/v1/jobs", json={"title": title, "status": "open", "location": "Remote"}, headers=stack.auth()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_apply_on_the_career_site_with_a_resume(page: Any, stack: CrmDev, tmp_path: Path) -> None:
    job = open_job(stack)
    page.goto("/careers")
    shot(page, "careers")
    page.get_by_role("link", name=job["title"]).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == job["title"]

    # A mistake first: the form comes back with the error by the field and what was typed.
    prefix = f"#apply-{job['id']}"
    page.fill(f"{prefix}-first_name", "Ada")
    page.fill(f"{prefix}-last_name", "Applicant")
    page.fill(f"{prefix}-email", "not-an-email")
    page.locator(f"{prefix}-email").evaluate("e => e.removeAttribute('required')")
    page.locator(f"{prefix}-email").evaluate("e => e.setAttribute('type', 'text')")
    page.get_by_role("button", name=f"Apply for {job['title']}").click()
    assert page.locator(f"{prefix}-email").get_attribute("aria-invalid") == "true"
    assert page.locator(f"{prefix}-first_name").input_value() == "Ada"
    shot(page, "careers-error")

    address = email()
    resume = tmp_path / "ada-cv.pdf"
    resume.write_bytes(MINIMAL_PDF)
    page.fill(f"{prefix}-email", address)
    page.set_input_files(f"{prefix}-resume", str(resume))
    page.get_by_role("button", name=f"Apply for {job['title']}").click()
    assert "/careers/thanks" in page.url
    shot(page, "careers-thanks")

    candidate = find_candidate(stack, address)
    assert candidate["first_name"] == "Ada"
    applications = stack.get(f"/v1/candidates/{candidate['id']}/applications", headers=stack.auth()).json()[
        "items"
    ]
    assert [a["job_id"] for a in applications] == [job["id"]]
    link = stack.get(
        f"/v1/candidates/{candidate['id']}/applications/{job['id']}/resume", headers=stack.auth()
    ).json()["url"]
    assert stack.http.get(link, timeout=30).content == MINIMAL_PDF


def test_the_portal_from_the_emailed_link_to_erasure(page: Any, stack: CrmDev) -> None:
    address = email()
    created = stack.post(
        "/public/talent-network",
        json={"email": address, "first_name": "Pia", "last_name": "Portal", "marketing_consent": True},
    )
    assert created.status_code == 202, created.text
    candidate = find_candidate(stack, address)

    page.goto("/portal")
    shot(page, "portal-front")
    page.get_by_label("Your email address").fill(address)
    page.get_by_role("button", name="Email me a link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"

    mail = wait_for_mail(stack, address)
    match = re.search(r"https?://[^\s\"<>]+/portal\?token=[\w.\-]+", mail["text"])
    assert match, mail["text"]
    page.goto(match.group(0))
    assert page.get_by_role("heading", level=1).inner_text() == "Your details"
    shot(page, "portal")

    page.get_by_label("Phone").fill("+1 555 0100")
    page.get_by_role("button", name="Save my details").click()
    assert page.get_by_role("status").inner_text() == "Your details are saved."
    assert (
        stack.get(f"/v1/candidates/{candidate['id']}", headers=stack.auth()).json()["phone"] == "+1 555 0100"
    )

    marketing = page.locator("#p-marketing")
    assert marketing.is_checked()
    marketing.uncheck()
    page.get_by_role("button", name="Save my preferences").click()
    assert page.get_by_role("status").inner_text() == "Your email preferences are saved."
    consents = stack.get(f"/v1/candidates/{candidate['id']}", headers=stack.auth()).json()["consents"]
    assert consents["marketing"]["granted"] is False and consents["marketing"]["source"] == "portal"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data (JSON)").click()
    data = json.loads(Path(download_info.value.path()).read_text())
    assert address in json.dumps(data) and "notes" not in data

    page.get_by_role("button", name="Erase my record").click()
    assert page.locator("#confirm-erase").get_attribute("aria-invalid") == "true"
    page.get_by_label("Yes, erase my record for good").check()
    page.get_by_role("button", name="Erase my record").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your record is erased"
    shot(page, "portal-erased")
    assert stack.get(f"/v1/candidates/{candidate['id']}", headers=stack.auth()).status_code == 404

    # The used link is dead, and a tampered one explains itself and offers a new link.
    page.goto(match.group(0))
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
    page.goto(match.group(0)[:-3] + "xyz")
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
    assert page.get_by_role("button", name="Email me a new link").is_visible()
    shot(page, "portal-invalid")
