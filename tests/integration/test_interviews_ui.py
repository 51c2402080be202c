"""The recruiter's interview forms on a profile: offering slots from date-and-time rows read in a
chosen zone (a wall time the clocks skip, a past one, a bad length: the form again, naming the
row, nothing stored), the list with each interview's state, cancelling, and feedback on a booked
interview; a hiring manager sees the list and gives feedback, and offers nothing."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm.interviews.links import booking_token
from crm.interviews.service import InterviewService
from tests.integration.conftest import PASSWORD, Env
from tests.integration.test_hiring_pipeline import make_job
from tests.integration.test_interviews import application_of, book, settle
from tests.integration.test_ui import csrf_of, get, post_form, session, sign_in
from tests.support.engagement import QueueDriver
from tests.support.stack import create_user

__all__ = ["session"]  # the fixture, imported for its name

BERLIN = ZoneInfo("Europe/Berlin")


def wall(days: int, hour: int) -> datetime:
    """A wall time in Berlin, ``days`` from now."""
    day = datetime.now(BERLIN) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=None)


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def utc_of(moment: datetime) -> str:
    return moment.replace(tzinfo=BERLIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile(env: Env, candidate_id: str, cookie: str) -> str:
    response = get(env, f"/ui/candidates/{candidate_id}", cookie)
    assert response.status_code == 200, response.body
    return response.body.decode()


def offer_form(env: Env, app: dict[str, Any], cookie: str, **fields: str) -> Any:
    page = get(env, f"/ui/candidates/{app['candidate_id']}", cookie)
    base = {
        "csrf": csrf_of(page.body),
        "title": "Interview",
        "duration_minutes": "30",
        "timezone": "Europe/Berlin",
        "slot-0": local(wall(3, 10)),
        "slot-2": local(wall(4, 15)),
        "interviewers": "",
        "location": "Video call",
        "message": "Looking forward to it.",
        **fields,
    }
    return post_form(env, f"/ui/applications/{app['id']}/interviews", base, cookie)


def test_a_recruiter_offers_slots_from_the_profile_and_sees_their_state(
    env: Env, session: str, driver: QueueDriver
) -> None:
    job = make_job(env)
    app = application_of(env, job["id"], "pia@example.com", first_name="Pia", last_name="Profile")
    page = profile(env, app["candidate_id"], session)
    assert "Offer interview slots" in page and 'type="datetime-local"' in page
    assert 'name="timezone" data-browser-zone' in page and "/ui/static/interview-zone.js" in page

    offered = offer_form(env, app, session)
    assert offered.status_code == 303, offered.body
    assert offered.headers["Location"].endswith(f"done=interview-offered#interviews-{app['id']}")
    (interview,) = InterviewService().of_application(app["id"])
    # The rows are wall times in Berlin (whatever its offset on each day), one row left empty.
    assert [s.start for s in interview.slots] == [utc_of(wall(3, 10)), utc_of(wall(4, 15))]
    assert interview.organizer_email == "recruiter@example.com" and interview.interviewers == []
    assert interview.location == "Video call"

    page = html.unescape(profile(env, app["candidate_id"], session))
    assert "Offered: 2 times, not booked yet" in page and f"{wall(3, 10):%H:%M}" in page
    settle(env, driver)  # the link goes out, and shows in the person's email history
    assert f"Interview for {job['title']}: choose a time" in profile(env, app["candidate_id"], session)

    board = get(env, f"/ui/jobs/{job['id']}", session).body.decode()
    assert "Interview offered, not booked yet" in board
    assert book(env, booking_token(interview.id), interview.slots[1].start).status_code == 200
    board = html.unescape(get(env, f"/ui/jobs/{job['id']}", session).body.decode())
    booked_at = wall(4, 15).replace(tzinfo=BERLIN)
    assert f"Interview {booked_at:%a} {booked_at.day} {booked_at:%b}, 15:00 {booked_at.tzname()}" in board
    page = html.unescape(profile(env, app["candidate_id"], session))
    assert f"Booked for {wall(4, 15):%A} {wall(4, 15).day}" in page
    assert "Give feedback on this interview" in page
    timeline = [line for line in page.splitlines() if "Interview booked for" in line]
    assert timeline, "the booking is on the timeline"

    # Feedback on it, from the interview's own form.
    csrf = csrf_of(get(env, f"/ui/candidates/{app['candidate_id']}", session).body)
    ratings = {f"rating-{n}": "3" for n in range(3)}
    given = post_form(
        env,
        f"/ui/interviews/{interview.id}/feedback",
        {"csrf": csrf, **ratings, "recommendation": "yes", "notes": "Clear."},
        session,
    )
    assert given.status_code == 303, given.body
    assert "You gave feedback on this interview." in profile(env, app["candidate_id"], session)
    again = post_form(
        env,
        f"/ui/interviews/{interview.id}/feedback",
        {"csrf": csrf, **ratings, "recommendation": "no"},
        session,
    )
    assert again.status_code == 422 and "already" in again.body.decode()

    # Cancelling from the list.
    cancelled = post_form(env, f"/ui/interviews/{interview.id}/cancel", {"csrf": csrf}, session)
    assert cancelled.status_code == 303
    assert "Cancelled by a recruiter" in profile(env, app["candidate_id"], session)
    assert InterviewService().get(interview.id).state == "cancelled"


def test_a_bad_offer_comes_back_on_its_own_page_naming_each_row(env: Env, session: str) -> None:
    job = make_job(env)
    app = application_of(env, job["id"], "rowan@example.com")
    # 02:30 on the last Sunday of March does not exist in Berlin (the clocks go from 02:00 to 03:00).
    year = datetime.now(UTC).year + 1
    last_sunday = max(d for d in (datetime(year, 3, day) for day in range(25, 32)) if d.weekday() == 6)
    skipped = last_sunday.replace(hour=2, minute=30)
    past = wall(-2, 10)
    response = offer_form(
        env,
        app,
        session,
        **{
            "slot-0": local(skipped),
            "slot-1": local(past),
            "slot-3": "soon",
            "slot-4": "0001-01-01T00:30",  # before any UTC time there is
            "duration_minutes": "5",
        },
    )
    assert response.status_code == 422, response.body
    text = html.unescape(response.body.decode())
    assert "Nothing was offered" in text
    assert "the clocks change then" in text and "Use a date and a time" in text
    assert "Use a date between the years 2 and 9998." in text
    assert f'value="{local(past)}"' in text and 'value="5"' in text  # what was typed is kept
    assert InterviewService().of_application(app["id"]) == []

    # With the rows fixed, the model's own rules name the row and the length.
    response = offer_form(env, app, session, duration_minutes="5")
    assert response.status_code == 422
    text = html.unescape(response.body.decode())
    assert 'id="ivd-' in text and 'aria-invalid="true"' in text and "10" in text
    response = offer_form(env, app, session, **{"slot-1": local(past)})
    assert response.status_code == 422
    text = html.unescape(response.body.decode())
    assert f'id="ive-{app["id"]}-1"' in text and "Is in the past" in text
    empty = offer_form(env, app, session, **{"slot-0": "", "slot-2": ""})
    assert empty.status_code == 422 and InterviewService().of_application(app["id"]) == []
    # The page of its own opens too (a link to it, with the application's interviews).
    opened = get(env, f"/ui/applications/{app['id']}/interviews", session)
    assert opened.status_code == 200 and "Offer these times" in opened.body.decode()
    assert get(env, "/ui/applications/nobody_nothing/interviews", session).status_code == 404


def test_a_hiring_manager_sees_interviews_and_gives_feedback_but_offers_nothing(
    env: Env, session: str
) -> None:
    create_user(env.stack, "hm@example.com", PASSWORD, "hiring_manager")
    job = make_job(env, hiring_managers=["hm@example.com"])
    app = application_of(env, job["id"], "hana@example.com")
    assert offer_form(env, app, session).status_code == 303
    (interview,) = InterviewService().of_application(app["id"])
    assert book(env, booking_token(interview.id), interview.slots[0].start).status_code == 200
    signed = sign_in(env, "hm@example.com")
    cookie = "crm_session=" + signed.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    page = profile(env, app["candidate_id"], cookie)
    assert "Give feedback on this interview" in page
    assert "Offer interview slots" not in page and "Cancel the interview" not in page
    csrf = csrf_of(page.encode())
    refused = post_form(env, f"/ui/applications/{app['id']}/interviews", {"csrf": csrf}, cookie)
    assert refused.status_code == 403
    cancel = post_form(env, f"/ui/interviews/{interview.id}/cancel", {"csrf": csrf}, cookie)
    assert cancel.status_code == 403 and InterviewService().get(interview.id).state == "booked"
    ratings = {f"rating-{n}": "4" for n in range(3)}
    given = post_form(
        env,
        f"/ui/interviews/{interview.id}/feedback",
        {"csrf": csrf, **ratings, "recommendation": "strong_yes"},
        cookie,
    )
    assert given.status_code == 303, given.body
