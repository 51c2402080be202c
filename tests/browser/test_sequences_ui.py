"""Nurture sequences and reminders in a real browser: create a two-step sequence from the demo
templates, enrol a demo pool and see each candidate's progress; the enrolment report, pausing and
resuming by the local clock, taking someone out; the recruiter's reminders page.
Editing the steps: a wrong wait refused next to its field, a step removed and one added, a stale
form refused, and the form on a phone without JavaScript.
Screenshots: sequences, sequence-new, sequence, sequence-enrol-report, sequence-paused,
sequence-unenrolled, reminders, sequence-edit, sequence-edit-stale, sequence-edit-phone."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import shot, sign_in, watch
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


# ------------------------------------------------------------------------------- pause, report, take out


_HEADERS: dict[str, str] = {}


def _api(stack: CrmDev, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    if not _HEADERS:
        _HEADERS.update(stack.auth())
    response = stack.http.request(method, stack.base_url + path, json=body, headers=_HEADERS, timeout=30)
    assert response.status_code == expect, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


def _outbox_to(stack: CrmDev, address: str, subject: str) -> list[dict[str, Any]]:
    items = _api(stack, "GET", "/dev/outbox")["items"]
    return [m for m in items if address in m["to"] and m["subject"].startswith(subject)]


def _until(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_enrol_report_pause_resume_and_take_someone_out(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    u = uuid.uuid4().hex[:6]
    subject = f"Hello {u}"
    template = _api(
        stack,
        "POST",
        "/v1/templates",
        {
            "name": f"Paused {u}",
            "subject": subject + " {{ first_name }}",
            "html": '<p>Hi {{ first_name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
            "text": "Hi {{ first_name }} {{ unsubscribe_url }}",
        },
        201,
    )
    steps = [
        {"template_id": template["id"], "delay_days": 0},
        {"template_id": template["id"], "delay_days": 3},
    ]
    name = f"Pausable {u}"
    sequence = _api(stack, "POST", "/v1/sequences", {"name": name, "steps": steps}, 201)
    people = []
    for n, consent in enumerate((True, True, False)):
        body = {
            "email": f"seq-{u}-{n}@example.com",
            "first_name": f"Pat{n}",
            "last_name": f"Browser{u}",
            "marketing_consent": consent,
        }
        people.append(_api(stack, "POST", "/v1/candidates", body, 201))

    # The enrolment form says how many were enrolled, and who was skipped and why.
    page.goto(f"/ui/sequences/{sequence['id']}")
    page.get_by_label("Candidates' emails, one per line").fill("\n".join(p["email"] for p in people))
    page.get_by_role("button", name="Enrol").click()
    notice = page.get_by_role("status")
    assert notice.inner_text().startswith(
        "2 candidates were enrolled. 1 was skipped because we may not email them:"
    )
    skipped = notice.get_by_role("list", name="Skipped")
    assert (
        skipped.inner_text()
        == f"Pat2 Browser{u} ({people[2]['email']}): they have not agreed to marketing email"
    )
    shot(page, "sequence-enrol-report")

    # Paused: steps that fall due wait (held), nothing is sent.
    page.get_by_role("button", name="Pause").click()
    assert "The sequence is paused" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Resume").is_visible()
    _api(stack, "POST", "/dev/clock", {"advance_seconds": 120})

    def held() -> bool:
        page.reload()
        return (
            page.get_by_role("table", name="Progress").inner_text().count("waits for the sequence to resume")
            == 2
        )

    _until(held, "both steps to be held")
    assert not _outbox_to(stack, people[0]["email"], subject)
    shot(page, "sequence-paused")

    # Resumed: what waited goes out at the next tick.
    page.get_by_role("button", name="Resume").click()
    assert "running again" in page.get_by_role("status").inner_text()
    _api(stack, "POST", "/dev/clock", {"advance_seconds": 120})
    for person in people[:2]:
        _until(lambda p=person: _outbox_to(stack, p["email"], subject), f"step 1 to {person['email']}")

    # Take one of them out: they leave the progress, their timeline says so, the list counts follow.
    progress = page.get_by_role("table", name="Progress")
    page.reload()
    assert progress.inner_text().count("1 of 2 sent; step 2 due") == 2
    page.get_by_role("button", name=f"Take out Pat0 Browser{u}").click()
    assert "The candidate is out of the sequence" in page.get_by_role("status").inner_text()
    assert f"Pat0 Browser{u}" not in progress.inner_text() and f"Pat1 Browser{u}" in progress.inner_text()
    shot(page, "sequence-unenrolled")
    assert page.get_by_role("button", name=f"Take out Pat1 Browser{u}").count() == 1
    page.goto(f"/ui/candidates/{people[0]['id']}")
    assert f"Taken out of the sequence “{name}” after 1 step sent" in page.content()
    page.goto("/ui/sequences")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name))
    cells = row.get_by_role("cell").all_inner_texts()
    assert cells[1:6] == ["2", "1", "1", "0", "0"], cells  # steps, enrolled, active, completed, stopped


# ------------------------------------------------------------------------------- edit the steps


def _edit_fixture(stack: CrmDev, u: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Three templates and a two-step sequence using the first two, named after ``u``."""
    templates = [
        _api(
            stack,
            "POST",
            "/v1/templates",
            {
                "name": f"{word} {u}",
                "subject": f"{word} {{{{ first_name }}}}",
                "html": '<p>Hi</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
                "text": "Hi {{ unsubscribe_url }}",
            },
            201,
        )
        for word in ("Hello", "Nudge", "Last call")
    ]
    steps = [
        {"template_id": templates[0]["id"], "delay_days": 0},
        {"template_id": templates[1]["id"], "delay_days": 3},
    ]
    sequence = _api(stack, "POST", "/v1/sequences", {"name": f"Editable {u}", "steps": steps}, 201)
    return templates, sequence


