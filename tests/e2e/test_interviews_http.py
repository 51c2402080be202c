"""Interview bookings racing over HTTP against the local stack (its threaded server, moto as a real
endpoint): candidates offered the same time, and two tabs of one candidate, post their bookings at
once. One booking wins; every other candidate gets a 409 naming the times still free, and the
calendar is never double booked. The demo data's offers have their links in the outbox."""

from __future__ import annotations

import html
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.e2e.conftest import CrmDev, seeded_stack

__all__ = ["seeded_stack"]  # the fixture, imported for its name

JSON = {"Accept": "application/json"}


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def links_by_address(stack: CrmDev, auth: dict[str, str], subject: str, count: int) -> dict[str, str]:
    """The booking tokens of the emails whose subject is ``subject``, by address (waits for the
    stack's mail worker)."""
    deadline = time.monotonic() + 60
    while True:
        found: dict[str, str] = {}
        for mail in stack.get("/dev/outbox", headers=auth).json()["items"]:
            match = re.search(r"/careers/interviews\?token=([^\"&]+)", mail["html"] or "")
            if mail["subject"] == subject and match:
                found[mail["to"][0]] = requests.utils.unquote(html.unescape(match.group(1)))
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} links arrived"
        time.sleep(1)


def race(stack: CrmDev, bodies: list[dict[str, Any]]) -> list[requests.Response]:
    """Post every body at once, each from a thread and a connection of its own."""
    barrier = threading.Barrier(len(bodies), timeout=30)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def post(body: dict[str, Any]) -> None:
        session = requests.Session()
        session.trust_env = False
        barrier.wait()
        answer = session.post(f"{stack.base_url}/careers/interviews", json=body, headers=JSON, timeout=60)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_racing_bookings_over_http_leave_one_booking_per_slot(seeded_stack: CrmDev) -> None:
    stack = seeded_stack
    auth = stack.auth()
    u = uuid.uuid4().hex[:6]
    title = f"Race engineer {u}"
    job = stack.http.post(f"{stack.base_url}/v1/jobs", json={"title": title}, headers=auth, timeout=30).json()
    start = (datetime.now(UTC) + timedelta(days=8)).replace(hour=9, minute=0, second=0, microsecond=0)
    slot, later = z(start), z(start + timedelta(hours=3))
    addresses = [f"race{n}-{u}@example.com" for n in range(6)]
    for n, address in enumerate(addresses):
        person = {"email": address, "first_name": "Race", "last_name": f"Runner{n}"}
        assert stack.post(f"/public/jobs/{job['id']}/applications", json=person).status_code == 202
    applications = stack.http.get(
        f"{stack.base_url}/v1/jobs/{job['id']}/applications?limit=100", headers=auth, timeout=30
    ).json()["items"]
    assert len(applications) == len(addresses)
    offer = {
        "slots": [{"start": slot}, {"start": later}],
        "duration_minutes": 60,
        "timezone": "UTC",
        "interviewers": [f"panel-{u}@example.com"],
    }
    for application in applications:
        answer = stack.http.post(
            f"{stack.base_url}/v1/applications/{application['id']}/interviews",
            json=offer,
            headers=auth,
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
    tokens = links_by_address(stack, auth, f"Choose a time for your interview: {title}", len(addresses))

    # Six candidates, one time, at once: one booking.
    answers = race(stack, [{"token": tokens[a], "slot": slot} for a in addresses])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 5, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["free_slots"] == [{"start": later, "end": z(start + timedelta(hours=4))}]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert winner["state"] == "booked" and winner["booked"]["start"] == slot

    # A double click: one candidate posts the other time twice at once; one booking, both told so.
    loser = next(
        a
        for a in addresses
        if stack.get(f"/careers/interviews?token={tokens[a]}", headers=JSON).json()["state"] == "offered"
    )
    clicks = race(stack, [{"token": tokens[loser], "slot": later, "seen": ""}] * 2)
    assert [c.status_code for c in clicks] == [200, 200]
    assert {c.json()["booked"]["start"] for c in clicks} == {later}
    # Now every time is taken for everyone else.
    for address in addresses:
        view = stack.get(f"/careers/interviews?token={tokens[address]}", headers=JSON).json()
        assert view["free_slots"] == [], (address, view)
    states = [
        stack.get(f"/careers/interviews?token={tokens[a]}", headers=JSON).json()["state"] for a in addresses
    ]
    assert sorted(states) == ["booked"] * 2 + ["offered"] * 4

    # Two tabs of one candidate, two different times, each from a page that showed no booking.
    tabs_at = [z(start + timedelta(days=1)), z(start + timedelta(days=1, hours=2))]
    person = {"email": f"tabs-{u}@example.com", "first_name": "Two", "last_name": "Tabs"}
    assert stack.post(f"/public/jobs/{job['id']}/applications", json=person).status_code == 202
    listed = stack.http.get(
        f"{stack.base_url}/v1/jobs/{job['id']}/applications?limit=100", headers=auth, timeout=30
    ).json()["items"]
    (fresh,) = [a for a in listed if a["id"] not in {b["id"] for b in applications}]
    body = {**offer, "slots": [{"start": t} for t in tabs_at]}
    answer = stack.http.post(
        f"{stack.base_url}/v1/applications/{fresh['id']}/interviews", json=body, headers=auth, timeout=30
    )
    assert answer.status_code == 201, answer.text
    token = links_by_address(stack, auth, f"Choose a time for your interview: {title}", len(addresses) + 1)[
        person["email"]
    ]
    tabs = race(stack, [{"token": token, "slot": t, "seen": ""} for t in tabs_at])
    assert sorted(t.status_code for t in tabs) == [200, 409], [t.text for t in tabs]
    view = stack.get(f"/careers/interviews?token={token}", headers=JSON).json()
    won = next(t for t in tabs if t.status_code == 200).json()["booked"]["start"]
    assert view["state"] == "booked" and view["booked"]["start"] == won
    assert [s["start"] for s in view["free_slots"]] == [t for t in tabs_at if t != won]


def test_the_demo_offers_interviews_whose_links_book(seeded_stack: CrmDev) -> None:
    stack = seeded_stack
    auth = stack.auth()
    deadline = time.monotonic() + 60
    while True:
        mails = [
            m
            for m in stack.get("/dev/outbox", headers=auth).json()["items"]
            if "Choose a time" in m["subject"]
        ]
        demo = [m for m in mails if "Race engineer" not in m["subject"]]
        if demo:
            break
        assert time.monotonic() < deadline, "no demo interview offer in the outbox"
        time.sleep(1)
    match = re.search(r"/careers/interviews\?token=([^\"&]+)", demo[0]["html"])
    assert match
    page = stack.get(f"/careers/interviews?token={match.group(1)}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Choose a time" in page.text
