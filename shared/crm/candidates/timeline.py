"""The timeline in words: what each activity says to a recruiter, and who did it.

Activities are stored as a ``kind``, an ``actor`` (``user:<sub>``, ``api-key:<id>``,
``career-site``, ``candidate:portal``, ...) and a ``detail`` map. :func:`describe` turns one into
a sentence using the names of the jobs and pools it mentions; :func:`actor_label` names the
actor from the users' and keys' names the caller looked up (:func:`actor_refs` lists which).
Pure functions: the web layer fetches the names, these only word them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crm.candidates.models import Activity

#: How each field of a profile is named in a sentence.
FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "phone": "phone",
    "location": "location",
    "linkedin_url": "LinkedIn URL",
    "tags": "tags",
    "marketing_consent": "marketing consent",
}
#: Actors that are not a person or a key.
SYSTEM_ACTORS = {
    "career-site": "the career site",
    "candidate": "the candidate",
    "candidate:portal": "the candidate (portal)",
    "system": "the system",
}


@dataclass
class Names:
    """Display names the caller looked up: job titles, pool names, users' emails, key names."""

    jobs: Mapping[str, str] = field(default_factory=dict)
    pools: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)


def actor_refs(activities: Iterable[Activity]) -> tuple[list[str], list[str]]:
    """The user subs and API key ids the activities' actors name (each once, in order)."""
    users: dict[str, None] = {}
    keys: dict[str, None] = {}
    for activity in activities:
        kind, _, ref = activity.actor.partition(":")
        if kind == "user" and ref:
            users[ref] = None
        elif kind == "api-key" and ref:
            keys[ref] = None
    return list(users), list(keys)


def referenced(activities: Iterable[Activity]) -> tuple[list[str], list[str]]:
    """The job ids and pool ids the activities mention."""
    jobs: dict[str, None] = {}
    pools: dict[str, None] = {}
    for activity in activities:
        if isinstance(activity.detail.get("job_id"), str):
            jobs[activity.detail["job_id"]] = None
        if isinstance(activity.detail.get("pool_id"), str):
            pools[activity.detail["pool_id"]] = None
    return list(jobs), list(pools)


def actor_label(actor: str, names: Names) -> str:
    """Who did it: a user's email, a key's name, or a word for the system parts."""
    kind, _, ref = actor.partition(":")
    if kind == "user":
        return names.users.get(ref, "a user who no longer signs in")
    if kind == "api-key":
        return f"the integration “{names.keys[ref]}”" if ref in names.keys else "an integration"
    return SYSTEM_ACTORS.get(actor, actor)


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return f"“{value}”"


def change_lines(detail: Mapping[str, Any]) -> list[str]:
    """One line per changed field, with its old and new value where the activity kept them."""
    changes = detail.get("changes")
    fields = detail.get("fields") or []
    lines = []
    for name in fields if isinstance(fields, list) else []:
        label = FIELD_LABELS.get(str(name), str(name).replace("_", " "))
        change = changes.get(name) if isinstance(changes, Mapping) else None
        if isinstance(change, Mapping):
            lines.append(f"{label}: {_value(change.get('from'))} → {_value(change.get('to'))}")
        else:
            lines.append(label)
    return lines


def _event_activity(kind: str, d: Mapping[str, Any]) -> str:
    """A recruiting event's activity (the detail names the event, as it was called then)."""
    event = f"the event “{d['event_name']}”" if d.get("event_name") else "an event"
    if kind == "event_registered":
        return f"Registered for {event}"
    if kind == "event_waitlisted":
        return f"Joined the waitlist of {event}"
    if kind == "event_promoted":
        return f"Got a place at {event} from the waitlist"
    if kind == "event_registration_cancelled":
        return f"Cancelled their registration for {event}"
    if kind == "event_attended":
        at = f" (checked in at {d['at_local']})" if d.get("at_local") else ""
        return f"Attended {event}{at}" + (" as a walk-in" if d.get("walk_in") else "")
    return kind.replace("_", " ").capitalize()