def test_edit_the_steps_of_a_sequence(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    u = uuid.uuid4().hex[:6]
    templates, sequence = _edit_fixture(stack, u)
    page.goto(f"/ui/sequences/{sequence['id']}")
    page.get_by_role("link", name="Edit steps").click()
    assert page.url.endswith(f"/ui/sequences/{sequence['id']}/edit")
    assert page.get_by_role("heading", level=1).inner_text() == "Edit steps"
    assert page.get_by_label("Name").input_value() == f"Editable {u}"
    first = page.get_by_label("Step 1: template")
    assert first.locator("option:checked").inner_text() == f"Hello {u}"
    assert page.get_by_label("Step 2: wait").input_value() == "3"
    assert page.get_by_label("Step 3: wait").input_value() == ""
    enrolled = page.get_by_role("region", name="People already in this sequence").inner_text()
    assert "keeps their place by number" in enrolled

    # A wrong wait comes back marked, with what was typed kept.
    page.get_by_label("Name").fill(f"Edited {u}")
    page.get_by_label("Step 2: wait").fill("-1")
    page.get_by_label("Step 3: template").select_option(label=f"Last call {u}")
    page.get_by_label("Step 3: wait").fill("12")
    page.get_by_label("Unit of step 3's wait").select_option("hours")
    page.get_by_role("button", name="Save steps").click()
    assert page.get_by_role("alert").inner_text().startswith("The steps were not saved")
    wait = page.get_by_label("Step 2: wait")
    assert wait.get_attribute("aria-invalid") == "true" and wait.input_value() == "-1"
    assert "Enter a wait" in page.locator("#e-step-1-delay").inner_text()
    assert page.get_by_label("Name").input_value() == f"Edited {u}"
    assert page.get_by_label("Step 3: wait").input_value() == "12"

    # Fixed: the first step removed, the third one added.
    wait.fill("2")
    page.get_by_label("Remove step 1").check()
    shot(page, "sequence-edit")
    page.get_by_role("button", name="Save steps").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Edited {u}"
    assert page.get_by_role("status").inner_text().startswith("Steps saved.")
    steps = page.get_by_role("table", name="Steps")
    assert steps.locator("tbody tr").count() == 2
    text = steps.inner_text()
    assert f"Hello {u}" not in text and f"Nudge {u}" in text and "12 hours after step 1" in text
    stored = _api(stack, "GET", f"/v1/sequences/{sequence['id']}")
    assert stored["version"] == 2
    assert stored["steps"] == [
        {"template_id": templates[1]["id"], "delay_days": 2.0},
        {"template_id": templates[2]["id"], "delay_days": 0.5},
    ]

    # Someone else saves while the form is open: nothing is saved, and the page says so.
    page.get_by_role("link", name="Edit steps").click()
    _api(stack, "PATCH", f"/v1/sequences/{sequence['id']}", {"version": 2, "name": f"Theirs {u}"})
    page.get_by_label("Name").fill(f"Mine {u}")
    page.get_by_role("button", name="Save steps").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text().startswith("Someone else saved this sequence after you opened the form")
    assert page.get_by_label("Name").input_value() == f"Theirs {u}"
    assert f"Name: Mine {u}" in page.locator("details.unsaved").inner_text()
    shot(page, "sequence-edit-stale")
    alert.get_by_role("link", name="Reload the form").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Edit steps"
    assert page.get_by_label("Name").input_value() == f"Theirs {u}"
    assert _api(stack, "GET", f"/v1/sequences/{sequence['id']}")["name"] == f"Theirs {u}"


def test_edit_the_steps_on_a_phone_without_javascript(browser: Any, stack: CrmDev) -> None:
    """Adding and removing steps needs no script, and the form fits a phone's width."""
    u = uuid.uuid4().hex[:6]
    templates, sequence = _edit_fixture(stack, u)
    context = browser.new_context(
        base_url=stack.base_url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        seen = watch(page)
        sign_in(page)
        page.goto(f"/ui/sequences/{sequence['id']}/edit")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the edit form scrolls sideways on a phone by {overflow}px"
        page.get_by_label("Step 4: template").select_option(label=f"Last call {u}")
        page.get_by_label("Step 4: wait").fill("1")
        # (Not the last thing before the shot: after a full-page shot of a focused number field,
        # headless Chromium without script ignores the next click on the submit button.)
        page.get_by_label("Remove step 2").check()
        shot(page, "sequence-edit-phone")
        page.get_by_role("button", name="Save steps").click()
        page.wait_for_load_state()
        assert page.get_by_role("status").inner_text().startswith("Steps saved.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        stored = _api(stack, "GET", f"/v1/sequences/{sequence['id']}")
        assert stored["steps"] == [
            {"template_id": templates[0]["id"], "delay_days": 0.0},
            {"template_id": templates[2]["id"], "delay_days": 1.0},
        ]
        problems = seen.problems(stack.base_url)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
