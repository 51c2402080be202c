"""Recruiting events: a recruiter's draft, published to the career site, cancelled or finished;
people's registrations, the waitlist, reminders, and check-in at the door.

The rules are plain functions of their input (:func:`reminder_times`, :func:`closed_because`,
:func:`attendance_of`, :func:`figures`), unit-tested without a table; ``EventService`` applies
them through its repositories and ports, each a constructor argument with the real one as its
default.

* A registration goes through the career site's one intake (``CandidateService.intake``: one
  person per email, the same answer for a new and a known one, the honeypot, the consent box),
  then takes a place in a transaction with the event's counter. Full, it joins the waitlist;
  whenever a place frees (a cancellation, a larger capacity), the first in line gets it.
* Reminders go 24 hours (the same wall-clock time the day before, in the event's time zone) and
  1 hour before the start, through the due-work index; the event's end finishes it.
* A check-in is idempotent: a retried request (same ``request_id``) answers as the first did; a
  second scan answers "already checked in at 10:42" (in the event's time zone).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from crm.candidates.models import Candidate
from crm.candidates.service import CandidateService
from crm.events.models import (
    Attendance,
    Attendee,
    CheckIn,
    CheckInRequest,
    Event,
    EventCreate,
    EventFields,
    EventPatch,
    EventRegistrationForm,
    PublicEvent,
    Registration,
    RegistrationState,
    WalkIn,
    event_field_errors,
)
from crm.events.repository import (
    AlreadyThere,
    Busy,
    EventRepository,
    Hold,
    NoPlace,
    RegistrationRepository,
    StateChanged,
)
from crm.events.tickets import InvalidCheckIn, read_checkin_token
from crm.mailing.messages import MailJob, chunks
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, ValidationFailed
from crm.platform.forms import is_bot, parse_fields
from crm.platform.ids import iso, new_id
from crm.platform.queues import send_messages
from crm.platform.times import parse

log = logging.getLogger(__name__)

SOURCE = "event"
INTAKE_ACTOR = "career-site"
#: Tries of a write that raced others on the same event (with jittered back-off).
MAX_TRIES = 30
#: Places handed to the waitlist per call (each is one transaction).
MAX_PROMOTIONS = 200
#: The ``type`` of this slice's items that the stream hands to :meth:`EventService.on_change`.
EVENT_ITEM_TYPES = ("event", "event_registration")


class RegistrationClosed(Conflict):
    """The event takes no registrations: a draft, cancelled, finished, started, or past its deadline."""


# ---------------------------------------------------------------------------------- the rules


def _at(value: str) -> datetime:
    moment = parse(value)
    if moment is None:
        raise ValueError(f"not a time: {value!r}")
    return moment


def reminder_times(starts_at: datetime, zone: ZoneInfo) -> dict[str, datetime]:
    """When an event starting at ``starts_at`` reminds its people (UTC).

    ``24h``: the same wall-clock time on the day before, in the event's zone (an event at 10:00
    is reminded at 10:00 the day before, even when a daylight-saving change lies between: that
    day is 23 or 25 hours long). A wall-clock time that does not exist that day (skipped by the
    clocks going forward) is read as the clocks before the change would show it.
    ``1h``: one hour before the start, by the clock on the wall and the elapsed time alike.
    """
    start = starts_at.astimezone(UTC)  # arithmetic on UTC: elapsed time, whatever the zone
    local = start.astimezone(zone)
    day_before = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=zone)
    return {"24h": day_before.astimezone(UTC), "1h": start - timedelta(hours=1)}


def due_items(event: Event, now: datetime) -> dict[str, str]:
    """What the due-work index holds for a published event: the reminders still ahead, and its end."""
    due = {kind: iso(at) for kind, at in reminder_times(_at(event.starts_at), event.zone).items() if at > now}
    due["end"] = event.ends_at
    return due


def closed_because(event: Event, now: datetime) -> str | None:
    """Why the event takes no registration now (None: it does)."""
    if event.status == "draft":
        return "This event is not open for registration yet."
    if event.status == "cancelled":
        return "This event was cancelled."
    if event.status == "finished" or _at(event.ends_at) <= now:
        return "This event is over."
    if _at(event.starts_at) <= now:
        return "This event has started: registration is closed."
    if _at(event.closes_at) <= now:
        return "Registration for this event closed at its deadline."
    return None


def has_ended(event: Event, now: datetime) -> bool:
    return event.status == "finished" or _at(event.ends_at) <= now


def attendance_of(registration: Registration, event: Event, now: datetime) -> Attendance | None:
    """``attended`` (checked in), ``no_show`` (a place, not checked in, the event over),
    ``registered`` (a place, the event not over); None for the waitlist and cancellations."""
    if registration.state != "registered":
        return None
    if registration.checked_in_at:
        return "attended"
    return "no_show" if has_ended(event, now) else "registered"


def in_audience(registration: Registration, event: Event, attendance: Attendance, now: datetime) -> bool:
    """Whether a registration belongs to an event audience: ``registered`` is everyone holding a
    place (whether they came or not), ``attended`` and ``no_show`` are what they say."""
    found = attendance_of(registration, event, now)
    if attendance == "registered":
        return found is not None
    return found == attendance


def figures(event: Event, now: datetime) -> Event:
    """The event with its no-show count: places not checked in, once it has ended."""
    counts = event.counts
    no_show = max(0, counts.registered - counts.attended) if has_ended(event, now) else 0
    return event.model_copy(update={"counts": counts.model_copy(update={"no_show": no_show})})


def local_time(event: Event, value: str) -> str:
    """ "10:42": a stored UTC time on the event's clock."""
    return event.local(value).strftime("%H:%M")


