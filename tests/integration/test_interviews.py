"""Interview self-scheduling end to end under moto: a recruiter offers slots on an application,
the candidate follows the emailed link, sees the free slots in a zone they pick and books one;
both sides get the .ics invitation; moving keeps its uid and raises its sequence, cancelling sends
METHOD:CANCEL and frees the time; the interview is on the application and the timeline; feedback
is given on it. Bad input names its field and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import boto3
from icalendar import Calendar

from tests.integration.conftest import Env, json_post
from tests.integration.test_hiring_pipeline import apply, make_job
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages

HTML = {"Accept": "text/html,application/xhtml+xml"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **HTML}
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def settle(env: Env, driver: QueueDriver) -> None:
    engagement.settle(env.pump, driver)


def at(days: int, hour: int = 9, minute: int = 0) -> datetime:
    """A time ``days`` from today at ``hour``:``minute`` UTC."""
    base = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return base + timedelta(days=days)


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def application_of(env: Env, job_id: str, email: str, **fields: Any) -> dict[str, Any]:
    apply(env, job_id, email, **fields)
    items = env.client.http.get(f"/v1/jobs/{job_id}/applications", headers=env.auth("recruiter")).json_body[
        "items"
    ]
    by_id = {i["candidate_id"]: i for i in items}
    from crm.candidates.service import CandidateService

    candidate_id = CandidateService().find_id_by_email(email)
    return dict(by_id[candidate_id])


def offer(env: Env, application_id: str, who: str = "recruiter", **body: Any) -> Any:
    sent = {
        "slots": [{"start": z(at(3))}, {"start": z(at(3, 11))}, {"start": z(at(4))}],
        "duration_minutes": 45,
        "timezone": "Europe/Berlin",
        "interviewers": ["ivy@example.com"],
        **body,
    }
    return json_post(env, f"/v1/applications/{application_id}/interviews", sent, env.auth(who))


def link_of(message: EmailMessage) -> str:
    """The booking link of an email (its path and query)."""
    body = message.get_body(("html",))
    assert body is not None
    html = str(body.get_content())
    start = html.index("/careers/interviews?token=")
    end = html.index('"', start)
    return html[start:end].replace("&amp;", "&")


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["token"][0]


def to(message: EmailMessage) -> str:
    """The address an email went to."""
    return parseaddr(str(message["To"]))[1]


def invitation(message: EmailMessage) -> Calendar | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True))
    return None


def event_of(message: EmailMessage) -> Any:
    calendar = invitation(message)
    assert calendar is not None, message["Subject"]
    return calendar, next(iter(calendar.walk("VEVENT")))


def book(env: Env, token: str, slot: str, **more: Any) -> Any:
    return env.client.http.post(
        "/careers/interviews", body=json.dumps({"token": token, "slot": slot, **more}), headers=JSON
    )


def page_of(env: Env, token: str, **query: str) -> Any:
    return env.client.http.get(f"/careers/interviews?{urlencode({'token': token, **query})}", headers=JSON)


def post_form(env: Env, fields: dict[str, str]) -> Any:
    return env.client.http.post("/careers/interviews", body=urlencode(fields).encode(), headers=FORM)


def timeline_kinds(env: Env, candidate_id: str) -> list[str]:
    items = env.client.http.get(
        f"/v1/candidates/{candidate_id}/timeline", headers=env.auth("admin")
    ).json_body["items"]
    return [i["kind"] for i in items]


def new_mail(before: int) -> list[EmailMessage]:
    return sent_messages()[before:]


# ---------------------------------------------------------------------------------- the flow


def test_a_candidate_books_in_their_zone_and_both_sides_get_the_invitation(
    env: Env, driver: QueueDriver
) -> None:
    job = make_job(env, interviews=["Technical interview", "On-site"])
    app = application_of(env, job["id"], "cora@example.com", first_name="Cora", last_name="Candidate")
    offered = offer(env, app["id"])
    assert offered.status_code == 201, offered.body
    interview = offered.json_body
    assert interview["state"] == "offered" and interview["title"] == "Technical interview"
    assert [s["start"] for s in interview["slots"]] == [z(at(3)), z(at(3, 11)), z(at(4))]
    assert interview["slots"][0]["end"] == z(at(3, 9, 45))
    assert interview["organizer_email"] == "recruiter@example.com"

    settle(env, driver)
    (mail,) = [m for m in sent_messages() if to(m).endswith("cora@example.com")]
    assert "Choose a time" in str(mail["Subject"]) and invitation(mail) is None
    link = link_of(mail)
    token = token_of(link)

    # The page starts in the offer's zone; any zone may be chosen; the JSON view says the same.
    shown = page_of(env, token).json_body
    assert shown["timezone"] == "Europe/Berlin" and len(shown["free_slots"]) == 3
    tokyo = page_of(env, token, tz="Asia/Tokyo").json_body
    first_tokyo = at(3).astimezone(ZoneInfo("Asia/Tokyo"))
    assert tokyo["free_slots"][0]["time"].startswith(f"{first_tokyo:%H:%M}")
    html = env.client.http.get(link, headers=HTML)
    assert html.status_code == 200 and "Choose a time" in html.body.decode()
    assert "script-src 'self'" in html.headers["Content-Security-Policy"]
    assert "/ui/static/interview-zone.js" in html.body.decode()

    booked = book(env, token, z(at(3, 11)), tz="Asia/Tokyo")
    assert booked.status_code == 200, booked.body
    assert booked.json_body["state"] == "booked"
    assert booked.json_body["booked"]["start"] == z(at(3, 11))
    assert [s["start"] for s in booked.json_body["free_slots"]] == [z(at(3)), z(at(4))]

    before = len(sent_messages())
    settle(env, driver)
    mails = {to(m): m for m in new_mail(before)}
    assert set(mails) == {"cora@example.com", "ivy@example.com", "recruiter@example.com"}
    candidate_calendar, candidate_event = event_of(mails["cora@example.com"])
    assert str(candidate_calendar["METHOD"]) == "REQUEST"
    assert candidate_event.decoded("DTSTART") == at(3, 11)
    assert candidate_event.decoded("DTEND") == at(3, 11, 45)
    assert int(candidate_event["SEQUENCE"]) == 0
    assert "is booked" in str(mails["cora@example.com"]["Subject"])
    # The candidate's email reads in the zone they booked in; the team's in the offer's.
    assert "Asia/Tokyo" in str(mails["cora@example.com"]["Subject"])
    assert "Europe/Berlin" in str(mails["ivy@example.com"]["Subject"])
    _, team_event = event_of(mails["ivy@example.com"])
    assert team_event["UID"] == candidate_event["UID"]
    assert "Cora Candidate" in str(team_event["SUMMARY"])

    # On the application (API), one by id, and on the timeline.
    listed = env.client.http.get(f"/v1/applications/{app['id']}/interviews", headers=env.auth("recruiter"))
    assert [i["state"] for i in listed.json_body["items"]] == ["booked"]
    one = env.client.http.get(f"/v1/interviews/{interview['id']}", headers=env.auth("recruiter")).json_body
    assert one["start"] == z(at(3, 11)) and one["candidate_timezone"] == "Asia/Tokyo"
    kinds = timeline_kinds(env, app["candidate_id"])
    assert kinds[:2] == ["interview_booked", "interview_offered"]

    # Settling again (a replayed stream, a redelivered message) sends nothing more.
    count = len(sent_messages())
    settle(env, driver)
    assert len(sent_messages()) == count


def test_moving_keeps_the_uid_and_raises_the_sequence_and_cancelling_frees_the_time(
    env: Env, driver: QueueDriver
) -> None:
    job = make_job(env)
    app = application_of(env, job["id"], "milo@example.com")
    interview = offer(env, app["id"]).json_body
    settle(env, driver)
    token = token_of(link_of(next(m for m in sent_messages() if "milo@" in to(m))))
    assert book(env, token, z(at(3))).status_code == 200
    settle(env, driver)
    first_uid = event_of([m for m in sent_messages() if "milo@" in to(m)][-1])[1]["UID"]

    # Moving through the page's form (a browser): a 303 back to the page, which says so.
    moved = post_form(
        env, {"token": token, "action": "book", "slot": z(at(4)), "tz": "UTC", "seen": z(at(3))}
    )
    assert moved.status_code == 303, moved.body
    assert "done=moved" in moved.headers["Location"]
    again = env.client.http.get(moved.headers["Location"], headers=HTML).body.decode()
    assert "Your interview is moved" in again
    before = len(sent_messages())
    settle(env, driver)
    mails = new_mail(before)
    assert {to(m) for m in mails} == {
        "milo@example.com",
        "ivy@example.com",
        "recruiter@example.com",
    }
    for message in mails:
        calendar, event = event_of(message)
        assert (str(calendar["METHOD"]), event["UID"], int(event["SEQUENCE"])) == ("REQUEST", first_uid, 1)
        assert event.decoded("DTSTART") == at(4)
    assert "moved" in str(mails[0]["Subject"])

    # The time freed by the move can go to someone else; the new one cannot.
    other = application_of(env, job["id"], "nia@example.com")
    same_times = offer(env, other["id"], slots=[{"start": z(at(3))}, {"start": z(at(5))}])
    assert same_times.status_code == 201, same_times.body
    taken = offer(env, other["id"], slots=[{"start": z(at(4, 9, 30))}])
    assert taken.status_code == 422 and taken.json_body["errors"][0]["field"] == "slots.0.start"
    settle(env, driver)  # Nia's offer email

    # Cancelling from the link: CANCEL to both sides, same uid, a higher sequence; the time is free.
    cancelled = post_form(env, {"token": token, "action": "cancel", "tz": "UTC"})
    assert cancelled.status_code == 303
    before = len(sent_messages())
    settle(env, driver)
    mails = new_mail(before)
    assert len(mails) == 3
    for message in mails:
        calendar, event = event_of(message)
        assert (str(calendar["METHOD"]), event["UID"], int(event["SEQUENCE"])) == ("CANCEL", first_uid, 2)
        assert str(event["STATUS"]) == "CANCELLED"
    assert "by the candidate" in next(m for m in mails if "ivy@" in to(m)).get_body(("html",)).get_content()
    state = env.client.http.get(f"/v1/interviews/{interview['id']}", headers=env.auth("recruiter")).json_body
    assert state["state"] == "cancelled" and state["cancelled_by"] == "candidate"
    assert offer(env, other["id"], slots=[{"start": z(at(4, 9, 30))}]).status_code == 201
    page = env.client.http.get(f"/careers/interviews?token={token}", headers=HTML).body.decode()
    assert "This interview is cancelled" in page
    assert book(env, token, z(at(4))).status_code == 409
    assert timeline_kinds(env, app["candidate_id"])[:4] == [
        "interview_cancelled",
        "interview_rescheduled",
        "interview_booked",
        "interview_offered",
    ]


def test_the_same_times_offered_to_two_candidates_go_to_whoever_books_first(
    env: Env, driver: QueueDriver
) -> None:
    job = make_job(env)
    first = application_of(env, job["id"], "ana@example.com")
    second = application_of(env, job["id"], "ben@example.com")
    slots = [{"start": z(at(6))}, {"start": z(at(6, 10))}]
    offer(env, first["id"], slots=slots)
    offer(env, second["id"], slots=slots)
    settle(env, driver)
    tokens = {
        who: token_of(link_of(next(m for m in sent_messages() if f"{who}@" in to(m))))
        for who in ("ana", "ben")
    }
    assert book(env, tokens["ana"], z(at(6))).status_code == 200
    # Ben's page no longer offers it; booking it anyway is a 409 naming the times still free.
    assert [s["start"] for s in page_of(env, tokens["ben"]).json_body["free_slots"]] == [z(at(6, 10))]
    late = book(env, tokens["ben"], z(at(6)))
    assert late.status_code == 409, late.body
    assert late.headers["Content-Type"] == "application/problem+json"
    assert late.json_body["free_slots"] == [{"start": z(at(6, 10)), "end": z(at(6, 10, 45))}]
    # A browser gets the page again, saying so and listing the other time.
    form = post_form(env, {"token": tokens["ben"], "action": "book", "slot": z(at(6)), "seen": ""})
    assert form.status_code == 409
    text = form.body.decode()
    assert "just been taken" in text and z(at(6, 10)) in text and f'value="{z(at(6))}"' not in text
    assert book(env, tokens["ben"], z(at(6, 10))).status_code == 200


def test_feedback_is_given_on_a_booked_interview_and_linked_to_it(env: Env, driver: QueueDriver) -> None:
    job = make_job(env, scorecard=["Python"], interviews=["Technical interview"])
    app = application_of(env, job["id"], "fin@example.com")
    interview = offer(env, app["id"]).json_body
    body = {"ratings": {"Python": 3}, "recommendation": "yes", "notes": "Good."}
    early = json_post(env, f"/v1/interviews/{interview['id']}/feedback", body, env.auth("recruiter"))
    assert early.status_code == 409, early.body  # offered, not booked yet
    settle(env, driver)
    from crm.interviews.links import booking_token

    assert book(env, booking_token(interview["id"]), z(at(3))).status_code == 200
    given = json_post(env, f"/v1/interviews/{interview['id']}/feedback", body, env.auth("recruiter"))
    assert given.status_code == 201, given.body
    assert given.json_body["interview_id"] == interview["id"]
    assert given.json_body["interview"] == "Technical interview"
    twice = json_post(env, f"/v1/interviews/{interview['id']}/feedback", body, env.auth("recruiter"))
    assert twice.status_code == 422 and twice.json_body["errors"][0]["field"] == "interview"
    bad = json_post(
        env,
        f"/v1/interviews/{interview['id']}/feedback",
        {**body, "ratings": {"Python": 5}},
        env.auth("admin"),
    )
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"] == "ratings.Python"
    listed = env.client.http.get(
        f"/v1/applications/{app['id']}/feedback", headers=env.auth("admin")
    ).json_body
    assert [f["interview_id"] for f in listed["items"]] == [interview["id"]]
    assert (
        json_post(env, "/v1/interviews/nope_nope_nope/feedback", body, env.auth("admin")).status_code == 404
    )


# ---------------------------------------------------------------------------------- bad input


def test_bad_offers_are_422s_naming_the_field_and_store_nothing(env: Env) -> None:
    job = make_job(env)
    app = application_of(env, job["id"], "bo@example.com")

    def refused(field: str, **body: Any) -> None:
        response = offer(env, app["id"], **body)
        assert response.status_code == 422, (body, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json_body["errors"]], response.body

    refused("slots.0.start", slots=[{"start": z(at(3))[:-1]}])  # no time zone
    refused("slots.1.start", slots=[{"start": z(at(3))}, {"start": z(at(-1))}])  # past
    refused("slots.1.start", slots=[{"start": z(at(3))}, {"start": z(at(3, 9, 30))}])  # overlapping
    refused("duration_minutes", duration_minutes=9)
    refused("duration_minutes", duration_minutes=8 * 60 + 1)
    refused("slots", slots=[])
    refused("slots", slots=[{"start": z(at(3 + n))} for n in range(21)])
    refused("timezone", timezone="Middle/Earth")
    refused("title", title="Coffee chat")
    refused("interviewers.0", interviewers=["nobody"])
    listed = env.client.http.get(f"/v1/applications/{app['id']}/interviews", headers=env.auth("recruiter"))
    assert listed.json_body["items"] == []
    assert offer(env, "nobody_nothing").status_code == 404
    assert offer(env, f"{app['candidate_id']}_nojob").status_code == 404
    # An API key has no calendar: it names the interviewers.
    key = json_post(env, "/v1/api-keys", {"name": "ats", "scope": "read-write"}, env.auth("admin")).json_body
    by_key = env.client.http.post(
        f"/v1/applications/{app['id']}/interviews",
        body=json.dumps({"slots": [{"start": z(at(3))}], "duration_minutes": 30, "timezone": "UTC"}),
        headers={"Content-Type": "application/json", "X-Api-Key": key["key"]},
    )
    assert by_key.status_code == 422 and by_key.json_body["errors"][0]["field"] == "interviewers"


def test_forged_expired_or_foreign_links_are_refused_and_change_nothing(
    env: Env, driver: QueueDriver
) -> None:
    from crm.platform.signing import sign

    job = make_job(env)
    app = application_of(env, job["id"], "fo@example.com")
    interview = offer(env, app["id"]).json_body
    settle(env, driver)
    token = token_of(link_of(next(m for m in sent_messages() if "fo@" in to(m))))

    def items() -> list[str]:
        scanned = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
        return sorted(json.dumps(i, sort_keys=True) for i in scanned)

    before = items()
    bad_tokens = [
        token[:-3] + "abc",  # forged
        sign("portal", {"c": app["candidate_id"]}),  # made for another purpose
        sign("interview", {"i": f"{app['candidate_id']}_{job['id']}_gone"}),  # no such interview
        "",
    ]
    for bad in bad_tokens:
        page = env.client.http.get(f"/careers/interviews?{urlencode({'token': bad})}", headers=HTML)
        assert page.status_code == 400 and "This link does not work" in page.body.decode(), bad
        as_json = book(env, bad, interview["slots"][0]["start"])
        assert as_json.status_code == 400 and as_json.json_body["type"].endswith("/invalid-link")
        form = post_form(env, {"token": bad, "action": "cancel"})
        assert form.status_code == 400 and "Nothing was changed" in form.body.decode()
    assert items() == before

    # A slot never offered is a 422 naming it; an unknown action too.
    wrong = book(env, token, z(at(9)))
    assert wrong.status_code == 422 and wrong.json_body["errors"][0]["field"] == "slot"
    odd = env.client.http.post(
        "/careers/interviews", body=json.dumps({"token": token, "action": "steal"}), headers=JSON
    )
    assert odd.status_code == 422 and odd.json_body["errors"][0]["field"] == "action"
    assert items() == before


def test_an_interview_goes_with_the_person_and_frees_their_time(env: Env, driver: QueueDriver) -> None:
    job = make_job(env)
    gone = application_of(env, job["id"], "gone@example.com")
    stays = application_of(env, job["id"], "stays@example.com")
    slots = [{"start": z(at(7))}]
    first = offer(env, gone["id"], slots=slots, message="Private words for Gone").json_body
    second = offer(env, stays["id"], slots=slots).json_body
    from crm.interviews.links import booking_token

    assert book(env, booking_token(first["id"]), z(at(7))).status_code == 200
    assert book(env, booking_token(second["id"]), z(at(7))).status_code == 409
    assert (
        env.client.http.delete(
            f"/v1/candidates/{gone['candidate_id']}", headers=env.auth("admin")
        ).status_code
        == 204
    )
    scanned = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
    assert not [i for i in scanned if "Private words" in json.dumps(i)]
    # The calendar still names the erased person's booking (ids only); it no longer holds the time.
    assert book(env, booking_token(second["id"]), z(at(7))).status_code == 200
    page = env.client.http.get(f"/careers/interviews?token={booking_token(first['id'])}", headers=HTML)
    assert page.status_code == 400
