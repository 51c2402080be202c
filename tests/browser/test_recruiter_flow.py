"""A recruiter's day in a real browser: sign in, find, open, note, edit, conflict, sign out.

Each page is watched by the ``page`` fixture: a console error, a page error, a dialog (a hostile
value that ran) or an HTML page without a strict CSP fails the test.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.browser.conftest import shot, sign_in
from tests.e2e.conftest import DEMO_PASSWORD, CrmDev

HOSTILE_FIRST = "<script>alert('first')</script>"
HOSTILE_LAST = '<img src=x onerror="alert(1)">'


def make_candidate(stack: CrmDev, **fields: Any) -> dict[str, Any]:
    body = {
        "email": f"b-{uuid.uuid4().hex[:10]}@example.com",
        "first_name": "Brie",
        "last_name": "Browser",
        "tags": ["browser-test"],
        **fields,
    }
    response = stack.post("/v1/candidates", json=body, headers=stack.auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


def search_until_found(page: Any, query: str, expected: str, timeout: float = 30.0) -> None:
    """Lists are projections the stream keeps (a moment behind writes): search until the row shows."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto("/ui/candidates")
        page.get_by_label("Search everything").fill(query)
        page.get_by_role("button", name="Search").click()
        if page.get_by_role("link", name=expected).count():
            return
        assert time.monotonic() < deadline, f"{expected!r} never appeared in the list"
        time.sleep(0.5)


def test_sign_in_lands_on_the_dashboard_and_sign_out_ends_the_session(page: Any) -> None:
    page.goto("/")
    assert page.url.endswith("/ui/login")
    shot(page, "login")
    page.get_by_label("Email").fill("recruiter@example.com")
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("The username or password is wrong")

    sign_in(page)
    assert page.url.rstrip("/").endswith("/ui")
    page.get_by_role("button", name="Sign out").click()
    assert "/ui/login" in page.url
    page.goto("/ui/candidates")
    assert "/ui/login" in page.url


def test_an_expired_session_returns_to_sign_in_and_then_to_the_page(page: Any, stack: CrmDev) -> None:
    candidate = make_candidate(stack)
    sign_in(page)
    page.context.clear_cookies()
    page.goto(f"/ui/candidates/{candidate['id']}")
    assert "/ui/login" in page.url
    sign_in(page)
    assert page.url.endswith(f"/ui/candidates/{candidate['id']}")


def test_search_open_a_profile_and_add_a_note(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    candidate = make_candidate(stack, first_name="Nora", last_name="Notetaker")
    search_until_found(page, "Nora", "Nora Notetaker")
    shot(page, "candidates")
    page.get_by_role("link", name="Nora Notetaker").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Nora Notetaker"

    page.get_by_label("New note").fill("Strong on SQL.\nCall back in May.")
    page.get_by_role("button", name="Add note").click()
    assert page.get_by_role("status").inner_text() == "The note is added."
    assert "Call back in May." in page.locator(".note-body").first.inner_text()
    notes = stack.get(f"/v1/candidates/{candidate['id']}/notes", headers=stack.auth()).json()["items"]
    assert [n["body"] for n in notes] == ["Strong on SQL.\nCall back in May."]

    page.get_by_label("New note").fill("")
    page.get_by_role("button", name="Add note").click()
    assert page.locator("#n-body").get_attribute("aria-invalid") == "true"
    shot(page, "candidate")


def test_an_edit_saves_and_a_concurrent_change_is_a_clear_conflict(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    candidate = make_candidate(stack, first_name="Cora", last_name="Conflict")
    page.goto(f"/ui/candidates/{candidate['id']}")
    page.get_by_label("Phone").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Save details").click()
    assert page.get_by_role("status").inner_text() == "The details are saved."

    # Open the form, then someone else saves first.
    page.get_by_label("Location").fill("Leeds")
    current = stack.get(f"/v1/candidates/{candidate['id']}", headers=stack.auth()).json()
    changed = stack.http.patch(
        f"{stack.base_url}/v1/candidates/{candidate['id']}",
        json={"version": current["version"], "location": "Bristol"},
        headers=stack.auth("admin@example.com"),
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    page.get_by_role("button", name="Save details").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Someone else changed this record" in alert
    assert page.get_by_label("Location").input_value() == "Bristol"
    shot(page, "candidate-conflict")
    after = stack.get(f"/v1/candidates/{candidate['id']}", headers=stack.auth()).json()
    assert after["location"] == "Bristol"

    # Saving again from the refreshed form works.
    page.get_by_label("Location").fill("Leeds")
    page.get_by_role("button", name="Save details").click()
    assert page.get_by_role("status").inner_text() == "The details are saved."


def test_a_hostile_name_and_note_are_shown_as_text_and_never_run(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    candidate = make_candidate(stack, first_name=HOSTILE_FIRST, last_name=HOSTILE_LAST)
    note = stack.post(
        f"/v1/candidates/{candidate['id']}/notes",
        json={"body": "<script>alert('note')</script>"},
        headers=stack.auth(),
    )
    assert note.status_code == 201, note.text
    # The API refuses a javascript: URL; write one into the local stack's table as old data or
    # another client might have.
    import boto3

    table = stack.stack_file()["functions"]["ApiFunction"]["environment"]["TABLE_NAME"]
    boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("dynamodb", endpoint_url=stack.stack_file()["endpoint_url"]).update_item(
        TableName=table,
        Key={"pk": {"S": f"CAND#{candidate['id']}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET linkedin_url = :u",
        ExpressionAttributeValues={":u": {"S": "javascript:alert('link')"}},
    )
    search_until_found(page, "<script>", f"{HOSTILE_FIRST} {HOSTILE_LAST}")
    page.get_by_role("link", name=f"{HOSTILE_FIRST} {HOSTILE_LAST}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"{HOSTILE_FIRST} {HOSTILE_LAST}"
    assert page.locator(".note-body").first.inner_text() == "<script>alert('note')</script>"
    assert page.locator("main script, main img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert "javascript:alert('link')" in page.locator("main dl[aria-labelledby='details']").inner_text()
    shot(page, "candidate-hostile")
    # The page fixture fails the test if any dialog opened or a script error happened.


def test_pages_work_on_a_phone(browser: Any, stack: CrmDev) -> None:
    context = browser.new_context(
        base_url=stack.base_url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/ui/candidates")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the candidate list scrolls sideways on a phone ({width}px)"
        shot(page, "candidates-phone")
    finally:
        context.close()


def test_the_forms_can_be_used_with_the_keyboard(page: Any) -> None:
    page.goto("/ui/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("recruiter@example.com")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/")
