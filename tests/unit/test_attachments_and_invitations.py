"""Attachments on composed email, and ``.ics`` invitations (crm.mailing.compose, crm.mailing.calendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from crm.mailing.calendar import Meeting, ics, invitation
from crm.mailing.compose import Attachment, compose

BERLIN = ZoneInfo("Europe/Berlin")


def _meeting(**changes: object) -> Meeting:
    values: dict[str, object] = {
        "uid": "event-1@crm",
        "start": datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN),  # the night clocks go forward
        "end": datetime(2027, 3, 28, 4, 0, tzinfo=BERLIN),
        "summary": "Career fair",
        "location": "Hall 3",
        "url": "https://careers.example.com/careers/events/1",
        "organizer_email": "events@example.com",
        "organizer_name": "Talent team",
    }
    return Meeting(**(values | changes))  # type: ignore[arg-type]


def test_an_invitation_is_one_vevent_in_utc_with_the_attendee_and_method() -> None:
    calendar = Calendar.from_ical(ics(_meeting(), "ada@example.com", attendee_name="Ada Lovelace"))
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == "event-1@crm"
    # 01:30 CET is 00:30 UTC; 04:00 CEST (after the change) is 02:00 UTC: 90 minutes, not 150.
    assert event.decoded("dtstart") == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=90)
    assert str(event["attendee"]) == "mailto:ada@example.com"
    assert event["attendee"].params["cn"] == "Ada Lovelace"
    assert str(event["organizer"]) == "mailto:events@example.com"
    assert str(event["status"]) == "CONFIRMED"


def test_a_cancellation_keeps_the_uid_and_raises_the_sequence() -> None:
    calendar = Calendar.from_ical(ics(_meeting(sequence=2), "ada@example.com", method="CANCEL"))
    assert calendar["method"] == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert (str(event["uid"]), event["sequence"], str(event["status"])) == ("event-1@crm", 2, "CANCELLED")


@pytest.mark.parametrize(
    "changes",
    [
        {"start": datetime(2027, 3, 28, 1, 30)},  # no time zone
        {"end": datetime(2027, 3, 28, 1, 0, tzinfo=BERLIN)},  # ends before it starts
    ],
)
def test_an_invitation_without_zones_or_ending_first_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ics(_meeting(**changes), "ada@example.com")


def test_a_message_with_an_invitation_and_an_inline_image_reads_back_part_by_part() -> None:
    png = b"\x89PNG\r\n\x1a\nnot really"
    message = compose(
        "ada@example.com",
        "CRM <no-reply@example.com>",
        "You are registered",
        '<p>Show this at the door</p><img src="cid:qr@crm" alt="Check-in code">',
        "Show this at the door",
        attachments=[
            invitation(_meeting(), "ada@example.com"),
            Attachment("check-in.png", "image/png", png, content_id="qr@crm"),
        ],
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    related, ics_part = parsed.iter_parts()
    assert related.get_content_type() == "multipart/related"
    alternative, image = related.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert image["Content-ID"] == "<qr@crm>" and image.get_content_disposition() == "inline"
    assert image.get_content() == png
    assert ics_part.get_content_type() == "text/calendar"
    assert ics_part.get_param("method") == "REQUEST"
    assert ics_part.get_filename() == "invite.ics"
    assert Calendar.from_ical(ics_part.get_content()).walk("VEVENT")[0]["summary"] == "Career fair"
    # every part is 7-bit on the wire, as SES wants
    assert all(byte < 128 for byte in message.as_bytes())


def test_a_message_without_attachments_stays_multipart_alternative() -> None:
    message = compose("ada@example.com", "no-reply@example.com", "Hi", "<p>Hi</p>", "Hi")
    assert message.get_content_type() == "multipart/alternative"


def test_an_attachment_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        compose(
            "ada@example.com",
            "no-reply@example.com",
            "Hi",
            "<p>Hi</p>",
            "Hi",
            attachments=[Attachment("a\r\nBcc: x@example.com", "text/plain", b"x")],
        )
