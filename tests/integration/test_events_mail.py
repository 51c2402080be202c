"""An event's emails, end to end through the stream, the due-work tick and the mail queue: the
confirmation (with its .ics invitation and inline QR code), the waitlist notice and the place
that follows it, the reminders a day and an hour before, the cancellation (with the calendar's
CANCEL); each email once per person and kind, however often the work is repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar

from crm.platform import clock
from crm.workflows.due_work import run_due_work
from tests.integration.conftest import Env
from tests.integration.test_events_api import call
from tests.integration.test_events_registration import person, published, register, registrations
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages


def settle(env: Env, driver: QueueDriver) -> None:
    engagement.settle(env.pump, driver)


def emails_to(address: str) -> list[EmailMessage]:
    return [m for m in sent_messages() if address in str(m["To"])]


def subjects(address: str) -> list[str]:
    return [str(m["Subject"]) for m in emails_to(address)]


def attachments(message: EmailMessage) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_content_type() in ("text/plain", "text/html") and not part.get_filename():
            continue
        found[part.get_content_type()] = part
    return found


def calendar_of(message: EmailMessage) -> Calendar:
    part = attachments(message)["text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def move_to(moment: datetime) -> None:
    """The local clock moved on to ``moment`` (it only moves forward)."""
    seconds = (moment - clock.now()).total_seconds()
    if seconds > 0:
        clock.advance(seconds)


def test_a_place_is_confirmed_with_an_invitation_and_a_check_in_code(env: Env, driver: QueueDriver) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    settle(env, driver)
    [confirmation] = emails_to("guest1@example.com")
    assert confirmation["Subject"] == "You're registered: Autumn career fair"
    html = html_of(confirmation)
    assert 'src="cid:checkin-qr"' in html and "/careers/events/" in html and "/registration?token=" in html
    parts = attachments(confirmation)
    png = parts["image/png"]
    assert png["Content-ID"] == "<checkin-qr>" and png.get_payload(decode=True).startswith(b"\x89PNG")
    calendar = calendar_of(confirmation)
    assert str(calendar["METHOD"]) == "REQUEST"
    [entry] = calendar.walk("VEVENT")
    assert entry.decoded("DTSTART") == datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    assert str(entry["UID"]).startswith(f"event-{event['id']}@") and "Kulturbrauerei" in str(
        entry["LOCATION"]
    )
    [notice] = emails_to("guest2@example.com")
    assert notice["Subject"] == "You're on the waitlist: Autumn career fair"
    assert "number 1" in html_of(notice) and "text/calendar" not in attachments(notice)


def test_a_promoted_person_gets_their_place_by_email_once(env: Env, driver: QueueDriver) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    settle(env, driver)
    from crm.events.service import EventService
    from tests.integration.test_events_registration import candidate_id

    EventService().cancel_registration(
        event["id"], candidate_id(env, "guest1@example.com"), actor="candidate"
    )
    settle(env, driver)
    assert subjects("guest2@example.com") == [
        "You're on the waitlist: Autumn career fair",
        "You're registered: Autumn career fair",
    ]
    # Registering again after cancelling: in line (the place went to guest 2); a place given
    # later is not confirmed a second time: the confirmation was sent once, ever.
    register(env, event["id"], person(1))
    settle(env, driver)
    version = call(env, "GET", f"/v1/events/{event['id']}").json_body["version"]
    grown = call(env, "PATCH", f"/v1/events/{event['id']}", {"version": version, "capacity": 2})
    assert grown.json_body["counts"]["registered"] == 2
    settle(env, driver)
    assert subjects("guest1@example.com") == [
        "You're registered: Autumn career fair",
        "You're on the waitlist: Autumn career fair",
    ]


def test_reminders_a_day_and_an_hour_before_go_to_people_with_a_place(env: Env, driver: QueueDriver) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))  # waiting: no reminder
    settle(env, driver)
    start = datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    assert run_due_work().event_items == 0
    move_to(start - timedelta(hours=24, minutes=-1))
    result = run_due_work()
    assert result.event_items == 1
    run_due_work()  # a second tick finds nothing more
    settle(env, driver)
    assert subjects("guest1@example.com")[-1] == "Tomorrow: Autumn career fair at " + _local_hm(start)
    reminder = emails_to("guest1@example.com")[-1]
    assert "image/png" in attachments(reminder) and str(calendar_of(reminder)["METHOD"]) == "REQUEST"
    move_to(start - timedelta(minutes=59))
    assert run_due_work().event_items == 1
    settle(env, driver)
    assert subjects("guest1@example.com")[-1] == "Starting in an hour: Autumn career fair"
    assert len(emails_to("guest1@example.com")) == 3
    assert [s for s in subjects("guest2@example.com") if "Tomorrow" in s or "hour" in s] == []
    move_to(datetime.fromisoformat(event["ends_at"].replace("Z", "+00:00")) + timedelta(minutes=1))
    assert run_due_work().event_items == 1
    finished = call(env, "GET", f"/v1/events/{event['id']}").json_body
    assert finished["status"] == "finished" and finished["counts"]["no_show"] == 1


def _local_hm(start: datetime) -> str:
    from zoneinfo import ZoneInfo

    return start.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")


def test_a_rescheduled_event_reminds_at_its_new_time(env: Env, driver: QueueDriver) -> None:
    event = published(env)
    register(env, event["id"], person(1))
    settle(env, driver)
    old_start = datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00"))
    new_start = old_start + timedelta(days=2)
    version = call(env, "GET", f"/v1/events/{event['id']}").json_body["version"]
    body = {
        "version": version,
        "starts_at": new_start.isoformat(),
        "ends_at": (new_start + timedelta(hours=3)).isoformat(),
    }
    moved = call(env, "PATCH", f"/v1/events/{event['id']}", body)
    assert moved.status_code == 200
    renamed = {"version": moved.json_body["version"], "description": "New words, same time."}
    assert call(env, "PATCH", f"/v1/events/{event['id']}", renamed).status_code == 200
    settle(env, driver)
    settle(env, driver)
    changed = [m for m in emails_to("guest1@example.com") if str(m["Subject"]).startswith("Changed:")]
    assert len(changed) == 1  # the new time, once; new words send nothing
    [entry] = calendar_of(changed[0]).walk("VEVENT")
    assert entry.decoded("DTSTART") == new_start and int(entry["SEQUENCE"]) == 1
    assert str(entry["UID"]).startswith(f"event-{event['id']}@")
    move_to(old_start - timedelta(hours=23))
    assert run_due_work().event_items == 0
    move_to(new_start - timedelta(hours=23))
    assert run_due_work().event_items == 1
    settle(env, driver)
    reminder = emails_to("guest1@example.com")[-1]
    [entry] = calendar_of(reminder).walk("VEVENT")
    assert entry.decoded("DTSTART") == new_start and int(entry["SEQUENCE"]) == 1


def test_cancelling_the_event_tells_everybody_once(env: Env, driver: QueueDriver) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    settle(env, driver)
    call(env, "POST", f"/v1/events/{event['id']}/cancel")
    call(env, "POST", f"/v1/events/{event['id']}/cancel")
    settle(env, driver)
    held = emails_to("guest1@example.com")[-1]
    assert held["Subject"] == "Cancelled: Autumn career fair"
    calendar = calendar_of(held)
    assert str(calendar["METHOD"]) == "CANCEL"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["STATUS"]) == "CANCELLED" and int(entry["SEQUENCE"]) == 1
    waiting = emails_to("guest2@example.com")[-1]
    assert waiting["Subject"] == "Cancelled: Autumn career fair" and "text/calendar" not in attachments(
        waiting
    )
    assert [s for s in subjects("guest1@example.com") if s.startswith("Cancelled")] == [
        "Cancelled: Autumn career fair"
    ]
    # Whatever is due for it is gone: no reminder follows a cancellation.
    move_to(datetime.fromisoformat(event["starts_at"].replace("Z", "+00:00")) - timedelta(minutes=30))
    assert run_due_work().event_items == 0


def test_an_online_event_reveals_its_join_link_only_to_people_with_a_place(
    env: Env, driver: QueueDriver
) -> None:
    event = published(env, mode="online", venue=None, join_url="https://meet.example.com/room-42", capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    settle(env, driver)
    assert "https://meet.example.com/room-42" in html_of(emails_to("guest1@example.com")[0])
    assert "room-42" not in html_of(emails_to("guest2@example.com")[0])


def test_an_erased_person_gives_their_place_to_the_first_in_line(env: Env, driver: QueueDriver) -> None:
    event = published(env, capacity=1)
    register(env, event["id"], person(1))
    register(env, event["id"], person(2))
    settle(env, driver)
    from tests.integration.test_events_registration import candidate_id

    erased = candidate_id(env, "guest1@example.com")
    assert call(env, "DELETE", f"/v1/candidates/{erased}", who="admin").status_code == 204
    settle(env, driver)
    settle(env, driver)  # a replayed record gives nothing back twice
    assert [r["email"] for r in registrations(env, event["id"], "registered")] == ["guest2@example.com"]
    counts = call(env, "GET", f"/v1/events/{event['id']}").json_body["counts"]
    assert (counts["registered"], counts["waitlisted"]) == (1, 0)
    assert subjects("guest2@example.com")[-1] == "You're registered: Autumn career fair"


def test_nothing_is_sent_twice_when_the_queues_deliver_twice(env: Env, local_clock: None) -> None:
    from tests.support.engagement import Faults

    queues = QueueDriver(env.stack.queues, Faults(duplicate=True))
    try:
        event = published(env)
        for n in range(3):
            register(env, event["id"], person(n))
        settle(env, queues)
        for _ in range(2):
            env.pump.drain()
        settle(env, queues)
        for n in range(3):
            assert subjects(f"guest{n}@example.com") == ["You're registered: Autumn career fair"]
    finally:
        queues.close()
    assert datetime.now(UTC)  # the clock of this test is its own
