"""Accessibility and phone layout of the recruiter pages, in a real browser.

For a representative page of every area (the dashboard, candidates, pools, jobs, templates,
campaigns, sequences, reminders, a bulk action's progress, and the admin pages) this runs axe-core
(bundled with axe-playwright-python, so it works offline) for the WCAG 2 A/AA rules and asserts
no violations at a laptop width; at a phone width it runs the rules that depend on the layout
again and asserts that the page never scrolls sideways, that no element is wider than the screen
(a wide table scrolls inside its own container instead) and that no button's label is squeezed.
Two forms sent back with errors are checked too. Screenshots: build/screenshots/a11y-<page>.png (1366x768) and
a11y-<page>-phone.png (390x844).

axe is injected with Playwright's ``page.evaluate`` (the DevTools protocol), which the page's
Content-Security-Policy does not govern: the strict CSP stays on, and the page fixture still fails
the test on any console error, so a CSP report from axe would show.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import ADMIN, shot, sign_in
from tests.browser.test_bulk_ui import wait_for_done
from tests.e2e.conftest import CrmDev

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: The WCAG 2.0/2.1/2.2 A and AA rules (best practices are not asked for), with target-size
#: (WCAG 2.2 AA, 2.5.8), which axe leaves off unless asked. Results axe marks "incomplete" (it
#: could not tell: the contrast of the dashboard's SVG chart labels) are not failures; their
#: colours are design tokens that tests/unit/test_design_tokens.py checks.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
#: At the phone width the markup and the colours are the same (no media query of ui.css or of a
#: page changes a colour) and only the layout differs: the rules whose outcome depends on it run
#: again, sizes of targets and regions that now scroll. color-contrast, most of axe's time, would
#: give the laptop's answer twice.
PHONE_AXE_OPTIONS = {
    "runOnly": {"type": "rule", "values": ["target-size", "scrollable-region-focusable"]},
    "resultTypes": ["violations"],
}
#: Rules that must have run on every page (a newer axe that dropped one from the tags would
#: otherwise pass silently).
REQUIRED_RULES = {
    "color-contrast",
    "label",
    "button-name",
    "link-name",
    "image-alt",
    "document-title",
    "html-has-lang",
    "duplicate-id-aria",
    "target-size",
}
AXE = Axe()

#: Elements that reach past the right edge of the screen and are not clipped by a scrolling (or
#: clipping) ancestor: each one makes the page wider than the phone. Only the outermost one of a
#: nested run is reported, as a short CSS path.
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const path = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + "#" + e.id); break; }
      const classes = [...e.classList].slice(0, 2);
      if (classes.length) part += "." + classes.join(".");
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const clipped = el => {
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      if (e === document.body) return false;
      if (getComputedStyle(e).overflowX !== "visible") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right <= width + 0.5 && box.width <= width + 0.5) continue;
    if (clipped(el) || found.some(f => f.contains(el))) continue;
    found.push(el);
  }
  return found.map(el => `${path(el)} (${Math.round(el.getBoundingClientRect().width)}px,`
                        + ` right edge at ${Math.round(el.getBoundingClientRect().right)}px)`);
}"""
#: Tables not inside a container that scrolls sideways: with longer names or more columns they
#: would widen the page on a phone (wrap them in .table-wrap, or .scroll inside a card).
UNWRAPPED_TABLES = """() => [...document.querySelectorAll("main table")]
  .filter(t => {
    for (let e = t.parentElement; e && e !== document.body; e = e.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(e).overflowX)) return false;
    }
    return true;
  })
  .map(t => (t.getAttribute("aria-labelledby") || t.caption && t.caption.textContent.trim()
             || t.querySelector("th") && t.querySelector("th").textContent.trim()
             || "a table").slice(0, 60))"""
#: Buttons whose few words are squeezed onto more lines than words (a cell's overflow-wrap breaking
#: "Take out" letter by letter): the label can no longer be read at a glance.
SQUEEZED = r"""() => [...document.querySelectorAll("main button, main .button, main summary")]
  .filter(el => el.getBoundingClientRect().width > 0)
  .map(el => {
    const tops = new Set(), words = [];
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (node.parentElement.closest(".visually-hidden") || !node.textContent.trim()) continue;
      words.push(...node.textContent.trim().split(/\s+/));
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    return [el, tops.size, words.length];
  })
  .filter(([el, lines, words]) => lines > Math.max(2, words))
  .map(([el, lines]) => `${el.outerHTML.replace(/\s+/g, " ").slice(0, 100)} on ${lines} lines`)"""