def local_text(event: Event, value: str) -> str:
    """ "Tue 2 Jun 2026, 10:00 CEST": a stored UTC time on the event's clock, in words."""
    moment = event.local(value)
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M} {moment.tzname()}"


def when_text(event: Event) -> str:
    """ "Tue 2 Jun 2026, 10:00 to 16:00 CEST" (across days: "... 10:00 to Wed 3 Jun 2026, 12:00 CEST")."""
    start, end = event.local(event.starts_at), event.local(event.ends_at)
    first = f"{start:%a} {start.day} {start:%b %Y}, {start:%H:%M}"
    if start.date() == end.date():
        return f"{first} to {end:%H:%M} {end.tzname()}"
    return f"{first} to {end:%a} {end.day} {end:%b %Y}, {end:%H:%M} {end.tzname()}"


def public_event(event: Event, now: datetime) -> PublicEvent:
    return PublicEvent(
        **event.model_dump(
            include=set(PublicEvent.model_fields) - {"registration_open", "places_left", "waitlist"}
        ),
        registration_open=closed_because(event, now) is None,
        places_left=event.places_left,
        waitlist=event.full or event.counts.waitlisted > 0,
    )


def check_fields(fields: EventFields) -> None:
    errors = event_field_errors(fields)
    if errors:
        raise ValidationFailed(
            "Some fields do not agree.", errors=[{"field": f, "message": m} for f, m in errors]
        )


def _fields_of(values: dict[str, Any]) -> EventFields:
    return parse_fields(EventFields, values)


def matches(registration: Registration, q: str) -> bool:
    """A desk's search: every word of ``q`` starts a word of the name, or the email."""
    words = f"{registration.first_name} {registration.last_name}".casefold().split()
    email = registration.email.casefold()
    return all(
        any(w.startswith(part) for w in words) or email.startswith(part) for part in q.casefold().split()
    )


def audience_errors(
    event_id: str | None, attendance: str | None, *, others: Iterable[Any] = (), prefix: str = "audience."
) -> list[dict[str, str]]:
    """What is wrong with an event audience (none: nothing): attendance without an event, or an
    event with other conditions (``others``: a pool, tags, a source, given or empty)."""
    errors = []
    if attendance and not event_id:
        errors.append({"field": f"{prefix}attendance", "message": "give the event whose attendance this is"})
    if event_id and any(others):
        errors.append(
            {
                "field": f"{prefix}event",
                "message": "an event's people stand alone: leave out pool, tags and source",
            }
        )
    if event_id and not errors:
        try:
            EventRepository().get(event_id)
        except NotFound:
            errors.append({"field": f"{prefix}event", "message": f"no event with id {event_id}"})
    return errors


