"""What a table change of a person means for the rest of the world: the domain events of one
stream record (a candidate created, updated or erased; an application submitted)."""

from __future__ import annotations

from typing import Any

from crm.candidates.models import SOURCED
from crm.platform.events import DomainEvent


def is_application(keys: dict[str, Any]) -> bool:
    """Whether a changed item (its keys) is one of a person's applications."""
    return str(keys.get("sk", "")).startswith("APP#")


def events_from_change(
    event_name: str,
    keys: dict[str, Any],
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    record_id: str,
) -> list[DomainEvent]:
    """What happened, from one stream record (plain python images)."""
    sk = str(keys.get("sk", ""))
    out: list[DomainEvent] = []
    if sk == "PROFILE":
        image = new or old or {}
        cid = str(image.get("id", ""))
        if event_name == "INSERT" and new:
            out.append(
                DomainEvent(
                    "candidate.created",
                    {"candidate_id": cid, "version": new.get("version"), "source": new.get("source")},
                    record_id,
                )
            )
        elif event_name == "MODIFY" and new and old and new.get("version") != old.get("version"):
            changed = sorted(
                k
                for k in set(new) | set(old)
                if new.get(k) != old.get(k) and k not in {"version", "updated_at"}
            )
            out.append(
                DomainEvent(
                    "candidate.updated",
                    {"candidate_id": cid, "version": new.get("version"), "fields": changed},
                    record_id,
                )
            )
        elif event_name == "REMOVE":
            out.append(DomainEvent("candidate.erased", {"candidate_id": cid}, record_id))
    elif sk.startswith("APP#") and new and is_new_submission(event_name, old, new):
        detail = {k: new.get(k) for k in ("candidate_id", "job_id", "source")}
        out.append(DomainEvent("application.submitted", detail, record_id))
    return out


def is_new_submission(event_name: str, old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """A first application, or the same person applying to the same job again (a recruiter
    sourcing someone into a job is neither: the person has not applied)."""
    if new.get("source") == SOURCED and not new.get("last_applied_at"):
        return False
    if event_name == "INSERT":
        return True

    def applied(image: dict[str, Any]) -> Any:
        return image.get("last_applied_at") or image.get("applied_at")

    return event_name == "MODIFY" and applied(old or {}) != applied(new)
