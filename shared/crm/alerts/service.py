"""Job alerts: double opt-in subscriptions from the career site, and matching them to a job.

A request stores the person (the same intake as every public form, so the answer never
reveals who is known) and a pending subscription in one transaction. The confirmation email
carries a signed link (purpose ``alert-confirm``, naming the candidate and the request);
following it confirms the criteria and records the ``job_alerts`` consent. When a job opens,
each confirmed subscriber whose tags or location match gets exactly one alert for that job
(delivery scope ``alert#<job>``), however often the job is reopened.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crm.alerts.models import JobAlertSubmission
from crm.alerts.repository import AlertSubscriptionRepository, request_operation
from crm.candidates.service import CandidateService
from crm.jobs.models import Job
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.forms import is_bot, parse_fields
from crm.platform.ids import new_id, utcnow
from crm.platform.signing import InvalidLink, sign, verify

SOURCE = "job-alerts"
#: A confirmation link works for a week.
CONFIRM_LINK_SECONDS = 7 * 24 * 3600


def subscribe(fields: dict[str, Any]) -> None:
    """Store a career-site job-alert request; the confirmation email follows from the stream."""
    if is_bot(fields):
        return
    submission = parse_fields(JobAlertSubmission, fields)
    request_id = new_id()

    def subscription(candidate_id: str, now: str) -> list[dict[str, Any]]:
        return [
            request_operation(
                candidate_id,
                tags=submission.tags,
                location=submission.location,
                request_id=request_id,
                now=now,
            )
        ]

    CandidateService().intake(submission, source=SOURCE, more_operations=subscription)


def confirm_url(candidate_id: str, request_id: str) -> str:
    base = get_settings().public_base_url.rstrip("/")
    token = sign("alert-confirm", {"c": candidate_id, "r": request_id})
    return f"{base}/public/confirm?{urlencode({'token': token})}"


def confirm(token: str | None) -> dict[str, Any]:
    """Follow a confirmation link: the subscription becomes active and the consent is recorded."""
    payload = verify("alert-confirm", token, max_age_seconds=CONFIRM_LINK_SECONDS)
    candidate_id, request_id = payload.get("c"), payload.get("r")
    if not isinstance(candidate_id, str) or not isinstance(request_id, str):
        raise InvalidLink("This link is not valid.")
    try:
        subscription = AlertSubscriptionRepository().confirm(candidate_id, request_id, now=utcnow())
        repository = CandidateService()
        candidate = repository.get(candidate_id)
    except NotFound as exc:
        raise InvalidLink("This link is no longer valid. Subscribe again on the career site.") from exc
    consent = candidate.consents.get("job_alerts")
    if consent is None or not consent.granted:
        repository.set_consent(
            candidate_id, "job_alerts", True, source="job-alert-confirmation", actor="candidate"
        )
    return {"tags": subscription.get("tags") or [], "location": subscription.get("location")}


def matches(job: Job, subscription: dict[str, Any]) -> bool:
    """Any shared tag, or the same place (one location naming the other, case-insensitively)."""
    if set(job.tags) & set(subscription.get("tags") or []):
        return True
    wanted = str(subscription.get("location") or "").casefold().strip()
    where = (job.location or "").casefold().strip()
    return bool(wanted and where and (wanted in where or where in wanted))


def matching_subscribers_page(job: Job, cursor: str | None) -> tuple[list[str], str | None]:
    subscriptions, next_cursor = AlertSubscriptionRepository().subscribers_page(cursor)
    return [s["candidate_id"] for s in subscriptions if matches(job, s)], next_cursor


class AlertService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: AlertSubscriptionRepository | None = None) -> None:
        self.repository = repository or AlertSubscriptionRepository()

    def confirm(self, candidate_id: str, request_id: str, *, now: str) -> dict[str, Any]:
        return self.repository.confirm(candidate_id, request_id, now=now)

    def get(self, candidate_id: str) -> dict[str, Any] | None:
        return self.repository.get(candidate_id)

    def matching_subscribers_page(self, job: Job, cursor: str | None) -> tuple[list[str], str | None]:
        """One page of the confirmed subscribers, as the ids of those whose criteria match ``job``."""
        subscriptions, next_cursor = self.repository.subscribers_page(cursor)
        return [s["candidate_id"] for s in subscriptions if matches(job, s)], next_cursor

    def subscribers_page(
        self, cursor: str | None, *, limit: int = 500
    ) -> tuple[list[dict[str, Any]], str | None]:
        return self.repository.subscribers_page(cursor, limit=limit)
