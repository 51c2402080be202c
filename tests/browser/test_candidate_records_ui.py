"""A recruiter in a real browser uploads a resume on a profile, downloads it, and logs a call."""

from __future__ import annotations

import time
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


def test_write_to_a_candidate_reply_as_them_and_read_the_reply_on_the_profile(
    signed_in: Any, stack: CrmDev
) -> None:
    """The whole conversation in the browser: the recruiter writes from the profile, answers as the
    candidate from the outbox (through the stack's SMTP server), and reads the reply on the profile,
    without the quoted history, with its attachment."""
    page = signed_in
    candidate = make_candidate(stack, first_name="Wren", last_name="Writes")
    page.goto(f"/ui/candidates/{candidate['id']}#email")
    form = page.get_by_role("form", name="Email Wren Writes")
    form.get_by_label("Subject").fill("Coffee next week?")
    form.get_by_label("Message").fill("Hello Wren, are you free for a coffee next week?")
    form.get_by_role("button", name="Send email").click()
    assert page.get_by_role("status").count() == 1

    mail = page.locator("ul.mails > li", has_text=candidate["email"])
    deadline = time.monotonic() + 30
    while True:  # the mail worker sends it a moment later
        page.goto("/ui/dev/outbox")
        if mail.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    mail.first.locator("summary").click()  # open the email: its reply form is inside
    reply_form = mail.first.get_by_role("form", name="Reply as the candidate to: Coffee next week?")
    reply_form.first.get_by_label("Reply").fill("Yes, Tuesday at ten suits me.")
    reply_form.first.get_by_label("Attach a sample PDF").check()
    reply_form.first.get_by_role("button", name="Send the reply").click()
    assert page.get_by_role("status").count() == 1

    thread = page.locator(".email-thread", has_text="Coffee next week?")
    deadline = time.monotonic() + 30
    while True:  # the inbound function stores it a moment later
        page.goto(f"/ui/candidates/{candidate['id']}")
        if thread.get_by_text("Yes, Tuesday at ten suits me.").count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    assert thread.get_by_text("Yes, Tuesday at ten suits me.").count() == 1
    assert "the recruiter wrote" not in thread.inner_text()  # the quoted history is off
    assert thread.get_by_role("link", name="sample-cv.pdf").count() == 1
    shot(page, "candidate-reply-thread")
