"""The dispatcher: pages an audience onto the mail queue, resumably.

For each page it queues the mail messages first, then records the page with one conditional
update (``DispatchProgress.advance``). A crash between the two re-queues that page on retry,
which the mail worker's delivery ledger ignores; the stats count it once. When the invocation
is about to run out of time it queues a continuation of itself and stops, so an audience of
any size is paged in as many invocations as it takes, without a gap or a duplicate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from crm.alerts.service import AlertService
from crm.bulk.service import BulkActionService
from crm.campaigns.service import CampaignService
from crm.dispatch.repository import DispatchProgress
from crm.jobs.service import JobService
from crm.mailing.messages import DispatchRequest, MailJob, MailKind, chunks
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import NotFound
from crm.platform.ids import iso
from crm.platform.queues import send_message, send_messages

log = logging.getLogger(__name__)

#: Stop paging when less than this is left of the invocation, and hand over to a continuation.
SAFETY_MARGIN_MS = 10_000

PageSource = Callable[[str | None], tuple[list[str], str | None]]


@dataclass(frozen=True)
class Audit:
    pages: int = 0
    recipients: int = 0
    continued: bool = False


def dispatch(request: DispatchRequest, *, remaining_ms: Callable[[], int] | None = None) -> Audit:
    if request.kind == "campaign":
        return _dispatch_campaign(request, remaining_ms)
    if request.kind == "bulk":
        return Audit(pages=BulkActionService().run(request.id, remaining_ms=remaining_ms))
    if request.kind == "stage_update":
        # A delayed status email (a rejection's) whose time has come: one message, to its person.
        candidate_id = request.id.partition("_")[0]
        job = MailJob(kind="stage_update", ref=request.id, recipients=[candidate_id])
        send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))
        return Audit(pages=1, recipients=1)
    return _dispatch_job_alerts(request, remaining_ms)


def _dispatch_campaign(request: DispatchRequest, remaining_ms: Callable[[], int] | None) -> Audit:
    campaigns = CampaignService()
    campaign = campaigns.begin_dispatch(request.id)
    if campaign is None:
        log.warning(
            "dispatch for campaign %s, which does not exist, was never launched or was cancelled", request.id
        )
        return Audit()

    def pages(cursor: str | None) -> tuple[list[str], str | None]:
        return campaigns.audience_page(campaign, cursor)

    progress = DispatchProgress(*campaigns.progress_item(request.id))
    return _run(request, progress, pages, "campaign", request.id, remaining_ms)


def _dispatch_job_alerts(request: DispatchRequest, remaining_ms: Callable[[], int] | None) -> Audit:
    jobs = JobService()
    try:
        job = jobs.get(request.id)
    except NotFound:
        return Audit()
    progress = DispatchProgress(*jobs.alert_run_item(job.id, request.run or job.updated_at))
    progress.start({"job_id": job.id})
    alerts = AlertService()

    def pages(cursor: str | None) -> tuple[list[str], str | None]:
        return alerts.matching_subscribers_page(job, cursor)

    return _run(request, progress, pages, "job_alert", job.id, remaining_ms)


def _run(
    request: DispatchRequest,
    progress: DispatchProgress,
    pages: PageSource,
    kind: MailKind,
    ref: str,
    remaining_ms: Callable[[], int] | None,
) -> Audit:
    settings = get_settings()
    done_pages = recipients = 0
    while True:
        state = progress.read()
        if state is None or state.done:
            return Audit(done_pages, recipients)
        if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
            send_message(settings.dispatch_queue_url, request.model_dump_json(exclude_none=True))
            return Audit(done_pages, recipients, continued=True)
        ids, next_cursor = pages(state.cursor)
        bodies = [
            MailJob(kind=kind, ref=ref, recipients=chunk).model_dump_json(exclude_none=True)
            for chunk in chunks(ids)
        ]
        if bodies:
            send_messages(settings.mail_queue_url, bodies)
        if progress.advance(
            page=state.page, next_cursor=next_cursor, recipients=len(ids), now=iso(clock.now())
        ):
            done_pages += 1
            recipients += len(ids)


def parse_request(body: str) -> DispatchRequest:
    return DispatchRequest.model_validate(json.loads(body))