#: Folded content (the dashboard's numbers, a profile's emails) is checked unfolded.
OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"


def axe_problems(page: Any, options: dict[str, Any], required: set[str]) -> list[str]:
    """Each violation on the page: rule, impact, where, the element's HTML and what is wrong."""
    results = AXE.run(page, options=options).response
    ran = {r["id"] for kind in ("violations", "passes", "incomplete", "inapplicable") for r in results[kind]}
    problems = [f"axe did not run {rule}" for rule in sorted(required - ran)]
    for violation in results["violations"]:
        for node in violation["nodes"]:
            html = " ".join(node["html"].split())[:160]
            why = next((c["message"] for kind in ("any", "all", "none") for c in node[kind]), "")
            problems.append(
                f"{violation['id']} ({violation['impact']}): {' '.join(map(str, node['target']))}"
                f" -- {html} -- {why}"
            )
    return problems


def layout_problems(page: Any) -> list[str]:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    problems = [f"the page scrolls sideways by {overflow}px"] if overflow > 0 else []
    problems += [f"wider than the screen: {where}" for where in page.evaluate(TOO_WIDE)]
    problems += [f"a table outside a scrolling container: {t}" for t in page.evaluate(UNWRAPPED_TABLES)]
    problems += [f"a squeezed label: {b}" for b in page.evaluate(SQUEEZED)]
    return problems


def check_pages(page: Any, pages: list[tuple[str, str | Callable[[Any], None]]]) -> list[str]:
    """Every page at both widths; all the problems of all the pages, to report at once. A page is
    a path, or a function that brings the browser to a state (a form sent back with errors)."""
    problems: list[str] = []
    for name, where in pages:
        page.set_viewport_size(LAPTOP)
        if callable(where):
            where(page)
        else:
            response = page.goto(where)
            assert response is not None and response.status == 200, (where, response and response.status)
        path = f"/ui/{page.url.split('/ui/', 1)[-1]} ({name})"
        assert "/ui/login" not in page.url, f"{path} ended the session"
        page.evaluate(OPEN_DETAILS)
        problems += [
            f"{path} at {LAPTOP['width']}px: {p}" for p in axe_problems(page, AXE_OPTIONS, REQUIRED_RULES)
        ]
        shot(page, f"a11y-{name}")
        # The same page turned into a phone's width (the layout is CSS only: no script measures
        # the screen, so this is what a page loaded on the phone shows).
        page.set_viewport_size(PHONE)
        phone = axe_problems(page, PHONE_AXE_OPTIONS, set(PHONE_AXE_OPTIONS["runOnly"]["values"]))
        problems += [f"{path} at {PHONE['width']}px: {p}" for p in phone + layout_problems(page)]
        shot(page, f"a11y-{name}-phone")
    return problems


def candidate_form_with_errors(page: Any) -> None:
    """The new-candidate form sent back: no last name, an email without an @."""
    page.goto("/ui/candidates/new")
    page.locator("#n-first_name").fill("Ada")
    page.locator("#n-email").fill("ada.example.com")
    page.get_by_role("button", name="Add candidate").click()
    assert page.locator("#n-email").get_attribute("aria-invalid") == "true", page.content()[:3000]


def sequence_form_with_errors(page: Any) -> None:
    """The new-sequence form sent back: no step chosen, a wait below zero."""
    page.goto("/ui/sequences/new")
    page.get_by_label("Name").fill("Half-done nurture")
    page.get_by_label("Step 2: wait").fill("-2")
    page.get_by_role("button", name="Create sequence").click()
    assert page.get_by_role("alert").inner_text().startswith("The sequence was not saved")


