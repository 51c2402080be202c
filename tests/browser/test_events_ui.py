"""Recruiting events in a real browser: a candidate registers on the career site's event page and
opens their ticket from the email; at the door, on a phone, a recruiter finds them by name and
checks them in with one tap, and the desk's scanner checks in a code it reads (the camera and
the BarcodeDetector are stood in for by the page's own test doubles, as a headless browser has
neither)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import shot, sign_in
from tests.browser.test_portal_and_careers import find_candidate, wait_for_mail
from tests.e2e.conftest import CrmDev

PHONE = {"width": 390, "height": 844}


def published_event(stack: CrmDev, **changes: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    body = {
        "name": f"Data open day {uuid.uuid4().hex[:4]}",
        "kind": "open_day",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=5)).isoformat(),
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue": {"name": "Head office", "street": "Hauptstraße 1", "city": "Berlin", "country": "DE"},
        "capacity": 30,
        "description": "Meet the data team.",
        **changes,
    }
    headers = stack.auth()
    created = stack.post("/v1/events", json=body, headers=headers)
    assert created.status_code == 201, created.text
    published = stack.post(f"/v1/events/{created.json()['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return dict(published.json())


def register(stack: CrmDev, event: dict[str, Any], first: str, last: str) -> str:
    address = f"{first.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    response = stack.post(
        f"/public/events/{event['id']}/registrations",
        json={"email": address, "first_name": first, "last_name": last},
    )
    assert response.status_code == 202, response.text
    return address


def test_register_on_the_career_sites_event_page(page: Any, stack: CrmDev) -> None:
    event = published_event(stack)
    page.goto("/careers/events")
    page.get_by_role("link", name=event["name"], exact=True).click()
    page.wait_for_load_state()
    assert page.locator('script[type="application/ld+json"]').count() == 1
    shot(page, "events-career-site-page")
    address = f"ines-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("First name").fill("Inès")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Tell me about future events").check()
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    shot(page, "events-registered")
    mail = wait_for_mail(stack, address)
    assert mail["subject"] == f"You're registered: {event['name']}"
    manage = re.search(r'href="([^"]*/registration\?token=[^"]+)"', mail["html"])
    assert manage
    link = manage.group(1).replace("&amp;", "&")
    page.goto(link[link.index("/careers/") :])
    assert page.get_by_text("You have a place, Inès.").is_visible()
    assert page.locator("figure.qr svg").count() == 1
    shot(page, "events-ticket")
    person = find_candidate(stack, address)
    assert person["consents"]["events"]["granted"] is True


@pytest.fixture
def phone(stack: CrmDev, browser: Any) -> Any:
    from tests.browser.conftest import watch

    context = browser.new_context(
        base_url=stack.base_url, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    seen = watch(tab)
    try:
        yield tab
        problems = seen.problems(stack.base_url)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_the_desk_on_a_phone_finds_someone_and_checks_them_in_with_one_tap(phone: Any, stack: CrmDev) -> None:
    event = published_event(stack)
    register(stack, event, "Marta", "Kowalczyk")
    register(stack, event, "Ben", "Adeyemi")
    sign_in(phone)
    phone.goto(f"/ui/events/{event['id']}/check-in")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    phone.get_by_role("searchbox", name="Name or email").fill("marta")
    phone.get_by_role("button", name="Search").tap()
    phone.get_by_role("button", name="Check in Marta Kowalczyk").wait_for()
    assert phone.get_by_text("Ben Adeyemi").count() == 0
    phone.get_by_role("button", name="Check in Marta Kowalczyk").tap()
    phone.get_by_role("status").filter(has_text="Marta Kowalczyk is checked in.").wait_for()
    assert phone.get_by_text(re.compile(r"In at \d\d:\d\d")).is_visible()
    shot(phone, "events-check-in-phone")
    came = stack.get(f"/v1/events/{event['id']}/check-ins", headers=stack.auth()).json()["items"]
    assert [a["name"] for a in came] == ["Marta Kowalczyk"]


FAKE_CAMERA = """
window.__codes = [];
window.BarcodeDetector = class {
  constructor(options) { this.options = options; }
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect(source) { return window.__codes.splice(0).map(function (c) { return { rawValue: c }; }); }
};
Object.defineProperty(navigator.mediaDevices, "getUserMedia", {
  value: async function () {
    var canvas = document.createElement("canvas");
    canvas.width = 240; canvas.height = 240;
    var context = canvas.getContext("2d");
    context.fillStyle = "#222"; context.fillRect(0, 0, 240, 240);
    return canvas.captureStream(5);
  },
});
"""


def _checkin_code(
    stack: CrmDev, event: dict[str, Any], candidate_id: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The code the person's QR holds, signed with the stack's own key (as its email was)."""
    import boto3

    from crm.events.tickets import checkin_token
    from crm.platform import signing

    described = stack.stack_file()
    environment = described["functions"]["ApiFunction"]["environment"]
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=described["endpoint_url"],
        region_name=environment.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    key = secrets.get_secret_value(SecretId=environment["SIGNING_SECRET_ARN"])["SecretString"]
    monkeypatch.setattr(signing, "_signing_key", lambda: key)
    token = checkin_token(event["id"], candidate_id, ends_at=event["ends_at"])
    return f"{stack.base_url}/ui/events/{event['id']}/check-in?token={token}"


