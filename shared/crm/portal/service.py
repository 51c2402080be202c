"""Candidate self-service (the portal): a person sees, corrects, exports and erases their record.

The credential is a signed link (purpose ``portal``, naming only the candidate id) that works for
an hour: ``request_link`` queues an email with one for a known address and answers the same for
an unknown one (both paths read the email guard and put one message on the mail queue; the
worker drops the message of an unknown address), so the answer never tells who is known. Every
portal action verifies the token again and reads the candidate: once the record is erased the
link stops working.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from crm.alerts.service import AlertService
from crm.candidates.models import TOPICS, Candidate, CandidatePatch, Topic
from crm.candidates.service import CandidateService
from crm.custom_fields.service import CustomFields
from crm.events.service import EventService, attendance_of
from crm.jobs.service import JobService
from crm.mailing.messages import MailJob
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.fields import Email
from crm.platform.forms import is_bot, parse_fields
from crm.platform.ids import new_id
from crm.platform.models import Model
from crm.platform.queues import send_message
from crm.platform.signing import InvalidLink, verify
from crm.referrals.service import ReferralService

#: A portal link works for an hour.
PORTAL_LINK_SECONDS = 3600
SOURCE = "portal"
ACTOR = "candidate"
#: The recipient of the mail-queue message for an address nobody has (the worker sends nothing).
NOBODY = "nobody"
#: The fields a candidate may correct (the email address is their identity: not here).
DETAIL_FIELDS = ("first_name", "last_name", "phone", "location", "linkedin_url")
OPTIONAL_FIELDS = frozenset({"phone", "location", "linkedin_url"})
TOPIC_LABELS: dict[Topic, str] = {
    "marketing": "News and campaigns",
    "job_alerts": "Job alerts",
    "events": "Events",
}


class PortalLinkRequest(Model):
    """``POST /public/portal/link``: the address to send a portal link to. Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    email: Email


def request_link(fields: dict[str, Any]) -> None:
    """Queue a portal link for the person with this email, if there is one (the caller always 202s)."""
    if is_bot(fields):
        return
    wanted = parse_fields(PortalLinkRequest, fields)
    candidate_id = CandidateService().find_id_by_email(wanted.email)
    job = MailJob(kind="portal_link", ref=new_id(), recipients=[candidate_id or NOBODY])
    send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))


def open_portal(token: str | None) -> Candidate:
    """The candidate a portal token names; an ``InvalidLink`` for a bad, expired or orphaned one."""
    payload = verify("portal", token, max_age_seconds=PORTAL_LINK_SECONDS)
    candidate_id = payload.get("c")
    if not isinstance(candidate_id, str) or not candidate_id or candidate_id == NOBODY:
        raise InvalidLink("This link is not valid.")
    try:
        return CandidateService().get(candidate_id)
    except NotFound as exc:
        raise InvalidLink("This link no longer works: there is no record for it any more.") from exc