def _api(stack: CrmDev, auth: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = stack.post(path, json=body, headers=auth)
    assert response.status_code in (200, 201, 202), response.text
    return dict(response.json())


def _first_link(page: Any, path: str, links: str) -> str:
    """Where the first of ``links`` (a CSS selector) on the page at ``path`` goes; lists are
    projections the stream keeps, so wait for one."""
    deadline = time.monotonic() + 30
    while True:
        page.goto(path)
        if page.locator(links).count():
            return str(page.locator(links).first.get_attribute("href"))
        assert time.monotonic() < deadline, f"no {links} on {path}"
        page.wait_for_timeout(500)


def _bulk_job(page: Any) -> str:
    """Tag a few of the demo's python berlin people through the list, as a recruiter would; the
    job's progress page, once it is done (until then it reloads itself, under axe's feet)."""
    deadline = time.monotonic() + 30
    page.goto("/ui/candidates?q=python+berlin")
    while page.locator("table tbody tr").count() == 0:
        assert time.monotonic() < deadline, "the demo has nobody for python berlin"
        page.wait_for_timeout(500)
        page.reload()
    boxes = page.locator('input[type="checkbox"][name="candidate_ids"]')
    for i in range(min(boxes.count(), 3)):
        boxes.nth(i).check()
    page.get_by_label("Action").select_option(label="Add tags")
    page.get_by_label("Tags (to add or remove, comma-separated)").fill(f"a11y-{uuid.uuid4().hex[:4]}")
    page.get_by_role("button", name="Apply").click()
    assert "/ui/bulk/" in page.url, page.url
    wait_for_done(page)
    return "/ui/bulk/" + page.url.split("/ui/bulk/", 1)[1]


def test_recruiter_pages_pass_axe_and_fit_a_phone(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    auth = stack.auth()
    u = uuid.uuid4().hex[:6]
    body = {
        "name": f"A11y hello {u}",
        "subject": "Hello {{ first_name }}",
        "html": '<p>Hi {{ first_name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        "text": "Hi {{ first_name }} {{ unsubscribe_url }}",
    }
    template = _api(stack, auth, "/v1/templates", body)
    campaign = _api(
        stack, auth, "/v1/campaigns", {"name": f"A11y campaign {u}", "template_id": template["id"]}
    )
    steps = [{"template_id": template["id"], "delay_days": d} for d in (0, 3)]
    sequence = _api(stack, auth, "/v1/sequences", {"name": f"A11y nurture {u}", "steps": steps})
    body = {
        "email": f"a11y-{u}@example.com",
        "first_name": "Alex",
        "last_name": f"Access{u}",
        "source": "referral",
        "marketing_consent": True,
    }
    person = _api(stack, auth, "/v1/candidates", body)
    _api(stack, auth, f"/v1/sequences/{sequence['id']}/enrollments", {"candidate_ids": [person["id"]]})

    pool = _first_link(page, "/ui/pools", "main td a[href^='/ui/pools/']")
    job = _first_link(page, "/ui/jobs", "main tr:has(.status-open) a[href^='/ui/jobs/']")
    # A demo candidate in a pool (with an application, often), and a note and a reminder
    candidate = _first_link(page, pool, "main .board a[href^='/ui/candidates/']")
    candidate_id = candidate.rsplit("/", 1)[1]
    due = {"candidate_id": candidate_id, "due_at": "2020-01-01T09:00:00Z", "note": "Call back about the role"}
    _api(stack, auth, "/v1/reminders", due)
    _api(
        stack, auth, f"/v1/candidates/{candidate_id}/notes", {"body": "Met at the meetup; keen on data work."}
    )
    bulk = _bulk_job(page)

    started = time.monotonic()
    problems = check_pages(
        page,
        [
            ("dashboard", "/ui/"),
            ("candidates", "/ui/candidates?q=python&source=referral"),
            ("candidate", candidate),
            ("candidate-new", "/ui/candidates/new"),
            ("candidate-new-errors", candidate_form_with_errors),
            ("pools", "/ui/pools"),
            ("pool", pool),
            ("jobs", "/ui/jobs"),
            ("job", job),
            ("templates", "/ui/templates"),
            ("template", f"/ui/templates/{template['id']}"),
            ("campaigns", "/ui/campaigns"),
            ("campaign-new", "/ui/campaigns/new"),
            ("campaign", f"/ui/campaigns/{campaign['id']}"),
            ("sequences", "/ui/sequences"),
            ("sequence-new", "/ui/sequences/new"),
            ("sequence-new-errors", sequence_form_with_errors),
            ("sequence", f"/ui/sequences/{sequence['id']}"),
            ("reminders", "/ui/reminders"),
            ("bulk", bulk),
        ],
    )
    print(f"recruiter pages checked in {time.monotonic() - started:.1f} s")
    assert not problems, "\n".join(problems)


def test_admin_pages_pass_axe_and_fit_a_phone(page: Any) -> None:
    sign_in(page, ADMIN)
    problems = check_pages(
        page,
        [
            ("admin-users", "/ui/admin/users"),
            ("admin-api-keys", "/ui/admin/api-keys"),
            ("admin-audit", "/ui/admin/audit"),
            ("exports", "/ui/exports"),  # exports (an admin's: with the whole-account form)
        ],
    )
    assert not problems, "\n".join(problems)