@dataclass(frozen=True)
class Mailer:
    """Where the slice's mail jobs go (the mail queue; a list in unit tests)."""

    send: Callable[[str, list[str]], Any] = send_messages

    def queue(self, jobs: list[MailJob]) -> None:
        if jobs:
            self.send(get_settings().mail_queue_url, [j.model_dump_json(exclude_none=True) for j in jobs])


# ---------------------------------------------------------------------------------- the service


class EventService:
    """What other slices (and the web layer) use of this slice; the repositories stay private to it."""

    def __init__(
        self,
        repository: EventRepository | None = None,
        *,
        registrations: RegistrationRepository | None = None,
        candidates: CandidateService | None = None,
        mailer: Mailer | None = None,
        now: Callable[[], datetime] = clock.now,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repository = repository or EventRepository()
        self.registrations = registrations or RegistrationRepository()
        self._candidates = candidates
        self.mailer = mailer or Mailer()
        self.now = now
        self.pause = pause

    @property
    def candidates(self) -> CandidateService:
        if self._candidates is None:
            self._candidates = CandidateService()
        return self._candidates

    def _backoff(self, attempt: int) -> None:
        self.pause(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))  # noqa: S311 - jitter, not crypto

    # ------------------------------------------------------------------ events

    def create(self, data: EventCreate, *, actor: str) -> Event:
        check_fields(data)
        now = iso(self.now())
        event = Event(
            id=new_id(),
            status="draft",
            version=1,
            created_at=now,
            updated_at=now,
            **_stored(data),
        )
        return self.repository.create(event)

    def get(self, event_id: str) -> Event:
        return figures(self.repository.get(event_id), self.now())

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        now = self.now()
        return {k: figures(v, now) for k, v in self.repository.get_many(event_ids).items()}

    def list_page(
        self, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Event], str | None]:
        items, next_cursor = self.repository.list_page(status=status, limit=limit, cursor=cursor)
        now = self.now()
        return [figures(e, now) for e in items], next_cursor

    def upcoming(self, *, limit: int = 100) -> list[PublicEvent]:
        """The career site's events: published and not over, soonest first."""
        now = self.now()
        return [public_event(e, now) for e in self.repository.published_upcoming(now=iso(now), limit=limit)]

    def public(self, event_id: str) -> tuple[Event, PublicEvent]:
        """A published (or cancelled, or finished) event for the career site; a draft is not found."""
        event = self.get(event_id)
        if event.status == "draft":
            raise NotFound(f"No event with id {event_id}.")
        return event, public_event(event, self.now())

    def update(self, event_id: str, patch: EventPatch) -> Event:
        """Change a draft's or a published event's details (the whole result is checked, naming
        each field that does not agree); a new time or place raises the calendar sequence, a
        published event's reminders follow its new time, a larger capacity gives places to the
        waitlist."""
        current = self.repository.get(event_id)
        if current.status not in ("draft", "published"):
            raise Conflict(f"The event is {current.status}: it can no longer be changed.")
        changes = patch.changes()
        merged = {k: v for k, v in {**current.fields(), **changes}.items() if v is not None}
        fields = _fields_of(merged)
        check_fields(fields)
        stored = _stored(fields)
        moved = any(stored[k] != getattr(current, k) for k in ("starts_at", "ends_at", "venue", "join_url"))
        now = self.now()
        if current.status == "published" and _at(stored["starts_at"]) <= now and moved:
            raise ValidationFailed(
                "A published event cannot be moved to the past.",
                errors=[{"field": "starts_at", "message": "must be in the future"}],
            )
        event = current.model_copy(
            update={
                **stored,
                "updated_at": iso(now),
                "schedule_sequence": current.schedule_sequence + (1 if moved else 0),
            }
        )
        saved = self.repository.save(event, seen_version=patch.version)
        if saved.status == "published":
            if moved:
                self.repository.schedule(saved, due_items(saved, now))
            self.promote(saved.id)
        return (
            figures(self.repository.get(event_id), now)
            if saved.status == "published"
            else figures(saved, now)
        )

    def publish(self, event_id: str, *, actor: str) -> Event:
        """Put a draft on the career site (it must start in the future); publishing twice is one."""
        event = self.repository.get(event_id)
        now = self.now()
        if event.status == "published":
            return figures(event, now)
        if event.status != "draft":
            raise Conflict(f"The event is {event.status}: only a draft can be published.")
        if _at(event.starts_at) <= now:
            raise ValidationFailed(
                "The event starts in the past: change its time first.",
                errors=[{"field": "starts_at", "message": "must be in the future to publish"}],
            )
        published = self.repository.set_status(
            event_id, to="published", allowed_from=("draft",), at=iso(now), stamp="published_at"
        )
        if published is None:
            return self.publish(event_id, actor=actor)  # published (or cancelled) meanwhile
        self.repository.schedule(published, due_items(published, now))
        return figures(published, now)

    def cancel(self, event_id: str, *, actor: str) -> Event:
        """Cancel a draft or a published event; everybody registered or waiting is told once (the
        stream reacts to the change). Cancelling twice is one."""
        event = self.repository.get(event_id)
        now = self.now()
        if event.status == "cancelled":
            return figures(event, now)
        if event.status == "finished":
            raise Conflict("The event is over: it cannot be cancelled.")
        cancelled = self.repository.set_status(
            event_id, to="cancelled", allowed_from=("draft", "published"), at=iso(now), stamp="cancelled_at"
        )
        if cancelled is None:
            return self.cancel(event_id, actor=actor)
        self.repository.unschedule(event_id)
        return figures(cancelled, now)

    def finish(self, event_id: str, *, actor: str) -> Event:
        """Mark a published event as over (its end does this by itself); once started only."""
        event = self.repository.get(event_id)
        now = self.now()
        if event.status == "finished":
            return figures(event, now)
        if event.status != "published":
            raise Conflict(f"The event is {event.status}: only a published event can be finished.")
        if _at(event.starts_at) > now:
            raise Conflict("The event has not started yet: cancel it instead.")
        finished = self.repository.set_status(
            event_id, to="finished", allowed_from=("published",), at=iso(now), stamp="finished_at"
        )
        if finished is None:
            return self.finish(event_id, actor=actor)
        self.repository.unschedule(event_id)
        return figures(finished, now)

    # ------------------------------------------------------------------ registrations

    def registration(self, event_id: str, candidate_id: str) -> Registration | None:
        return self.registrations.get(event_id, candidate_id)

    def registrations_of(self, event_id: str, candidate_ids: list[str]) -> dict[str, Registration]:
        return self.registrations.get_many(event_id, candidate_ids)

    def registrations_of_person(self, candidate_id: str) -> list[tuple[Registration, Event | None]]:
        """A person's registrations (newest first), each with its event (None: deleted)."""
        found = self.registrations.of_candidate(candidate_id)
        events = self.get_many([r.event_id for r in found])
        pairs = [(r, events.get(r.event_id)) for r in found]
        return sorted(pairs, key=lambda p: p[0].registered_at, reverse=True)

    def registrations_page(
        self, event_id: str, *, state: RegistrationState | None, limit: int, cursor: str | None
    ) -> tuple[list[Registration], str | None]:
        self.repository.get(event_id)
        return self.registrations.page(event_id, state=state, limit=limit, cursor=cursor)

    def waitlist_position(self, registration: Registration) -> int | None:
        return (
            self.registrations.waitlist_position(registration) if registration.state == "waitlisted" else None
        )

    def register_from_form(
        self,
        event_id: str,
        fields: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        lambda_context: Any = None,
    ) -> None:
        """The career site's form: 404 for no such event, ``RegistrationClosed`` (409) when it
        takes none, the honeypot's answer as everyone's; otherwise the person through the intake
        (a known email is the same person), their choice about future events' email, and a place
        or a place in line. Returns nothing that tells a new person from a known one."""
        event = self.repository.get(event_id)
        if event.status == "draft":
            raise NotFound(f"No event with id {event_id}.")
        why = closed_because(event, self.now())
        if why:
            raise RegistrationClosed(why)
        if is_bot(fields):
            return
        form = parse_fields(EventRegistrationForm, fields)

        def store() -> dict[str, str]:
            self._register_form(event, form)
            return {"status": "received"}

        if idempotency_key:
            digest = hashlib.sha256(
                json.dumps(form.model_dump(mode="json"), sort_keys=True).encode()
            ).hexdigest()
            request = {"key": f"event-{event_id}#{idempotency_key}", "fingerprint": digest}
            self.candidates.idempotency.once(request, store, lambda_context=lambda_context)
        else:
            store()

    def _register_form(self, event: Event, form: EventRegistrationForm) -> Registration:
        candidates = self.candidates
        candidate_id, _ = candidates.intake(form, source=SOURCE)
        person = candidates.get(candidate_id)
        consent = person.consents.get("events")
        if form.events_consent and not (consent and consent.granted):
            person = candidates.set_consent(
                candidate_id, "events", True, source="event-registration", actor=INTAKE_ACTOR
            )
        return self.register(event.id, person, actor=INTAKE_ACTOR)

    def register(self, event_id: str, person: Candidate, *, actor: str) -> Registration:
        """A place for ``person``, or a place in line when the event is full (or people wait);
        already registered or waiting: as they are. ``RegistrationClosed`` when it takes none."""
        for attempt in range(MAX_TRIES):
            existing = self.registrations.get(event_id, person.id)
            if existing is not None and existing.state != "cancelled":
                return existing
            previous = existing.state if existing else None
            event = self.repository.get(event_id)
            now = self.now()
            why = closed_because(event, now)
            if why:
                raise RegistrationClosed(why)
            at = iso(now)
            wait = event.full or event.counts.waitlisted > 0
            try:
                registration = self._take(
                    person, event, previous, hold="waitlist" if wait else "place", at=at, actor=actor
                )
            except NoPlace:
                if wait:
                    continue  # closed meanwhile: the next look says why
                try:
                    registration = self._take(person, event, previous, hold="waitlist", at=at, actor=actor)
                except (NoPlace, Busy, AlreadyThere):
                    self._backoff(attempt)
                    continue
            except (Busy, AlreadyThere):
                self._backoff(attempt)
                continue
            if registration.state == "waitlisted":
                self.promote(event_id)
                return self.registrations.get(event_id, person.id) or registration
            return registration
        raise Conflict("Many people are registering at this moment; please try again.")

    def _take(
        self,
        person: Candidate,
        event: Event,
        previous: RegistrationState | None,
        *,
        hold: Hold,
        at: str,
        actor: str,
    ) -> Registration:
        state: RegistrationState = "waitlisted" if hold == "waitlist" else "registered"
        registration = Registration(
            event_id=event.id,
            candidate_id=person.id,
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            state=state,
            registered_at=at,
            state_at=at,
            walk_in=hold == "walk_in",
        )
        kind = "event_waitlisted" if state == "waitlisted" else "event_registered"
        more = self._activity(person.id, kind, event, actor=actor, at=at)
        self.registrations.register(registration, previous=previous, hold=hold, now=at, more=more)
        return registration

    def _activity(
        self, candidate_id: str, kind: str, event: Event, *, actor: str, at: str, **detail: Any
    ) -> list[dict[str, Any]]:
        return self.candidates.activity_operations(
            candidate_id,
            kind,
            actor=actor,
            at=at,
            detail={"event_id": event.id, "event_name": event.name, **detail},
        )

    def cancel_registration(self, event_id: str, candidate_id: str, *, actor: str) -> Registration:
        """Give up a place (or a place in line): the first in line gets the place. Cancelling
        twice is one; once checked in, or once the event has started, it is a ``Conflict``."""
        for attempt in range(MAX_TRIES):
            current = self.registrations.get(event_id, candidate_id)
            if current is None:
                raise NotFound("There is no such registration.")
            if current.state == "cancelled":
                return current
            if current.checked_in_at:
                raise Conflict("This person was checked in: the registration stays.")
            event = self.repository.get(event_id)
            now = self.now()
            if _at(event.starts_at) <= now and event.status != "cancelled":
                raise Conflict("The event has started: the registration can no longer be cancelled.")
            at = iso(now)
            try:
                cancelled = self.registrations.cancel(
                    current,
                    at=at,
                    more=self._activity(
                        candidate_id, "event_registration_cancelled", event, actor=actor, at=at
                    ),
                )
            except (StateChanged, Busy):
                self._backoff(attempt)
                continue
            if current.state == "registered":
                self.promote(event_id)
            return cancelled
        raise Conflict("This registration is being changed by another request; try again.")

    def promote(self, event_id: str) -> int:
        """Give each free place to the first in line, in turn; how many were given."""
        given = 0
        attempt = 0
        while given < MAX_PROMOTIONS and attempt < MAX_TRIES:
            event = self.repository.get(event_id)
            now = self.now()
            if event.status != "published" or _at(event.starts_at) <= now:
                break
            if event.full or event.counts.waitlisted <= 0:
                break
            first = self.registrations.first_waitlisted(event_id)
            if first is None:
                break
            at = iso(now)
            try:
                self.registrations.promote(
                    first,
                    at=at,
                    more=self._activity(first.candidate_id, "event_promoted", event, actor="system", at=at),
                )
            except NoPlace:
                break
            except (StateChanged, Busy):
                attempt += 1
                self._backoff(attempt)
                continue
            except NotFound:
                # erased meanwhile: the stream frees their place in line
                attempt += 1
                continue
            given += 1
        return given

    # ------------------------------------------------------------------ check-in

    def check_in(
        self, event_id: str, request: CheckInRequest, *, actor: str, request_id: str | None = None
    ) -> CheckIn:
        """Check someone in by their code or by their id (not registered: a walk-in). The same
        ``request_id`` again answers as the first time; another scan of a code already used
        answers ``already_checked_in`` with the time. Nothing changes for a refused code."""
        event = self.repository.get(event_id)
        if event.status not in ("published", "finished"):
            raise Conflict(f"The event is {event.status}: nobody can be checked in.")
        now = self.now()
        rid = request.request_id or request_id or new_id()
        if request.token is not None:
            candidate_id = read_checkin_token(request.token, event_id=event_id, now=now)
            current = self.registrations.get(event_id, candidate_id)
            if current is None or current.state == "cancelled":
                raise InvalidCheckIn(
                    "This registration was cancelled: find the person by name to check them in."
                )
            if current.state == "waitlisted":
                raise InvalidCheckIn(
                    "This person is on the waitlist: find them by name to give them a place."
                )
        else:
            candidate_id = str(request.candidate_id)
        return self._check_in(event, candidate_id, rid, actor=actor)

    def _check_in(self, event: Event, candidate_id: str, rid: str, *, actor: str) -> CheckIn:
        for attempt in range(MAX_TRIES):
            current = self.registrations.get(event.id, candidate_id)
            if current is not None and current.checked_in_at:
                first = current.check_in_request == rid
                return self._answer(event, current, "checked_in" if first else "already_checked_in")
            at = iso(self.now())
            detail = {"at_local": local_time(event, at)}
            try:
                if current is not None and current.state == "registered":
                    more = self._activity(candidate_id, "event_attended", event, actor=actor, at=at, **detail)
                    checked = self.registrations.check_in(current, at=at, by=actor, request_id=rid, more=more)
                else:
                    checked = self._walk_in(event, candidate_id, current, at=at, actor=actor, rid=rid)
            except (StateChanged, AlreadyThere, Busy):
                self._backoff(attempt)
                continue
            except NoPlace as exc:
                raise Conflict("The event is not open for check-in.") from exc
            return self._answer(event, checked, "checked_in")
        raise Conflict("This person is being checked in by another request; try again.")

    def _walk_in(
        self, event: Event, candidate_id: str, current: Registration | None, *, at: str, actor: str, rid: str
    ) -> Registration:
        try:
            person = self.candidates.get(candidate_id)
        except NotFound as exc:
            raise ValidationFailed(
                "There is no such person.", errors=[{"field": "candidate_id", "message": "no such candidate"}]
            ) from exc
        registration = Registration(
            event_id=event.id,
            candidate_id=person.id,
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            state="registered",
            registered_at=current.registered_at if current else at,
            state_at=at,
            walk_in=True,
            checked_in_at=at,
            checked_in_by=actor,
            check_in_request=rid,
            promoted_at=at if current is not None and current.state == "waitlisted" else None,
        )
        more = self._activity(
            person.id,
            "event_attended",
            event,
            actor=actor,
            at=at,
            at_local=local_time(event, at),
            walk_in=True,
        )
        self.registrations.register(
            registration, previous=current.state if current else None, hold="walk_in", now=at, more=more
        )
        return registration

    def walk_in(self, event_id: str, data: WalkIn, *, actor: str) -> CheckIn:
        """Someone new at the door: the person through the intake (a known email is the same
        person), registered and checked in at once."""
        event = self.repository.get(event_id)
        if event.status not in ("published", "finished"):
            raise Conflict(f"The event is {event.status}: nobody can be checked in.")
        form = EventRegistrationForm(
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            marketing_consent=data.marketing_consent,
        )
        candidate_id, _ = self.candidates.intake(form, source=SOURCE)
        return self._check_in(event, candidate_id, new_id(), actor=actor)

    def _answer(
        self, event: Event, registration: Registration, status: Literal["checked_in", "already_checked_in"]
    ) -> CheckIn:
        at = str(registration.checked_in_at)
        local = local_time(event, at)
        message = (
            f"{registration.name} is checked in."
            if status == "checked_in"
            else f"{registration.name} was already checked in at {local}."
        )
        return CheckIn(
            status=status,
            event_id=event.id,
            candidate_id=registration.candidate_id,
            name=registration.name,
            checked_in_at=at,
            checked_in_local=local,
            walk_in=registration.walk_in,
            message=message,
        )

    def attendees(self, event_id: str, *, q: str | None = None, limit: int = 50) -> list[Attendee]:
        """The desk's list: people with a place and those waiting (who may be let in), matching
        ``q`` (every word starts a word of the name, or the email), by name."""
        event = self.repository.get(event_id)
        found = [
            self._attendee(event, r)
            for r in self.registrations.every(event_id)
            if r.state != "cancelled" and (not q or matches(r, q))
        ]
        found.sort(key=lambda a: (a.name.casefold(), a.email))
        return found[:limit]

    def checked_in(
        self, event_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Attendee], str | None]:
        """Who came, in the order they were checked in."""
        event = self.repository.get(event_id)
        came = [r for r in self.registrations.every(event_id, state="registered") if r.checked_in_at]
        came.sort(key=lambda r: str(r.checked_in_at))
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = came[start : start + limit]
        following = str(start + limit) if start + limit < len(came) else None
        return [self._attendee(event, r) for r in page], following

    def _attendee(self, event: Event, registration: Registration) -> Attendee:
        return Attendee(
            candidate_id=registration.candidate_id,
            name=registration.name,
            email=registration.email,
            state=registration.state,
            walk_in=registration.walk_in,
            checked_in_at=registration.checked_in_at,
            checked_in_local=local_time(event, registration.checked_in_at)
            if registration.checked_in_at
            else None,
        )

    # ------------------------------------------------------------------ audiences

    def audience_ids(self, event_id: str, attendance: Attendance) -> list[str]:
        """The ids of an event's people of one attendance (an audience of a campaign or sequence)."""
        event = self.repository.get(event_id)
        now = self.now()
        return [
            r.candidate_id
            for r in self.registrations.every(event_id, state="registered")
            if in_audience(r, event, attendance, now)
        ]

    # ------------------------------------------------------------------ what is due, what follows

    def run_due(self, items: Iterable[dict[str, Any]]) -> int:
        """The due-work tick's items of this slice: reminders are queued for the people holding a
        place (once per person: the ledger), an event's end finishes it. Each item goes once
        handled; one rescheduled meanwhile stays for its new time."""
        done = 0
        for item in items:
            event_id, kind, due_at = str(item["event_id"]), str(item["reminder"]), str(item["due_at"])
            try:
                event = self.repository.get(event_id)
            except NotFound:
                self.repository.done(event_id, kind, due_at)
                continue
            if kind == "end":
                if event.status == "published" and _at(event.ends_at) <= self.now():
                    self.repository.set_status(
                        event_id,
                        to="finished",
                        allowed_from=("published",),
                        at=iso(self.now()),
                        stamp="finished_at",
                    )
            elif event.status == "published" and str(item.get("starts_at")) == event.starts_at:
                people = [r.candidate_id for r in self.registrations.every(event_id, state="registered")]
                self.mailer.queue(
                    [
                        MailJob(kind="event", ref=f"{event_id}:reminder-{kind}", recipients=c)
                        for c in chunks(people)
                    ]
                )
            if self.repository.done(event_id, kind, due_at):
                done += 1
        return done

    def on_change(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """What a change of this slice's items sends (the stream calls it; at least once, the
        ledger makes each email once): a place or a place in line (not a walk-in's) is confirmed;
        an event cancelled tells everyone registered or waiting; a new time or place sends the
        people holding a place the updated invitation. A registration removed (its
        person erased) before the event gives its place back, and the first in line gets it."""
        if new is None:
            if (
                old
                and old.get("type") == "event_registration"
                and old.get("state") in ("registered", "waitlisted")
            ):
                self._release(str(old["event_id"]), str(old["candidate_id"]), str(old["state"]))
            return
        if new.get("type") == "event_registration":
            state, before = new.get("state"), (old or {}).get("state")
            if state == before or new.get("walk_in"):
                return
            what = {"registered": "confirmation", "waitlisted": "waitlisted"}.get(str(state))
            if what:
                self.mailer.queue(
                    [
                        MailJob(
                            kind="event",
                            ref=f"{new['event_id']}:{what}",
                            recipients=[str(new["candidate_id"])],
                        )
                    ]
                )
        elif new.get("type") == "event":
            event_id, before = str(new["id"]), old or {}
            if new.get("status") == "cancelled" and before.get("status") != "cancelled":
                people = [
                    r.candidate_id
                    for r in self.registrations.every(event_id)
                    if r.state in ("registered", "waitlisted")
                ]
                what = "cancelled"
            elif new.get("status") == "published" and int(new.get("schedule_sequence") or 0) > int(
                before.get("schedule_sequence") or 0
            ):
                # A new time or place: the people holding a place get the updated invitation, once
                # per change (the sequence names it).
                people = [r.candidate_id for r in self.registrations.every(event_id, state="registered")]
                what = f"updated-{int(new['schedule_sequence'])}"
            else:
                return
            self.mailer.queue(
                [MailJob(kind="event", ref=f"{event_id}:{what}", recipients=c) for c in chunks(people)]
            )

    def _release(self, event_id: str, candidate_id: str, state: str) -> None:
        try:
            event = self.repository.get(event_id)
        except NotFound:
            return
        if event.status != "published" or _at(event.starts_at) <= self.now():
            return  # over (or never held): an erased person stays counted as they were
        held: RegistrationState = "registered" if state == "registered" else "waitlisted"
        if (
            self.registrations.release(event_id, candidate_id, state=held, at=iso(self.now()))
            and held == "registered"
        ):
            self.promote(event_id)


def _stored(fields: EventFields) -> dict[str, Any]:
    """An event's describing fields as stored: times as UTC text."""
    values = fields.model_dump()
    for name in ("starts_at", "ends_at", "registration_deadline"):
        value = getattr(fields, name)
        values[name] = iso(value) if value is not None else None
    values["venue"] = fields.venue
    return values
