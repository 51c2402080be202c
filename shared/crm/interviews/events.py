"""What a change of an interview item sets in motion (called by the stream's reactions,
``crm.workflows.reactions``): the emails of the event the interview reached.

* offered -> the candidate's link to choose a time;
* booked, or moved to another slot -> the confirmation with the invitation to the candidate, and
  the invitation to the team (the interviewers and the recruiter who offered);
* cancelled -> the cancellation to the candidate, and to the team when it was booked.

Stream records arrive at least once and may be replayed: each email's scope names the interview
and its event, so the delivery ledger sends it once; a plan whose event is no longer the
interview's sends nothing (a booking moved again before its email went).
"""

from __future__ import annotations

from typing import Any

from crm.interviews.mail import event_of, mail_ref
from crm.interviews.models import Interview
from crm.mailing.messages import MailJob, chunks


def is_interview(keys: dict[str, Any]) -> bool:
    return str(keys.get("sk", "")).startswith("INTERVIEW#")


def _event(item: dict[str, Any] | None) -> str | None:
    if not item or not item.get("state"):
        return None
    if item["state"] == "offered":
        return "offered"
    return f"{item['state']}-{int(item.get('sequence') or 0)}"


def interview_mail(
    keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None
) -> list[MailJob]:
    """The mail-queue messages for this change of the table ([] for an item that is no interview,
    or a change that reached no new event)."""
    if not is_interview(keys) or new is None:
        return []
    event = _event(new)
    if event is None or event == _event(old):
        return []
    interview = Interview.model_validate(new)
    ref = mail_ref(interview, event_of(interview))
    jobs = [MailJob(kind="interview", ref=ref, recipients=[interview.candidate_id])]
    if interview.start and interview.state != "offered":
        for part in chunks(interview.team()):
            jobs.append(MailJob(kind="interview_team", ref=ref, recipients=part))
    return jobs
