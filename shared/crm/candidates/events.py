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
    # webhooks: the further events an integration wants (stages, consents, registrations, referrals)
    out.extend(_more_events(event_name, sk, old, new, record_id))
    return out


def _more_events(
    event_name: str, sk: str, old: dict[str, Any] | None, new: dict[str, Any] | None, record_id: str
) -> list[DomainEvent]:
    """Stage changes and hires of applications, consent changes and unsubscribes of profiles,
    event registrations and check-ins, referrals (other slices' items, told apart by ``type``)."""
    out: list[DomainEvent] = []
    if new is None or event_name == "REMOVE":
        return out
    before = old or {}
    kind = new.get("type")
    if sk.startswith("APP#") and event_name == "MODIFY" and before.get("stage") != new.get("stage"):
        ids = {
            "application_id": f"{new.get('candidate_id')}_{new.get('job_id')}",
            "candidate_id": new.get("candidate_id"),
            "job_id": new.get("job_id"),
        }
        moved = {
            **ids,
            "stage": new.get("stage"),
            "previous_stage": before.get("stage"),
            "reason": new.get("reason"),
        }
        out.append(DomainEvent("application.stage_changed", moved, record_id))
        if new.get("stage") == "hired":
            out.append(DomainEvent("application.hired", ids, record_id))
    elif sk == "PROFILE" and event_name == "MODIFY":
        old_consents, new_consents = before.get("consents") or {}, new.get("consents") or {}
        for topic in sorted(set(new_consents)):
            now, was = new_consents.get(topic) or {}, old_consents.get(topic) or {}
            if now.get("granted") == was.get("granted") and now.get("at") == was.get("at"):
                continue
            change = {
                "candidate_id": new.get("id"),
                "topic": topic,
                "granted": bool(now.get("granted")),
                "source": now.get("source"),
            }
            out.append(DomainEvent("candidate.consent_changed", change, record_id))
            if (
                was.get("granted")
                and not now.get("granted")
                and str(now.get("source", "")).startswith("unsubscribe")
            ):
                unsubscribed = {k: change[k] for k in ("candidate_id", "topic", "source")}
                out.append(DomainEvent("candidate.unsubscribed", unsubscribed, record_id))
    elif kind == "event_registration":
        ids = {"candidate_id": new.get("candidate_id"), "event_id": new.get("event_id")}
        joined = new.get("state") != "cancelled" and (
            event_name == "INSERT" or before.get("state") == "cancelled"
        )
        if joined:
            out.append(
                DomainEvent("event_registration.created", {**ids, "state": new.get("state")}, record_id)
            )
        if new.get("checked_in_at") and not before.get("checked_in_at"):
            checked = {**ids, "checked_in_at": new.get("checked_in_at")}
            out.append(DomainEvent("event_registration.checked_in", checked, record_id))
    # candidate.merged / candidate.unmerged (in the webhook catalogue: candidate_id, merged_candidate_id,
    # merge_id) belong here too, from the merge slice's record (its item ``type``), once it exists.
    elif kind == "referral" and event_name == "INSERT":
        fields = {
            "referral_id": new.get("id"),
            "candidate_id": new.get("candidate_id"),
            "job_id": new.get("job_id"),
            "channel": new.get("channel"),
        }
        out.append(DomainEvent("referral.created", fields, record_id))
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
