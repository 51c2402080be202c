"""Browser tests: Playwright for Python driving Debian's Chromium against one `crm dev` stack.

Chromium comes from the distribution (``apt-get install chromium``; ``.ci/run`` installs it), never
from ``playwright install``. Without it these tests skip with a loud reason, except where
``CRM_REQUIRE_BROWSER=1`` (CI) makes a missing browser a failure.

Every test's page fails the test on a console error, an uncaught page error or any dialog (a
hostile value that ran would open one), and every HTML page the browser loads from the stack must
carry a Content-Security-Policy that forbids inline script and framing. ``shot(page, name)`` saves
a full-page screenshot to ``build/screenshots/<name>.png`` for review.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, CrmDev

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]
RECRUITER = "recruiter@example.com"
ADMIN = "admin@example.com"
#: An HTML page with an error status (a 404, a 422 form) makes Chromium log "Failed to load
#: resource"; that is the page working as designed. Anything else on the console is a failure.
EXPECTED_CONSOLE = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


def chromium_path() -> str | None:
    configured = os.environ.get("CRM_CHROMIUM")
    for candidate in (configured, *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One stack and one browser for all browser tests: keep them on one xdist worker.
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            if item.config.pluginmanager.hasplugin("xdist"):
                item.add_marker(pytest.mark.xdist_group("browser"))
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = (
            "BROWSER TESTS NOT RUN: no Chromium found (install Debian's package: "
            "`sudo apt-get install chromium`, or set CRM_CHROMIUM to its path)"
        )
        if os.environ.get("CRM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[CrmDev]:
    """`crm dev` with the demo data and users, shared by every browser test (tests add their own data)."""
    dev = CrmDev(tmp_path_factory.mktemp("browser") / "data", "--demo-password", DEMO_PASSWORD)
    dev.start("--fresh")
    try:
        yield dev
    finally:
        if dev.process is not None:
            # A clean exit is the lifecycle tests' subject (tests/e2e); here a slow one is reported,
            # not a failure of the browser tests that already passed.
            code = dev.stop(signal.SIGTERM)
            if code != 0:
                warnings.warn(
                    f"crm dev exited with {code} after the browser tests\n{dev.logs()}", stacklevel=1
                )


@pytest.fixture(scope="session")
def browser(chromium: str, stack: CrmDev) -> Iterator[Any]:
    # Depends on the stack so that the browser, with its open connections, closes before it stops.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class PageWatch:
    """What a page did that a user would call broken."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    documents: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)

    def problems(self, base_url: str) -> list[str]:
        found = [f"console: {m}" for m in self.console if not EXPECTED_CONSOLE.match(m)]
        found += [f"page error: {e}" for e in self.page_errors]
        found += [f"dialog opened: {d}" for d in self.dialogs]
        for url, status, headers in self.documents:
            if not url.startswith(base_url) or "text/html" not in headers.get("content-type", ""):
                continue
            csp = headers.get("content-security-policy", "")
            script = csp_directive(csp, "script-src") or csp_directive(csp, "default-src")
            weak = "'unsafe-inline'" in script or "'unsafe-eval'" in script
            if "frame-ancestors 'none'" not in csp or weak:
                found.append(f"weak or missing CSP on {url} ({status}): {csp!r}")
        return found


def csp_directive(csp: str, name: str) -> str:
    for part in csp.split(";"):
        words = part.strip().split(None, 1)
        if words and words[0] == name:
            return words[1] if len(words) > 1 else ""
    return ""


def watch(page: Any) -> PageWatch:
    seen = PageWatch()
    page.on("console", lambda m: seen.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def on_response(response: Any) -> None:
        if response.request.resource_type == "document":
            seen.documents.append((response.url, response.status, dict(response.headers)))

    page.on("response", on_response)
    return seen


@pytest.fixture
def page(stack: CrmDev, browser: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    seen = watch(tab)
    try:
        yield tab
        problems = seen.problems(stack.base_url)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def sign_in(page: Any, username: str = RECRUITER, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form (on the login page the browser is already on, keeping its ``next``)."""
    if "/ui/login" not in page.url:
        page.goto("/ui/login")
    page.get_by_label("Email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/ui/login" not in page.url, page.content()[:2000]


@pytest.fixture
def signed_in(page: Any) -> Any:
    sign_in(page)
    return page


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot for review: build/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