def describe(activity: Activity, names: Names) -> str:  # noqa: C901 - one branch per kind
    """What happened, in a sentence (the changed fields are :func:`change_lines`)."""
    d = activity.detail
    kind = activity.kind
    job = names.jobs.get(str(d.get("job_id")), "a job that no longer exists") if d.get("job_id") else "a job"
    pool = names.pools.get(str(d.get("pool_id")), "a pool that no longer exists") if d.get("pool_id") else ""
    if kind == "created":
        return f"Added (source: {d.get('source', 'unknown')})"
    if kind == "merged":
        tags = d.get("tags_added") or []
        extra = f"; tags added: {', '.join(tags)}" if tags else ""
        return f"Signed up again through {d.get('source', 'a form')}; new details merged in{extra}"
    if kind == "updated":
        count = len(d.get("fields") or [])
        return "Details changed" if count != 1 else "A detail changed"
    if kind == "applied":
        return f"Applied to {job}" + (" with a resume" if d.get("resume") else "")
    if kind == "feedback_given":
        return f"Interview feedback given for {job} ({d.get('interview', 'an interview')})"
    if kind.startswith("interview_"):
        return _interview_words(kind, d, job)
    if kind == "sourced":
        return f"Added to the pipeline of {job} by a recruiter"
    if kind == "stage_changed":
        why = f" ({d.get('reason')})" if d.get("reason") else ""
        before, after = d.get("from_name") or d.get("from"), d.get("to_name") or d.get("to")
        return f"Moved from “{before}” to “{after}” for {job}{why}"
    if kind == "application_updated":
        return f"Custom fields of the application to {job} changed"
    if kind == "note_added":
        return "Note added"
    if kind == "resume_added":
        return "Resume uploaded" if d.get("source") == "recruiter" else "Resume added"
    if kind == "interaction_logged":
        what = "Meeting" if d.get("interaction") == "meeting" else "Call"
        outcome = str(d.get("outcome") or "").replace("_", " ")
        minutes = d.get("duration_minutes")
        length = f", {minutes} min" if isinstance(minutes, int) else ""
        return f"{what} logged: {outcome}{length}"
    if kind == "emailed":
        return f"Emailed: “{d.get('subject', '')}”"
    if kind in ("tags_added", "tags_removed"):
        tags = ", ".join(str(t) for t in d.get("tags") or [])
        how = " (a bulk action)" if d.get("bulk_id") else ""
        return f"Tags {'added' if kind == 'tags_added' else 'removed'}: {tags}{how}"
    if kind == "pool_stage_set":
        return f"Put in {pool} at stage “{d.get('stage')}”"
    if kind == "pool_removed":
        return f"Removed from {pool}"
    if kind == "consent_given":
        return f"Agreed to {d.get('topic', 'marketing')} email"
    if kind == "unsubscribed":
        return f"Unsubscribed from {d.get('topic', 'marketing')} email"
    if kind.startswith("event_"):
        return _event_activity(kind, d)
    if kind == "sequence_unenrolled":
        name = d.get("sequence_name")
        sequence = f"the sequence “{name}”" if name else "a sequence"
        sent = d.get("steps_sent")
        done = f" after {sent} step{'s' if sent != 1 else ''} sent" if isinstance(sent, int) else ""
        return f"Taken out of {sequence}{done}; nothing more from it is sent"
    return kind.replace("_", " ").capitalize()


def _interview_words(kind: str, d: Mapping[str, Any], job: str) -> str:
    """A scheduled interview's entries (``crm.interviews``): offered, booked, moved, cancelled."""
    title = d.get("title") or "an interview"
    if kind == "interview_offered":
        count = d.get("slots")
        times = f"{count} time{'s' if count != 1 else ''}" if isinstance(count, int) else "times"
        return f"Interview offered for {job} ({title}): {times} to choose from"
    if kind == "interview_booked":
        return f"Interview booked for {job} ({title}): {d.get('when', '')}"
    if kind == "interview_rescheduled":
        before = f" from {d['from']}" if d.get("from") else ""
        return f"Interview moved for {job} ({title}){before} to {d.get('when', '')}"
    if kind == "interview_cancelled":
        who = "the candidate" if d.get("by") == "candidate" else "a recruiter"
        when = f" on {d['when']}" if d.get("when") else ""
        return f"Interview cancelled for {job} ({title}){when}, by {who}"
    return kind.replace("_", " ").capitalize()
