"""A slot is never booked twice: bookings race in threads against one moto back end, each made to
read the interviewers' calendar before any of them writes (a barrier), so every one of them saw
the slot free. Exactly one wins; the others are told the slot is taken (another candidate) or
that the interview changed meanwhile (another tab), and the calendar holds one booking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from crm.interviews.models import InterviewOffer
from crm.interviews.repository import Calendar, InterviewRepository
from crm.interviews.service import InterviewChanged, InterviewService, SlotTaken
from tests.integration.conftest import Env
from tests.integration.test_hiring_pipeline import make_job
from tests.integration.test_interviews import application_of, at, z
from tests.support.engagement import serialise_moto

INTERVIEWER = "ivy@example.com"


class ReadTogether(InterviewRepository):
    """Waits at ``barrier`` once it has read the calendars the first time: every racer has read
    the slot free before any of them writes."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier
        self.waited = False

    def calendars(self, owners: list[str]) -> dict[str, Calendar]:
        found = super().calendars(owners)
        if not self.waited:
            self.waited = True
            self.barrier.wait()
        return found


def offered(env: Env, job_id: str, email: str, starts: list[str]) -> str:
    application = application_of(env, job_id, email)
    data = InterviewOffer.model_validate(
        {
            "slots": [{"start": s} for s in starts],
            "duration_minutes": 60,
            "timezone": "UTC",
            "interviewers": [INTERVIEWER],
        }
    )
    return InterviewService().offer(application["id"], data, actor="user:test", email=None).id


def race(jobs: list[Callable[[InterviewService], Any]], *, together: bool = True) -> list[str]:
    """Run each job on a thread of its own (each with its own service); what each ended with."""
    barrier = threading.Barrier(len(jobs), timeout=20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Callable[[InterviewService], Any]) -> None:
        service = InterviewService(ReadTogether(barrier)) if together else InterviewService()
        try:
            job(service)
            outcome = "booked"
        except SlotTaken:
            outcome = "taken"
        except InterviewChanged:
            outcome = "changed"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    undo = serialise_moto()  # each AWS call alone, as DynamoDB applies each request atomically
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        undo()
    return sorted(outcomes)


def calendar_bookings() -> dict[str, Any]:
    return {
        k: (b.start, b.end)
        for k, b in InterviewRepository().calendars([INTERVIEWER])[INTERVIEWER].busy.items()
    }


@pytest.mark.parametrize("trial", range(3))
def test_two_candidates_offered_the_same_slot_cannot_both_book_it(env: Env, trial: int) -> None:
    job = make_job(env)
    slot, other = z(at(5 + trial)), z(at(5 + trial, 14))
    first = offered(env, job["id"], f"a{trial}@example.com", [slot, other])
    second = offered(env, job["id"], f"b{trial}@example.com", [slot])
    outcomes = race([lambda s: s.book(first, slot), lambda s: s.book(second, slot)])
    assert outcomes == ["booked", "taken"]
    states = {i: InterviewService().get(i) for i in (first, second)}
    winners = [i for i, interview in states.items() if interview.state == "booked"]
    assert len(winners) == 1 and states[winners[0]].start == slot
    assert calendar_bookings() == {winners[0]: (slot, z(at(5 + trial, 10)))}
    # The loser still sees what is left to them.
    loser = next(i for i in states if i not in winners)
    left = InterviewService().free_slots(states[loser])
    assert [s.start for s in left] == ([other] if loser == first else [])


def test_many_candidates_at_once_one_slot_one_winner(env: Env) -> None:
    job = make_job(env)
    slot = z(at(9))
    ids = [offered(env, job["id"], f"m{n}@example.com", [slot]) for n in range(6)]
    outcomes = race([lambda s, i=i: s.book(i, slot) for i in ids])
    assert outcomes == ["booked"] + ["taken"] * 5
    assert len(calendar_bookings()) == 1


def test_two_tabs_of_one_candidate_cannot_both_book(env: Env) -> None:
    job = make_job(env)
    a, b = z(at(10)), z(at(10, 13))
    interview = offered(env, job["id"], "tabs@example.com", [a, b])
    # Two tabs, two different times, each from a page that showed the interview not yet booked.
    outcomes = race(
        [lambda s: s.book(interview, a, seen_start=""), lambda s: s.book(interview, b, seen_start="")]
    )
    assert outcomes == ["booked", "changed"]
    stored = InterviewService().get(interview)
    assert stored.state == "booked" and stored.sequence == 0 and stored.version == 2
    assert list(calendar_bookings().values()) == [(stored.start, stored.end)]
    # The same time from two tabs (a double click): one booking, both told it is booked.
    job2 = make_job(env)
    again = offered(env, job2["id"], "double@example.com", [z(at(11))])
    assert race([lambda s: s.book(again, z(at(11)))] * 2) == ["booked", "booked"]
    assert InterviewService().get(again).version == 2
    timeline = env.client.http.get(
        f"/v1/candidates/{InterviewService().get(again).candidate_id}/timeline", headers=env.auth("admin")
    ).json_body["items"]
    assert [e["kind"] for e in timeline].count("interview_booked") == 1
