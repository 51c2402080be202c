"""What table changes set in motion for engagement (called by the stream function).

* a job-alert request (``ALERTSUB`` with a new pending request) -> its confirmation email;
* a job that opens (created open, or reopened) -> its alerts are dispatched;
* an application -> the candidate's sequences that stop on ``applied`` stop;
* marketing consent withdrawn -> the sequences that stop on ``unsubscribed`` stop.

Stream records arrive at least once; everything queued here is absorbed by the delivery
ledger or the dispatcher's progress if it is queued twice, and stopping is idempotent.
"""

from __future__ import annotations

from typing import Any

from crm.candidates.events import is_application, is_new_submission
from crm.mailing.messages import DispatchRequest, MailJob
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.ids import iso
from crm.platform.queues import send_message
from crm.sequences.service import SequenceService


def react(
    event_name: str, keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    sk = str(keys.get("sk", ""))
    if new is None:
        return
    if sk == "ALERTSUB":
        request_id = (new.get("pending") or {}).get("request_id")
        if request_id and request_id != ((old or {}).get("pending") or {}).get("request_id"):
            job = MailJob(kind="alert_confirm", ref=request_id, recipients=[str(new["candidate_id"])])
            send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))
    elif sk == "JOB":
        if new.get("status") == "open" and (old or {}).get("status") != "open":
            request = DispatchRequest(kind="job_alert", id=str(new["id"]), run=str(new.get("updated_at", "")))
            send_message(get_settings().dispatch_queue_url, request.model_dump_json(exclude_none=True))
    elif is_application(keys) and is_new_submission(event_name, old, new):
        _stop(str(new["candidate_id"]), "applied")
    elif (
        sk == "PROFILE" and old is not None and _granted(old, "marketing") and not _granted(new, "marketing")
    ):
        _stop(str(new["id"]), "unsubscribed")


def _withdrawn(old: dict[str, Any] | None, new: dict[str, Any], topic: str) -> bool:
    return old is not None and _granted(old, topic) and not _granted(new, topic)


def _granted(profile: dict[str, Any], topic: str) -> bool:
    consent = (profile.get("consents") or {}).get(topic) or {}
    return bool(consent.get("granted"))


def _stop(candidate_id: str, reason: str) -> None:
    SequenceService().stop_all(candidate_id, reason=reason, now=iso(clock.now()))
