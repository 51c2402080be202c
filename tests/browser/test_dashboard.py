"""The dashboard's four charts, and the local stack's outbox and clock pages, in a real browser."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import shot
from tests.e2e.conftest import CrmDev

TEMPLATE = {"name": "Browser hello", "subject": "Hello {{ first_name }}", "html": "<p>Hi</p>", "text": "Hi"}


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def _candidate(stack: CrmDev) -> dict[str, Any]:
    body = {
        "email": f"dash-{uuid.uuid4().hex[:10]}@example.com",
        "first_name": "Dana",
        "last_name": "Dashboard",
        "source": "referral",
    }
    return _created(stack.post("/v1/candidates", json=body, headers=stack.auth()))


def test_dashboard_draws_four_charts_on_laptop_and_phone(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    template = _created(stack.post("/v1/templates", json=TEMPLATE, headers=stack.auth()))
    _created(
        stack.post(
            "/v1/campaigns",
            json={"name": "Autumn <b>newsletter</b>", "template_id": template["id"]},
            headers=stack.auth(),
        )
    )
    candidate = _candidate(stack)
    due = {"candidate_id": candidate["id"], "due_at": "2020-01-01T09:00:00Z", "note": "Call Dana back"}
    _created(stack.post("/v1/reminders", json=due, headers=stack.auth()))

    response = page.goto("/ui/")
    assert response is not None and response.ok
    assert len(response.body()) < 200_000
    charts = page.locator("svg[role=img]")
    assert charts.count() == 4
    for i in range(4):
        assert charts.nth(i).locator("title").count() >= 1 and charts.nth(i).locator("desc").count() == 1
    # the demo data fills the pipeline and the sources
    assert page.locator("svg[aria-labelledby^=pipeline-chart] rect.bar").count() >= 1
    assert page.locator("svg[aria-labelledby^=sources-chart] rect.bar").count() >= 2
    assert page.locator("svg[aria-labelledby^=campaigns-chart] rect.bar").count() >= 5
    assert page.get_by_text("Autumn <b>newsletter</b>").count() >= 1  # a name is text, never markup
    assert page.locator("#due-count").inner_text().strip() not in ("", "0")

    # the numbers: a disclosure per chart, with a real table
    sources = page.locator("section[aria-labelledby=sources]")
    sources.get_by_text("Show the numbers").click()
    table = sources.locator("table")
    assert table.is_visible() and table.locator("tbody tr").count() >= 2
    first_source = table.locator("tbody tr th a").first
    assert "/ui/candidates?source=" in (first_source.get_attribute("href") or "")
    shot(page, "dashboard")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/ui/")
    assert page.locator("svg[role=img]").count() == 4
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways on a phone by {overflow}px"
    shot(page, "dashboard-phone")


def test_outbox_and_clock_pages(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    candidate = _candidate(stack)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    note = f"Browser reminder {uuid.uuid4().hex[:6]}"
    _created(
        stack.post(
            "/v1/reminders",
            json={"candidate_id": candidate["id"], "due_at": soon, "note": note},
            headers=stack.auth(),
        )
    )

    page.goto("/ui/dev/clock")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Clock")
    assert "moves the local stack's clock" in page.locator("main").inner_text()
    before = page.locator("#clock-now").inner_text()
    # a wrong amount: 422, the field marked, the typed value kept
    page.get_by_label("By").fill("-3")
    page.get_by_role("button", name="Move forward").click()
    amount = page.get_by_label("By")
    assert amount.get_attribute("aria-invalid") == "true"
    assert page.locator("#e-amount").is_visible() and amount.input_value() == "-3"
    # two hours on: 303 back with a notice, the clock later than before
    amount.fill("2")
    page.get_by_label("Unit").select_option("hours")
    page.get_by_role("button", name="Move forward").click()
    assert page.url.endswith("/ui/dev/clock?done=advanced")
    assert page.get_by_role("status").inner_text() == "The local clock moved forward."
    assert page.locator("#clock-now").inner_text() > before
    shot(page, "clock")

    # the reminder is now due: its email reaches the outbox
    deadline = time.monotonic() + 90
    while True:
        page.goto("/ui/dev/outbox")
        mail = page.locator("ul.mails > li").filter(has_text=note)
        if mail.count():
            break
        assert time.monotonic() < deadline, "the due reminder's email never reached the outbox"
        time.sleep(2)
    mail = mail.first
    mail.locator("summary").click()
    assert mail.locator("pre").first.inner_text().count(note) == 1  # the text part
    frame = mail.locator("iframe")
    assert frame.is_visible() and frame.get_attribute("sandbox") == ""  # the HTML part, no scripts
    link = mail.locator(f"div.mail > ul a[href$='/ui/candidates/{candidate['id']}']")
    assert link.count() == 1 and link.inner_text().startswith("http")  # the email's links, as text links
    shot(page, "outbox")
