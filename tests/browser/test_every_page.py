"""Every page a recruiter can reach by following links opens: no error status, no console error,
the strict CSP, a title, one h1 and a label for every form field — crawled from the dashboard of
the demo data, as a new user clicking around would."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urldefrag, urlsplit

from tests.e2e.conftest import CrmDev

MAX_PAGES = 80
SKIP_PREFIXES = ("/ui/static/",)  # files, not pages
SKIP_SUFFIXES = ("/resume", "/failed-rows")  # a redirect to the resume bucket; an import's CSV
SKIP_PATTERNS = (re.compile(r"^/ui/candidates/[^/]+/resumes/[^/]+$"),)  # one resume: a download
#: Form fields a screen reader could not name: no <label for>, no aria-label(ledby).
UNLABELLED = """fields => fields
  .filter(f => f.type !== "hidden" && !(f.labels && f.labels.length)
          && !f.getAttribute("aria-label") && !f.getAttribute("aria-labelledby"))
  .map(f => f.outerHTML.slice(0, 200))"""


def test_every_linked_ui_page_opens(signed_in: Any, stack: CrmDev) -> None:
    page = signed_in
    queue, seen, opened = ["/ui/"], {"/ui/"}, []
    per_kind: dict[str, int] = {}
    while queue and len(opened) < MAX_PAGES:
        path = queue.pop(0)
        # A handful of pages per kind (the fourth candidate looks like the third).
        kind = "/".join(
            p if not any(c.isdigit() for c in p) else "{id}" for p in path.split("?")[0].split("/")
        )
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] > 3:
            continue
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert page.title(), path
        assert page.locator("h1").count() == 1, path
        assert "/ui/login" not in page.url, f"{path} ended the session"
        unlabelled = page.eval_on_selector_all("input, select, textarea", UNLABELLED)
        assert not unlabelled, f"{path}: form fields without a label: {unlabelled}"
        opened.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target, _ = urldefrag(href)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path.startswith("/ui"):
                continue
            if parts.path.startswith(SKIP_PREFIXES) or parts.path.endswith(SKIP_SUFFIXES):
                continue
            if any(pattern.match(parts.path) for pattern in SKIP_PATTERNS):
                continue
            if target not in seen:
                seen.add(target)
                queue.append(target)
    reached = {[*p.split("?")[0].strip("/").split("/"), ""][1] for p in opened}
    for area in ("candidates", "pools", "jobs", "templates", "campaigns", "sequences", "reminders", "dev"):
        assert area in reached, f"no page of {area} was reachable by links ({sorted(reached)})"
    assert len(opened) >= 20, opened
