"""Interview self-scheduling in real browsers: a recruiter offers two times on an application from
the profile's form (wall times in Berlin), the candidate opens the emailed link in a browser whose
zone is New York, the page switches itself to New York and shows the times there, and they book
one; both sides are emailed and the profile shows the booking.
Screenshots: interview-offer, interview-candidate-zone, interview-booked, interview-booked-phone,
interview-recruiter-booked."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests.browser.conftest import shot, sign_in, watch
from tests.e2e.conftest import CrmDev

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DASH = "\N{EN DASH}"


def outbox_until(stack: CrmDev, wanted: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    auth = stack.auth()
    deadline = time.monotonic() + timeout
    while True:
        # Under load the local gateway may answer a slow listing with a 5xx: ask again until the deadline.
        response = stack.get("/dev/outbox", headers=auth)
        found = [m for m in response.json()["items"] if wanted(m)] if response.status_code == 200 else []
        if found:
            return found
        assert time.monotonic() < deadline, f"the email did not arrive (outbox: {response.status_code})"
        time.sleep(1)


def test_a_candidate_books_an_offered_time_in_their_own_zone(page: Any, stack: CrmDev, browser: Any) -> None:
    u = uuid.uuid4().hex[:6]
    auth = stack.auth()
    job = {"title": f"Site reliability engineer {u}", "interviews": ["Technical interview"]}
    job = stack.http.post(f"{stack.base_url}/v1/jobs", json=job, headers=auth).json()
    email = f"yara-{u}@example.com"
    person = {"email": email, "first_name": "Yara", "last_name": f"Zone{u}"}
    assert stack.post(f"/public/jobs/{job['id']}/applications", json=person).status_code == 202
    (application,) = stack.http.get(
        f"{stack.base_url}/v1/jobs/{job['id']}/applications", headers=auth
    ).json()["items"]
    day = (datetime.now(BERLIN) + timedelta(days=4)).replace(second=0, microsecond=0, tzinfo=None)
    first, second = day.replace(hour=10, minute=0), (day + timedelta(days=1)).replace(hour=15, minute=30)

    # The recruiter offers two Berlin wall times from the profile.
    page.goto(f"/ui/candidates/{application['candidate_id']}")
    sign_in(page)
    page.get_by_text("Offer interview slots", exact=True).click()
    page.get_by_label("Time zone of the times below").select_option("Europe/Berlin")
    page.get_by_label("Length in minutes").fill("45")
    page.get_by_label("Time 1", exact=True).fill(first.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Time 2", exact=True).fill(second.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Where (optional: a video call link, an address)").fill("Video call")
    shot(page, "interview-offer")
    page.get_by_role("button", name=re.compile("^Offer these times")).click()
    page.wait_for_load_state()
    assert "The interview slots are offered" in page.content()
    assert page.get_by_text("Offered: 2 times, not booked yet", exact=True).count() == 1

    offer_mail = outbox_until(stack, lambda m: email in m["to"] and job["title"] in m["subject"])[0]
    link = re.search(r'href="([^"]*/careers/interviews\?token=[^"]+)"', offer_mail["html"])
    assert link is not None
    parts = urlsplit(link.group(1).replace("&amp;", "&"))

    # The candidate's browser is in New York: the page switches to it by itself.
    context = browser.new_context(
        base_url=stack.base_url, timezone_id="America/New_York", viewport={"width": 1280, "height": 900}
    )
    try:
        candidate = context.new_page()
        seen = watch(candidate)
        candidate.goto(f"{parts.path}?{parts.query}")
        candidate.wait_for_url(re.compile(r"tz=America%2FNew_York"))
        assert candidate.get_by_label("Show the times in").input_value() == "America/New_York"
        in_new_york = [t.replace(tzinfo=BERLIN).astimezone(NEW_YORK) for t in (first, second)]
        labels = [f"{t:%H:%M}{DASH}{t + timedelta(minutes=45):%H:%M}" for t in in_new_york]
        for label in labels:
            assert candidate.get_by_label(re.compile(re.escape(label))).count() == 1, label
        assert (
            candidate.get_by_text(f"{in_new_york[1]:%A} {in_new_york[1].day} {in_new_york[1]:%B %Y}").count()
            == 1
        )
        shot(candidate, "interview-candidate-zone")

        candidate.get_by_label(re.compile(re.escape(labels[1]))).check()
        candidate.get_by_role("button", name="Book this time").click()
        candidate.wait_for_load_state()
        assert "Your interview is booked" in candidate.content()
        booked = candidate.locator(".booked-time").inner_text()
        assert booked == f"{in_new_york[1]:%A} {in_new_york[1].day} {in_new_york[1]:%B %Y}, {labels[1]}"
        assert candidate.get_by_role("button", name="Cancel my interview").count() == 1
        shot(candidate, "interview-booked")
        candidate.set_viewport_size({"width": 390, "height": 844})
        shot(candidate, "interview-booked-phone")
        problems = seen.problems(stack.base_url)
        assert not problems, problems
    finally:
        context.close()

    # Both sides are emailed: the candidate in their zone, the recruiter (who interviews).
    confirmation = outbox_until(stack, lambda m: email in m["to"] and "is booked" in m["subject"])[0]
    assert "America/New_York" in confirmation["subject"]
    assert confirmation["headers"]["Content-Type"].startswith("multipart/mixed")
    outbox_until(stack, lambda m: "recruiter@example.com" in m["to"] and f"Zone{u}" in m["subject"])

    page.reload()
    starts_utc = second.replace(tzinfo=BERLIN).astimezone(UTC)
    assert page.get_by_text(re.compile(r"^Booked for ")).count() == 1
    assert f"{second:%H:%M}" in page.get_by_text(re.compile(r"^Booked for ")).inner_text()
    assert starts_utc > datetime.now(UTC)
    shot(page, "interview-recruiter-booked")
