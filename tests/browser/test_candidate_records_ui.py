"""A recruiter in a real browser uploads a resume on a profile, downloads it, and logs a call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import shot
from tests.browser.test_recruiter_flow import make_candidate
from tests.e2e.conftest import CrmDev

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_upload_and_download_a_resume_then_log_a_call(signed_in: Any, stack: CrmDev, tmp_path: Path) -> None:
    page = signed_in
    candidate = make_candidate(stack, first_name="Rhea", last_name="Resume", utm_source="jobfair")
    page.goto(f"/ui/candidates/{candidate['id']}")
    assert page.get_by_text("No resume yet.").count() == 1

    wrong = tmp_path / "notes.pdf"
    wrong.write_bytes(b"just some text")
    page.get_by_label("Resume file").set_input_files(str(wrong))
    page.get_by_role("button", name="Upload", exact=True).click()
    assert "must be a PDF, DOC or DOCX file" in page.locator("#e-resume").inner_text()

    cv = tmp_path / "Rhea Resume CV.pdf"
    cv.write_bytes(PDF)
    page.get_by_label("Resume file").set_input_files(str(cv))
    page.get_by_role("button", name="Upload", exact=True).click()
    assert page.get_by_role("status").inner_text().startswith("The resume is uploaded")
    link = page.get_by_role("link", name="Download Rhea Resume CV.pdf")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == PDF

    page.goto(f"/ui/candidates/{candidate['id']}#log-interaction")
    form = page.get_by_role("form", name="Log a call or meeting")
    form.get_by_label("What").select_option("call")
    form.get_by_label("Outcome").select_option("left_voicemail")
    form.get_by_label("Minutes").fill("5")
    form.get_by_label("Notes").fill("Will call back on Friday")
    form.get_by_role("button", name="Log it").click()
    assert page.get_by_role("status").inner_text() == "The call or meeting is logged."
    assert page.locator(".interaction-list").inner_text().startswith("Call: Left a voicemail, 5 min")
    assert page.get_by_text("Call logged: left voicemail, 5 min").count() == 1
    assert "jobfair" in page.locator("[aria-labelledby=came-from]").inner_text()
    shot(page, "candidate-resume-and-calls")
