"""What table changes set in motion for engagement (called by the stream function).

* a job-alert request (``ALERTSUB`` with a new pending request) -> its confirmation email;
* a job that opens (created open, or reopened) -> its alerts are dispatched;
* an application -> the candidate's sequences that stop on ``applied`` stop;
* an application entering a stage whose job mails on it -> the status email (a rejection's is
  scheduled for the end of the admin's delay; moving the application on deletes that schedule);
* marketing consent withdrawn -> the sequences that stop on ``unsubscribed`` stop;
* a referral from the referral form -> the referred person's one email (confirm your interest);
* an application whose status a confirmed referral follows changes -> the referrer's email.
* an interview offered, booked, moved or cancelled -> its emails (``crm.interviews.events``).
* an event registration or an event that changed -> its emails (``crm.events``: a place, a place
  in line, a cancelled event).

Stream records arrive at least once; everything queued here is absorbed by the delivery
ledger or the dispatcher's progress if it is queued twice, and stopping is idempotent.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

from crm.candidates.events import is_application, is_new_submission
from crm.candidates.models import application_id as application_id_of
from crm.events.service import EVENT_ITEM_TYPES, EventService
from crm.hiring.mail import stage_update_name, stage_update_ref
from crm.hiring.service import HiringService
from crm.interviews.events import interview_mail
from crm.jobs.models import REJECTED
from crm.mailing.messages import DispatchRequest, MailJob
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.ids import iso
from crm.platform.queues import send_message, send_messages
from crm.platform.scheduler import ScheduleExists, schedule_once, unschedule
from crm.platform.times import parse
from crm.referrals.service import ReferralService, invite_ref, is_referral, status_ref
from crm.sequences.service import SequenceService


def react(
    event_name: str, keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    sk = str(keys.get("sk", ""))
    if (new or old or {}).get("type") in EVENT_ITEM_TYPES:
        EventService().on_change(old, new)
        return
    if new is None:
        return
    if sk == "PROFILE":
        _referral_sign_up(old, new)
    interview_jobs = interview_mail(keys, old, new)
    if interview_jobs:
        bodies = [j.model_dump_json(exclude_none=True) for j in interview_jobs]
        send_messages(get_settings().mail_queue_url, bodies)
    elif sk == "ALERTSUB":
        request_id = (new.get("pending") or {}).get("request_id")
        if request_id and request_id != ((old or {}).get("pending") or {}).get("request_id"):
            job = MailJob(kind="alert_confirm", ref=request_id, recipients=[str(new["candidate_id"])])
            send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))
    elif sk == "JOB":
        if new.get("status") == "open" and (old or {}).get("status") != "open":
            request = DispatchRequest(kind="job_alert", id=str(new["id"]), run=str(new.get("updated_at", "")))
            send_message(get_settings().dispatch_queue_url, request.model_dump_json(exclude_none=True))
    elif is_referral(keys):
        _referral_invite(old, new)
    elif is_application(keys):
        _application_changed(event_name, old, new)
    elif (
        sk == "PROFILE" and old is not None and _granted(old, "marketing") and not _granted(new, "marketing")
    ):
        _stop(str(new["id"]), "unsubscribed")


def _application_changed(event_name: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """A new application stops the person's sequences and may be a referral link's; any change of
    stage may mail the candidate and the referrer who follows it."""
    if is_new_submission(event_name, old, new):
        _stop(str(new["candidate_id"]), "applied")
    _status_update(old, new)
    if is_new_submission(event_name, old, new):
        _referral_link(new)
    _referral_status(old, new)


def _withdrawn(old: dict[str, Any] | None, new: dict[str, Any], topic: str) -> bool:
    return old is not None and _granted(old, topic) and not _granted(new, topic)


def _granted(profile: dict[str, Any], topic: str) -> bool:
    consent = (profile.get("consents") or {}).get(topic) or {}
    return bool(consent.get("granted"))


def _stay(item: dict[str, Any] | None) -> tuple[str, str] | None:
    """An application item's current stay: its stage and when it entered it."""
    if not item or not item.get("stage"):
        return None
    return str(item["stage"]), str(item.get("stage_entered_at") or item.get("applied_at") or "")


def _status_update(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """An application that entered a stage (a new one, or a move) whose job mails the candidate on
    it: the email now, or, for a rejection, at the end of the admin's delay (the plan sends nothing
    if the application moved on by then; the schedule of a rejection undone is also deleted)."""
    before, now_at = _stay(old), _stay(new)
    if now_at is None or before == now_at:
        return
    application_id = application_id_of(str(new["candidate_id"]), str(new["job_id"]))
    if before is not None and before[0] == REJECTED:
        unschedule(stage_update_name(stage_update_ref(application_id, before[1])))
    hiring = HiringService()
    try:
        job = hiring.jobs.get(str(new["job_id"]))
    except NotFound:
        return
    if hiring.stage_template(job, now_at[0]) is None:
        return
    ref = stage_update_ref(application_id, now_at[1])
    delay = hiring.rejection_email_delay_hours() if now_at[0] == REJECTED else 0
    settings = get_settings()
    entered = parse(now_at[1])
    if delay and entered is not None:
        at = entered + timedelta(hours=delay)
        request = DispatchRequest(kind="stage_update", id=ref).model_dump_json(exclude_none=True)
        with suppress(ScheduleExists):  # a replayed stream record: the first one scheduled it
            schedule_once(stage_update_name(ref), at, queue_arn=settings.dispatch_queue_arn, body=request)
        return
    job_message = MailJob(kind="stage_update", ref=ref, recipients=[str(new["candidate_id"])])
    send_message(settings.mail_queue_url, job_message.model_dump_json(exclude_none=True))


def _referral_invite(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """A new referral from the form: the referred person's one email (the plan sends it once)."""
    if old is not None or new.get("channel") != "form" or new.get("confirmed_at"):
        return
    candidate_id = str(new["candidate_id"])
    job = MailJob(
        kind="referral_invite", ref=invite_ref(candidate_id, str(new["id"])), recipients=[candidate_id]
    )
    send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))


def _referral_link(new: dict[str, Any]) -> None:
    """An application sent with someone's referral code is their referral (confirmed: the person
    applied themselves); recorded once however often the record comes."""
    code = (new.get("utm") or {}).get("referral_code")
    if code:
        ReferralService().from_link(
            str(new["candidate_id"]),
            str(code),
            job_id=str(new["job_id"]),
            at=str(new.get("last_applied_at") or new.get("applied_at") or ""),
            stage=str(new.get("stage") or "") or None,
        )


def _referral_sign_up(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """A talent-network or job-alert sign-up sent with someone's referral code is their referral
    (to no job in particular: it follows the person's next application)."""
    touch = new.get("last_touch") or {}
    code = touch.get("referral_code")
    if not code or touch.get("form") not in ("signup", "alert"):
        return
    if old is not None and (old.get("last_touch") or {}) == touch:
        return
    ReferralService().from_link(str(new["id"]), str(code), job_id=None, at=str(touch.get("at") or ""))


def _referral_status(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """The referrals that follow this application take its status; each change mails its referrer
    once (the message names the change, so a replayed record is absorbed by the delivery ledger)."""
    if _stay(old) == _stay(new):
        return
    for change in ReferralService().follow(new, old):
        referral = change.referral
        job = MailJob(
            kind="referral_status",
            ref=status_ref(referral.candidate_id, referral.id, change.at),
            recipients=[referral.referrer_email],
        )
        send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))


def _stop(candidate_id: str, reason: str) -> None:
    SequenceService().stop_all(candidate_id, reason=reason, now=iso(clock.now()))
