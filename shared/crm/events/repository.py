"""The events slice's items, and the writes that keep a place count true.

* ``EVENT#<id>/EVENT``: the event, with its counters (``registered_count``, ``waitlist_count``,
  ``attended_count``, ``cancelled_count``) and ``closes_at`` (when registration closes); in gsi1
  under ``EVENTS`` and in gsi2 under ``EVENTSTATUS#<status>``, both by start time.
* ``EVENT#<id>/EVREMIND#<24h|1h|end>``: what is due for the event (the reminders, and its end,
  which finishes it), in the due-work index (gsi2 ``DUE``) until done.
* ``CAND#<candidate>/EVENTREG#<event>``: one person's registration, in their partition (erased with
  them), in gsi1 under ``EVENTREGS#<event>`` by ``<state>#<since>#<candidate>``: the waitlist is
  one Query in the order people joined it.

A place is taken in one transaction with the event's counter, conditioned on the event still
being open and ``registered_count < capacity`` (and nobody waiting ahead), so however many
requests race, the count never passes the capacity and every place taken has its registration.
The service decides what to try (a place, the waitlist, a walk-in); this module stores it and
says why a write was refused (:class:`NoPlace`, :class:`AlreadyThere`, :class:`StateChanged`,
:class:`Busy`, or ``NotFound`` for a person erased meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from crm.events.models import Event, EventCounts, Registration, RegistrationState
from crm.platform import table
from crm.platform.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from crm.platform.keys import DUE_PARTITION, due_sort_key, person_partition

EVENT_SK = "EVENT"
ALL_EVENTS = "EVENTS"
REMINDER_KINDS = ("24h", "1h", "end")
#: Attributes of the event item that describe it (what a patch may change).
DESCRIBING = (
    "name",
    "kind",
    "starts_at",
    "ends_at",
    "timezone",
    "mode",
    "venue",
    "join_url",
    "capacity",
    "registration_deadline",
    "description",
    "tags",
    "organizer",
)
COUNTERS = {
    "registered": "registered_count",
    "waitlisted": "waitlist_count",
    "attended": "attended_count",
    "cancelled": "cancelled_count",
}
Hold = Literal["place", "waitlist", "walk_in"]
Operations = Sequence[dict[str, Any]]


class NoPlace(Exception):
    """The event's condition refused the write: it is full, someone is waiting ahead, or it is
    not open (the service reads the event to tell which)."""


class AlreadyThere(Exception):
    """The person has a registration in another state than the one the write expected."""


class StateChanged(Exception):
    """The registration changed since it was read (cancelled, promoted, checked in meanwhile)."""


class Busy(Exception):
    """Another transaction was writing the same event at that moment: worth trying again."""


def _at_epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def event_key(event_id: str) -> dict[str, Any]:
    return table.key(f"EVENT#{event_id}", EVENT_SK)


def _status_partition(status: str) -> str:
    return f"EVENTSTATUS#{status}"


def registration_key(event_id: str, candidate_id: str) -> dict[str, Any]:
    return table.key(person_partition(candidate_id), f"EVENTREG#{event_id}")


def _registrations_partition(event_id: str) -> str:
    return f"EVENTREGS#{event_id}"


def _registration_sort(state: str, since: str, candidate_id: str) -> str:
    return f"{state}#{since}#{candidate_id}"


def _event(item: dict[str, Any]) -> Event:
    values = table.from_item(item)
    values["counts"] = EventCounts(**{name: int(values.pop(attr, 0) or 0) for name, attr in COUNTERS.items()})
    return Event.model_validate(values)


def _registration(item: dict[str, Any]) -> Registration:
    return Registration.model_validate(table.from_item(item))


def _venue(event: Event) -> dict[str, Any] | None:
    return event.venue.model_dump(exclude_none=True) if event.venue is not None else None


def _refusal(
    exc: table.TransactionCancelled, *, event_at: int, registration_at: int, registration_error: Exception
) -> Exception:
    """What a cancelled registration transaction means: the operation at ``registration_at`` is
    the registration's (``registration_error`` when its condition failed), ``event_at`` the event
    counter's; the operations after both are the person's (they must exist)."""
    if exc.failed(registration_at):
        return registration_error
    if exc.failed(event_at):
        return NoPlace()
    if any(exc.failed(i) for i in range(2, len(exc.reasons))):
        return NotFound("There is no such person any more.")
    if exc.conflicted:
        return Busy()
    return exc


class EventRepository:
    """Events and what is due for them."""

    # ------------------------------------------------------------------ events

    def create(self, event: Event) -> Event:
        item = event.model_dump(exclude={"counts"})
        item.update(
            pk=f"EVENT#{event.id}",
            sk=EVENT_SK,
            type="event",
            venue=_venue(event),
            closes_at=event.closes_at,
            gsi1pk=ALL_EVENTS,
            gsi1sk=f"{event.starts_at}#{event.id}",
            gsi2pk=_status_partition(event.status),
            gsi2sk=f"{event.starts_at}#{event.id}",
            **{attr: 0 for attr in COUNTERS.values()},
        )
        table.put(table.to_item(item), condition="attribute_not_exists(pk)")
        return event

    def get(self, event_id: str) -> Event:
        item = table.get_item(f"EVENT#{event_id}", EVENT_SK)
        if not item:
            raise NotFound(f"No event with id {event_id}.")
        return _event(item)

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        found = table.batch_get([(f"EVENT#{e}", EVENT_SK) for e in event_ids])
        events = (_event(item) for item in found.values())
        return {e.id: e for e in events}

    def list_page(
        self, *, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Event], str | None]:
        """Events by start time, the latest first (with ``status``: only those)."""
        if status:
            values: dict[str, Any] = {":pk": {"S": _status_partition(status)}}
            items, next_cursor = table.query_page(
                key_condition="gsi2pk = :pk",
                values=values,
                index="gsi2",
                limit=limit,
                cursor=cursor,
                forward=False,
            )
        else:
            items, next_cursor = table.query_page(
                key_condition="gsi1pk = :pk",
                values={":pk": {"S": ALL_EVENTS}},
                index="gsi1",
                limit=limit,
                cursor=cursor,
                forward=False,
            )
        return [_event(i) for i in items], next_cursor

    def published_upcoming(self, *, now: str, limit: int) -> list[Event]:
        """Published events that have not ended, soonest first (the career site)."""
        items, _ = table.query_page(
            key_condition="gsi2pk = :pk",
            values={":pk": {"S": _status_partition("published")}, ":now": {"S": now}},
            index="gsi2",
            limit=limit,
            cursor=None,
            filter_expression="ends_at > :now",
        )
        return [_event(i) for i in items]

    def save(self, event: Event, *, seen_version: int) -> Event:
        """Store an event's describing fields over the version read. Refused: a stale version
        (``VersionConflict``), an event no longer a draft or published (``Conflict``), a capacity
        below the places already taken (422 on ``capacity``)."""
        sets = [
            "updated_at = :now",
            "closes_at = :closes",
            "gsi1sk = :sort",
            "gsi2sk = :sort",
            "schedule_sequence = :sequence",
        ]
        removes = []
        names = {"#status": "status", "#version": "version"}
        values: dict[str, Any] = {
            ":now": {"S": event.updated_at},
            ":closes": {"S": event.closes_at},
            ":sort": {"S": f"{event.starts_at}#{event.id}"},
            ":sequence": table.value(event.schedule_sequence),
            ":seen": table.value(seen_version),
            ":one": table.value(1),
            ":draft": {"S": "draft"},
            ":published": {"S": "published"},
            ":capacity": table.value(event.capacity),
        }
        for index, name in enumerate(DESCRIBING):
            value: Any = _venue(event) if name == "venue" else getattr(event, name)
            names[f"#f{index}"] = name
            if value is None or (name == "tags" and not value):
                removes.append(f"#f{index}")
            else:
                sets.append(f"#f{index} = :f{index}")
                values[f":f{index}"] = table.string_set(value) if name == "tags" else table.value(value)
        expression = "SET " + ", ".join(sets) + " ADD #version :one"
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            answer = table.update(
                event_key(event.id),
                expression,
                condition=(
                    "attribute_exists(pk) AND #version = :seen AND #status IN (:draft, :published) "
                    "AND registered_count <= :capacity"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed as exc:
            current = self.get(event.id)
            if current.version != seen_version:
                raise VersionConflict(
                    f"The event changed since it was read (version {current.version}).",
                    current_version=current.version,
                ) from exc
            if current.status not in ("draft", "published"):
                raise Conflict(f"The event is {current.status}: it can no longer be changed.") from exc
            message = f"at least the {current.counts.registered} places already taken"
            raise ValidationFailed(
                "The capacity is below the places already taken.",
                errors=[{"field": "capacity", "message": message}],
            ) from exc
        return _event(answer["Attributes"])

    def set_status(
        self, event_id: str, *, to: str, allowed_from: tuple[str, ...], at: str, stamp: str | None = None
    ) -> Event | None:
        """Move the event to ``to`` when it is in one of ``allowed_from`` (None when it is not;
        ``NotFound`` for no event). ``stamp`` names the time attribute to set (``published_at``...)."""
        names = {"#status": "status", "#version": "version"}
        values: dict[str, Any] = {
            ":to": {"S": to},
            ":spk": {"S": _status_partition(to)},
            ":at": {"S": at},
            ":one": table.value(1),
        }
        allowed = []
        for index, status in enumerate(allowed_from):
            values[f":from{index}"] = {"S": status}
            allowed.append(f":from{index}")
        expression = "SET #status = :to, gsi2pk = :spk, updated_at = :at"
        if stamp:
            names["#stamp"] = stamp
            expression += ", #stamp = :at"
        try:
            answer = table.update(
                event_key(event_id),
                expression + " ADD #version :one",
                condition=f"attribute_exists(pk) AND #status IN ({', '.join(allowed)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except table.ConditionFailed:
            self.get(event_id)  # NotFound when there is none
            return None
        return _event(answer["Attributes"])

    # ------------------------------------------------------------------ what is due

    def schedule(self, event: Event, due: dict[str, str]) -> None:
        """Put what is due for the event (``due``: kind -> time) in the due-work index, and take
        out the kinds not in ``due`` (a rescheduled event, or one too close for a reminder)."""
        items = []
        for kind, due_at in due.items():
            items.append(
                table.to_item(
                    {
                        "pk": f"EVENT#{event.id}",
                        "sk": f"EVREMIND#{kind}",
                        "type": "event_reminder",
                        "event_id": event.id,
                        "reminder": kind,
                        "due_at": due_at,
                        "starts_at": event.starts_at,
                        "gsi2pk": DUE_PARTITION,
                        "gsi2sk": due_sort_key(due_at, "EVENT", event.id, kind),
                    }
                )
            )
        if items:
            table.batch_put(items)
        gone = [table.key(f"EVENT#{event.id}", f"EVREMIND#{k}") for k in REMINDER_KINDS if k not in due]
        if gone:
            table.batch_delete(gone)

    def unschedule(self, event_id: str) -> None:
        table.batch_delete([table.key(f"EVENT#{event_id}", f"EVREMIND#{k}") for k in REMINDER_KINDS])

    def done(self, event_id: str, kind: str, due_at: str) -> bool:
        """Take one due item out once it was handled (False: it was rescheduled meanwhile)."""
        return table.write_if(
            "delete_item",
            Key=table.key(f"EVENT#{event_id}", f"EVREMIND#{kind}"),
            ConditionExpression="due_at = :due",
            ExpressionAttributeValues={":due": {"S": due_at}},
        )


class RegistrationRepository:
    """People's registrations for events, and the transactions that move them with the counters."""

    # ------------------------------------------------------------------ reads

    def get(self, event_id: str, candidate_id: str) -> Registration | None:
        key = registration_key(event_id, candidate_id)
        item = table.get_item(key["pk"]["S"], key["sk"]["S"])
        return _registration(item) if item else None

    def get_many(self, event_id: str, candidate_ids: list[str]) -> dict[str, Registration]:
        keys = [registration_key(event_id, c) for c in candidate_ids]
        found = table.batch_get([(k["pk"]["S"], k["sk"]["S"]) for k in keys])
        registrations = (_registration(item) for item in found.values())
        return {r.candidate_id: r for r in registrations}

    def of_candidate(self, candidate_id: str) -> list[Registration]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": "EVENTREG#"}},
        )
        return [_registration(i) for i in items]

    def page(
        self, event_id: str, *, state: RegistrationState | None, limit: int, cursor: str | None
    ) -> tuple[list[Registration], str | None]:
        """An event's registrations, by state and then in the order they entered it."""
        values: dict[str, Any] = {":pk": {"S": _registrations_partition(event_id)}}
        condition = "gsi1pk = :pk"
        if state:
            condition += " AND begins_with(gsi1sk, :state)"
            values[":state"] = {"S": f"{state}#"}
        items, next_cursor = table.query_page(
            key_condition=condition, values=values, index="gsi1", limit=limit, cursor=cursor
        )
        return [_registration(i) for i in items], next_cursor

    def every(self, event_id: str, *, state: RegistrationState | None = None) -> Iterator[Registration]:
        values: dict[str, Any] = {":pk": {"S": _registrations_partition(event_id)}}
        condition = "gsi1pk = :pk"
        if state:
            condition += " AND begins_with(gsi1sk, :state)"
            values[":state"] = {"S": f"{state}#"}
        for item in table.query_all(key_condition=condition, values=values, index="gsi1"):
            yield _registration(item)

    def first_waitlisted(self, event_id: str) -> Registration | None:
        """Who is first in line (the longest waiting)."""
        found, _ = self.page(event_id, state="waitlisted", limit=1, cursor=None)
        return found[0] if found else None

    def waitlist_position(self, registration: Registration) -> int:
        """1 for the first in line, 2 for the next..."""
        answer = table.query(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk BETWEEN :first AND :mine",
            ExpressionAttributeValues={
                ":pk": {"S": _registrations_partition(registration.event_id)},
                ":first": {"S": "waitlisted#"},
                ":mine": {
                    "S": _registration_sort("waitlisted", registration.state_at, registration.candidate_id)
                },
            },
            Select="COUNT",
        )
        return int(answer.get("Count", 0))

    # ------------------------------------------------------------------ writes

    def _item(self, registration: Registration) -> dict[str, Any]:
        pk_sk = registration_key(registration.event_id, registration.candidate_id)
        item = registration.model_dump()
        item.update(
            pk=pk_sk["pk"]["S"],
            sk=pk_sk["sk"]["S"],
            type="event_registration",
            gsi1pk=_registrations_partition(registration.event_id),
            gsi1sk=_registration_sort(registration.state, registration.state_at, registration.candidate_id),
        )
        return table.to_item(item)

    def _put(self, registration: Registration, previous: RegistrationState | None) -> dict[str, Any]:
        """The registration, written over nothing (``previous`` None) or over a registration in
        state ``previous``."""
        op: dict[str, Any] = {"Item": self._item(registration)}
        if previous is None:
            op["ConditionExpression"] = "attribute_not_exists(sk)"
        else:
            op["ConditionExpression"] = "#state = :previous"
            op["ExpressionAttributeNames"] = {"#state": "state"}
            op["ExpressionAttributeValues"] = {":previous": {"S": previous}}
        return {"Put": op}

    def register(
        self,
        registration: Registration,
        *,
        previous: RegistrationState | None,
        hold: Hold,
        now: str,
        more: Operations,
    ) -> None:
        """Store a registration with its counter, in one transaction with ``more`` (the person's
        timeline entry): a ``place`` (only while open, below capacity, nobody waiting), the
        ``waitlist`` (only while open) or a ``walk_in`` (a place at the door, whatever the count,
        while the event is published or finished)."""
        adds = {"waitlist": ["waitlist_count :one"], "place": ["registered_count :one"]}.get(
            hold, ["registered_count :one"]
        )
        if registration.checked_in_at:
            adds.append("attended_count :one")
        if previous == "cancelled":
            adds.append("cancelled_count :minus")
        elif previous == "waitlisted":
            adds.append("waitlist_count :minus")
        values: dict[str, Any] = {
            ":one": table.value(1),
            ":published": {"S": "published"},
            ":now": {"S": now},
        }
        if previous in ("cancelled", "waitlisted"):
            values[":minus"] = table.value(-1)
        if hold == "place":
            condition = (
                "#status = :published AND registered_count < #capacity AND waitlist_count = :zero "
                "AND closes_at > :now"
            )
            values[":zero"] = table.value(0)
        elif hold == "waitlist":
            condition = "#status = :published AND closes_at > :now"
        else:
            condition = "#status IN (:published, :finished)"
            values[":finished"] = {"S": "finished"}
            values.pop(":now")
        names = {"#status": "status", **({"#capacity": "capacity"} if hold == "place" else {})}
        counter = {
            "Update": {
                "Key": event_key(registration.event_id),
                "UpdateExpression": "ADD " + ", ".join(adds),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
        try:
            table.transact([counter, self._put(registration, previous), *more])
        except table.TransactionCancelled as exc:
            raise _refusal(exc, event_at=0, registration_at=1, registration_error=AlreadyThere()) from exc

    def release(self, event_id: str, candidate_id: str, *, state: RegistrationState, at: str) -> bool:
        """The place (or place in line) of a person erased before the event goes back to the
        count, once: a marker of ids only (``EVENT#<id>/EVRELEASE#<candidate>``, kept 90 days)
        guards a replayed stream record. False when it was released before (or the event is gone)."""
        counter = COUNTERS["registered" if state == "registered" else "waitlisted"]
        marker = {
            "pk": f"EVENT#{event_id}",
            "sk": f"EVRELEASE#{candidate_id}",
            "type": "event_release",
            "at": at,
            "ttl": int(_at_epoch(at)) + 90 * 24 * 3600,
        }
        try:
            table.transact(
                [
                    {
                        "Put": {
                            "Item": table.to_item(marker),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "Key": event_key(event_id),
                            "UpdateExpression": f"ADD {counter} :minus",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":minus": table.value(-1)},
                        }
                    },
                ]
            )
        except table.TransactionCancelled:
            return False
        return True

    def cancel(self, current: Registration, *, at: str, more: Operations) -> Registration:
        """Cancel a place or a place in line (not once checked in); the counters follow."""
        cancelled = current.model_copy(update={"state": "cancelled", "state_at": at, "cancelled_at": at})
        counter = COUNTERS["registered" if current.state == "registered" else "waitlisted"]
        operations = [
            {
                "Put": {
                    "Item": self._item(cancelled),
                    "ConditionExpression": "#state = :current AND attribute_not_exists(checked_in_at)",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {":current": {"S": current.state}},
                }
            },
            {
                "Update": {
                    "Key": event_key(current.event_id),
                    "UpdateExpression": f"ADD {counter} :minus, cancelled_count :one",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":minus": table.value(-1), ":one": table.value(1)},
                }
            },
            *more,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise _refusal(exc, event_at=1, registration_at=0, registration_error=StateChanged()) from exc
        return cancelled

    def promote(self, waiting: Registration, *, at: str, more: Operations) -> Registration:
        """Give the first in line a place that is free (``NoPlace`` when none is, or the event is
        no longer published)."""
        promoted = waiting.model_copy(update={"state": "registered", "state_at": at, "promoted_at": at})
        operations = [
            self._put(promoted, "waitlisted"),
            {
                "Update": {
                    "Key": event_key(waiting.event_id),
                    "UpdateExpression": "ADD registered_count :one, waitlist_count :minus",
                    "ConditionExpression": "#status = :published AND registered_count < #capacity",
                    "ExpressionAttributeNames": {"#status": "status", "#capacity": "capacity"},
                    "ExpressionAttributeValues": {
                        ":one": table.value(1),
                        ":minus": table.value(-1),
                        ":published": {"S": "published"},
                    },
                }
            },
            *more,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise _refusal(exc, event_at=1, registration_at=0, registration_error=StateChanged()) from exc
        return promoted

    def check_in(
        self, current: Registration, *, at: str, by: str, request_id: str, more: Operations
    ) -> Registration:
        """Mark a registered person as there, once (``StateChanged`` when they were checked in, or
        their registration changed, meanwhile; ``NoPlace`` when the event is not open for it)."""
        checked = current.model_copy(
            update={"checked_in_at": at, "checked_in_by": by, "check_in_request": request_id}
        )
        operations = [
            {
                "Put": {
                    "Item": self._item(checked),
                    "ConditionExpression": "#state = :registered AND attribute_not_exists(checked_in_at)",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {":registered": {"S": "registered"}},
                }
            },
            {
                "Update": {
                    "Key": event_key(current.event_id),
                    "UpdateExpression": "ADD attended_count :one",
                    "ConditionExpression": "#status IN (:published, :finished)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":one": table.value(1),
                        ":published": {"S": "published"},
                        ":finished": {"S": "finished"},
                    },
                }
            },
            *more,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise _refusal(exc, event_at=1, registration_at=0, registration_error=StateChanged()) from exc
        return checked