def field_text(value: Any) -> str:
    """One form field as text (a repeated field: its first value)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def update_details(candidate: Candidate, fields: dict[str, Any]) -> Candidate:
    """Save corrected details against the version the page showed. A ``ValidationFailed`` names
    each invalid field; a ``VersionConflict`` means the record changed since the page was read."""
    data: dict[str, Any] = {"version": field_text(fields.get("version")) or None}
    for name in DETAIL_FIELDS:
        text = field_text(fields.get(name))
        data[name] = (text or None) if name in OPTIONAL_FIELDS else text
    patch = parse_fields(CandidatePatch, data)
    return CandidateService().update(candidate.id, patch, actor=ACTOR)


def checked(value: Any) -> bool:
    """An HTML checkbox: present (any value but an explicit no) means checked."""
    text = field_text(value).lower()
    return value is not None and text not in ("false", "0", "off", "no")


def set_preferences(candidate: Candidate, fields: dict[str, Any]) -> Candidate:
    """Grant each checked topic and withdraw each unchecked one that was granted (source ``portal``).
    A topic never asked about and left unchecked records nothing."""
    repository = CandidateService()
    for topic in TOPICS:
        wanted = checked(fields.get(topic))
        consent = candidate.consents.get(topic)
        granted = bool(consent and consent.granted)
        if wanted != granted and (consent is not None or wanted):
            candidate = repository.set_consent(candidate.id, topic, wanted, source=SOURCE, actor=ACTOR)
    return candidate


def applications(candidate_id: str) -> list[dict[str, Any]]:
    """The person's applications as they may see them, newest first: the job, when they applied,
    and where it stands in the words the job's pipeline gives a candidate (``public_name``; never
    a recruiter's internal stage name, and never a rejection's reason)."""
    jobs = JobService()
    seen: list[dict[str, Any]] = []
    for application in CandidateService().applications(candidate_id):
        try:
            job = jobs.get(application.job_id)
        except NotFound:
            title, status = None, None
        else:
            title, status = job.title, job.public_stage_name(application.stage)
        seen.append(
            {
                "job_id": application.job_id,
                "job_title": title,
                "applied_at": application.applied_at,
                "status": status,
                "status_since": application.stage_entered_at or application.applied_at,
                "source": application.source,
                "resume_attached": bool(application.resume_key),
                "utm": application.utm,
            }
        )
    return sorted(seen, key=lambda a: str(a["applied_at"]), reverse=True)


def events(candidate_id: str) -> list[dict[str, Any]]:
    """The person's event registrations as they may see them, newest first: the event, their
    place (registered, waitlisted, cancelled), whether they came."""
    service = EventService()
    now = service.now()
    seen = []
    for registration, event in service.registrations_of_person(candidate_id):
        seen.append(
            {
                "event_id": registration.event_id,
                "event_name": event.name if event else None,
                "starts_at": event.starts_at if event else None,
                "event_status": event.status if event else None,
                "state": registration.state,
                "registered_at": registration.registered_at,
                "walk_in": registration.walk_in,
                "checked_in_at": registration.checked_in_at,
                "attendance": attendance_of(registration, event, now) if event else None,
                "cancelled_at": registration.cancelled_at,
            }
        )
    return seen


def export(candidate: Candidate) -> dict[str, Any]:
    """Everything the product holds about the person themselves: profile, consents,
    applications, event registrations and attendance, timeline, job-alert subscription and who
    referred them (never recruiters' notes, nor a referrer's reasons, which are theirs)."""
    repository = CandidateService()
    profile = candidate.model_dump(mode="json", exclude={"consents", "pools", "version"})
    custom = CustomFields()
    profile["custom_fields"] = custom.visible("candidate", candidate.custom_fields, private=False)
    held = applications(candidate.id)
    activities: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page, cursor = repository.timeline(candidate.id, limit=100, cursor=cursor)
        activities += [
            {"kind": a.kind, "at": a.at, "detail": custom.public_detail("candidate", a.detail)}
            for a in page
            if not a.kind.startswith("note")  # recruiters' notes are theirs, not the candidate's
        ]
        if not cursor:
            break
    subscription = AlertService().get(candidate.id)
    alerts = None
    if subscription:
        alerts = {
            key: value
            for key, value in subscription.items()
            if key in ("state", "tags", "location", "pending", "confirmed_at", "updated_at")
        }
    return {
        "profile": profile,
        "consents": {t: c.model_dump(mode="json") for t, c in candidate.consents.items()},
        "applications": held,
        "events": events(candidate.id),
        "timeline": activities,
        "job_alerts": alerts,
        "referrals": [
            r.model_dump(
                mode="json",
                include={"referrer_email", "job_id", "channel", "referred_at", "confirmed_at", "status"},
            )
            for r in ReferralService().of_candidate(candidate.id)
        ],
    }


def erase(candidate: Candidate) -> None:
    """The same complete erasure an admin does; the portal link stops working with it."""
    CandidateService().erase(candidate.id, actor="candidate:portal")