def test_the_desks_scanner_checks_in_a_code_once(
    phone: Any, stack: CrmDev, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = published_event(stack)
    address = register(stack, event, "Aiko", "Tanaka")
    code = _checkin_code(stack, event, find_candidate(stack, address)["id"], monkeypatch)
    phone.add_init_script(FAKE_CAMERA)
    sign_in(phone)
    phone.goto(f"/ui/events/{event['id']}/check-in")
    phone.get_by_role("button", name="Start the camera").tap()
    phone.get_by_role("button", name="Stop").wait_for()
    phone.evaluate("code => window.__codes.push(code)", code)
    phone.get_by_role("status").filter(has_text="Aiko Tanaka is checked in.").wait_for()
    assert phone.get_by_text("1 of 1 checked in").is_visible()
    shot(phone, "events-check-in-scanned")
    time.sleep(4.5)  # past the scanner's pause for a code it just read
    phone.evaluate("code => window.__codes.push(code)", code)
    phone.get_by_role("status").filter(
        has_text=re.compile(r"Aiko Tanaka was already checked in at \d\d:\d\d\.")
    ).wait_for()
    phone.evaluate("code => window.__codes.push(code)", code[:-4])
    phone.get_by_role("alert").filter(has_text="not a valid check-in code").wait_for()
    came = stack.get(f"/v1/events/{event['id']}/check-ins", headers=stack.auth()).json()["items"]
    assert [a["name"] for a in came] == ["Aiko Tanaka"]


def test_a_phone_cameras_scanned_address_opens_the_desk_to_confirm(
    phone: Any, stack: CrmDev, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = published_event(stack)
    address = register(stack, event, "Noor", "Haddad")
    code = _checkin_code(stack, event, find_candidate(stack, address)["id"], monkeypatch)
    sign_in(phone)
    phone.goto(code[len(stack.base_url) :])
    phone.get_by_role("button", name="Check in Noor Haddad").tap()
    phone.get_by_role("status").filter(has_text="Noor Haddad is checked in.").wait_for()


def test_the_event_pages_are_accessible_and_fit_a_phone(signed_in: Any, stack: CrmDev) -> None:
    from tests.browser.test_accessibility import check_pages

    event = published_event(stack, capacity=1)
    first = register(stack, event, "Lena", "Vogel")
    register(stack, event, "Omar", "Farouk")  # on the waitlist
    response = stack.post(
        f"/v1/events/{event['id']}/check-ins",
        json={"candidate_id": find_candidate(stack, first)["id"]},
        headers=stack.auth(),
    )
    assert response.status_code == 200, response.text
    pages: list[tuple[str, Any]] = [
        ("events", "/ui/events"),
        ("event", f"/ui/events/{event['id']}"),
        ("event-edit", f"/ui/events/{event['id']}/edit"),
        ("event-new", "/ui/events/new"),
        ("event-check-in", f"/ui/events/{event['id']}/check-in?q=lena"),
        ("careers-events", "/careers/events"),
        ("careers-event", f"/careers/events/{event['id']}"),
    ]
    problems = check_pages(signed_in, pages)
    assert not problems, "\n".join(problems)
