"""Recruiter and integration API: recruiting events, their registrations and check-ins."""

from __future__ import annotations

import hashlib
from typing import Any

from chalice import Blueprint

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.events.models import (
    Attendee,
    CheckIn,
    CheckInRequest,
    Event,
    EventCreate,
    EventListQuery,
    EventPatch,
    Registration,
    RegistrationListQuery,
)
from crm.events.service import EventService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/events",
    "POST",
    summary="Create a recruiting event (a draft: publish it to put it on the career site)",
    tag="events",
    permission="write",
    body=EventCreate,
    response=Event,
    status=201,
    errors=(422,),
)
def create_event(call: Call) -> Event:
    return EventService().create(call.body, actor=call.actor)


@endpoint(
    bp,
    "/v1/events",
    "GET",
    summary="List events, the latest start first (filter: status)",
    tag="events",
    permission="read",
    query=EventListQuery,
    response=Event,
    paginated=True,
)
def list_events(call: Call) -> dict[str, Any]:
    q: EventListQuery = call.query
    items, next_cursor = EventService().list_page(status=q.status, limit=q.limit, cursor=q.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/events/{event_id}",
    "GET",
    summary="One event, with its figures (registered, waitlisted, attended, no-show, cancelled)",
    tag="events",
    permission="read",
    response=Event,
    errors=(404,),
)
def get_event(call: Call, event_id: str) -> Event:
    return EventService().get(event_id)


@endpoint(
    bp,
    "/v1/events/{event_id}",
    "PATCH",
    summary="Change a draft's or a published event's details (body carries version; a stale one is a 409)",
    tag="events",
    permission="write",
    body=EventPatch,
    response=Event,
    errors=(404, 409, 422),
)
def update_event(call: Call, event_id: str) -> Event:
    return EventService().update(event_id, call.body)


@endpoint(
    bp,
    "/v1/events/{event_id}/publish",
    "POST",
    summary="Publish a draft: it is on the career site and takes registrations",
    tag="events",
    permission="write",
    response=Event,
    errors=(404, 409, 422),
)
def publish_event(call: Call, event_id: str) -> Event:
    return EventService().publish(event_id, actor=call.actor)


@endpoint(
    bp,
    "/v1/events/{event_id}/cancel",
    "POST",
    summary="Cancel an event: everybody registered or waiting gets one email (with the calendar's CANCEL)",
    tag="events",
    permission="write",
    response=Event,
    errors=(404, 409),
)
def cancel_event(call: Call, event_id: str) -> Event:
    return EventService().cancel(event_id, actor=call.actor)


@endpoint(
    bp,
    "/v1/events/{event_id}/finish",
    "POST",
    summary="Mark a started event as over (its end does this by itself): no-shows are counted",
    tag="events",
    permission="write",
    response=Event,
    errors=(404, 409),
)
def finish_event(call: Call, event_id: str) -> Event:
    return EventService().finish(event_id, actor=call.actor)


@endpoint(
    bp,
    "/v1/events/{event_id}/registrations",
    "GET",
    summary="An event's registrations by state (registered, waitlisted in line order, cancelled)",
    tag="events",
    permission="read",
    query=RegistrationListQuery,
    response=Registration,
    paginated=True,
    errors=(404,),
)
def list_registrations(call: Call, event_id: str) -> dict[str, Any]:
    q: RegistrationListQuery = call.query
    items, next_cursor = EventService().registrations_page(
        event_id, state=q.state, limit=q.limit, cursor=q.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/events/{event_id}/check-ins",
    "POST",
    summary="Check someone in by their QR code's token or by candidate_id (safe to retry; a walk-in "
    "by id is registered at once)",
    tag="events",
    permission="write",
    body=CheckInRequest,
    response=CheckIn,
    errors=(404, 409, 422),
    description="A retried request with the same request_id (or Idempotency-Key header) gets the same "
    'answer; a code used before answers status "already_checked_in" with the time in the event\'s '
    "time zone. A forged, expired or another event's token is a 422 on token, and changes nothing.",
)
def check_in(call: Call, event_id: str) -> CheckIn:
    key = call.request.headers.get("idempotency-key")
    request_id = "key-" + hashlib.sha256(key.encode()).hexdigest()[:32] if key else None
    return EventService().check_in(event_id, call.body, actor=call.actor, request_id=request_id)


@endpoint(
    bp,
    "/v1/events/{event_id}/check-ins",
    "GET",
    summary="Who came, in the order they were checked in",
    tag="events",
    permission="read",
    query=PageQuery,
    response=Attendee,
    paginated=True,
    errors=(404,),
)
def list_check_ins(call: Call, event_id: str) -> dict[str, Any]:
    q: PageQuery = call.query
    items, next_cursor = EventService().checked_in(event_id, limit=q.limit, cursor=q.cursor)
    return page(items, next_cursor)
