"""The webhook event catalogue: every event type an endpoint can subscribe to, what it means and
which fields its ``data`` carries (ids and the facts an integrator needs; never resume contents,
never free text a recruiter wrote).

Each type but ``webhook.ping`` is a domain event on the EventBridge bus, derived from the table's
stream by ``crm.candidates.events`` (the stream function publishes them; the webhook rule queues
them for the webhook worker). A new domain event becomes a webhook by one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    fields: tuple[str, ...]


PING = "webhook.ping"

CATALOGUE: tuple[EventType, ...] = (
    EventType(
        "candidate.created", "A person entered the CRM (any source).", ("candidate_id", "version", "source")
    ),
    EventType(
        "candidate.updated",
        "A person's profile changed; `fields` names what changed.",
        ("candidate_id", "version", "fields"),
    ),
    EventType(
        "candidate.merged",
        "Two records were merged into one: the survivor keeps `candidate_id`.",
        ("candidate_id", "merged_candidate_id", "merge_id"),
    ),
    EventType(
        "candidate.unmerged",
        "A merge was undone: both records are back.",
        ("candidate_id", "merged_candidate_id", "merge_id"),
    ),
    EventType("candidate.erased", "A person was erased (only the id remains).", ("candidate_id",)),
    EventType(
        "candidate.consent_changed",
        "A consent was granted or withdrawn.",
        ("candidate_id", "topic", "granted", "source"),
    ),
    EventType(
        "candidate.unsubscribed",
        "A person withdrew a consent from an email's unsubscribe link.",
        ("candidate_id", "topic", "source"),
    ),
    EventType("application.submitted", "A person applied to a job.", ("candidate_id", "job_id", "source")),
    EventType(
        "application.stage_changed",
        "An application moved to another stage of its job.",
        ("application_id", "candidate_id", "job_id", "stage", "previous_stage", "reason"),
    ),
    EventType(
        "application.hired",
        "An application reached the `hired` stage.",
        ("application_id", "candidate_id", "job_id"),
    ),
    EventType(
        "event_registration.created",
        "A person registered for a recruiting event (or joined its waitlist).",
        ("candidate_id", "event_id", "state"),
    ),
    EventType(
        "event_registration.checked_in",
        "A registered person (or a walk-in) was checked in at the event.",
        ("candidate_id", "event_id", "checked_in_at"),
    ),
    EventType(
        "referral.created",
        "An employee referred a person (to a job, when `job_id` is set).",
        ("referral_id", "candidate_id", "job_id", "channel"),
    ),
    EventType(
        PING, "Sent once when an endpoint is created (and on request): check your receiver.", ("endpoint_id",)
    ),
)
EVENT_TYPES: dict[str, EventType] = {e.name: e for e in CATALOGUE}
#: What a bus event may be delivered as (the ping is never on the bus).
BUS_TYPES = frozenset(EVENT_TYPES) - {PING}


def is_known(name: str) -> bool:
    return name in EVENT_TYPES


def data_of(event_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a message: the catalogued fields of the bus event's detail (nothing else)."""
    known = EVENT_TYPES.get(event_type)
    if known is None:
        return {}
    return {name: detail.get(name) for name in known.fields if name in detail}


def describe() -> str:
    """The catalogue as a Markdown list (the OpenAPI description)."""
    return "\n".join(f"- `{e.name}`: {e.description} Fields: {', '.join(e.fields)}." for e in CATALOGUE)
