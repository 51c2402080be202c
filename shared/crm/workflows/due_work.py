"""Due work, found once a minute (an EventBridge Scheduler rate schedule in AWS; the local
runtime's clock in ``crm dev``): sequence steps, reminders and events' reminders and ends whose
time has come.

Both wait in gsi2 under ``DUE``, sorted by due time, so one Query finds everything due. Each
is queued on the mail queue *before* it is moved on (the enrolment to its next step, the
reminder out of the index), so a crash in between queues it twice at worst, which the mail
worker's delivery ledger absorbs.

A step due in a paused sequence is *held* (moved out of ``DUE``, nothing sent). Resuming puts the
sequence itself in ``DUE`` (a release marker); the tick that finds it sends the held steps, a
page at a time, as if they were due now, and takes the marker out once none are left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.events.service import EventService
from crm.mailing.messages import MailJob, chunks
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.due import due_pages
from crm.platform.errors import NotFound
from crm.platform.ids import iso
from crm.platform.queues import send_messages
from crm.reminders.service import ReminderService
from crm.sequences.models import RELEASE_PAGE, Sequence
from crm.sequences.service import SequenceService
from crm.webhooks.service import DeliveryService

#: Leave this much of the invocation unused; the next tick picks up the rest.
SAFETY_MARGIN_MS = 10_000


@dataclass(frozen=True)
class TickResult:
    sequence_steps: int = 0
    reminders: int = 0
    event_items: int = 0
    webhook_retries: int = 0


def run_due_work(*, now: datetime | None = None, remaining_ms: Callable[[], int] | None = None) -> TickResult:
    now = now or clock.now()
    cutoff = iso(now) + "~"  # every sort key that starts with a time up to now
    steps = reminders = event_items = webhook_retries = 0
    sequences = SequenceService()
    cache: dict[str, Sequence | None] = {}
    pages = due_pages(cutoff)
    while True:
        if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
            break
        items = next(pages, None)
        if items is None:
            break
        steps += _sequence_steps([i for i in items if i.get("type") == "enrollment"], sequences, cache, now)
        steps += _releases([i for i in items if i.get("type") == "sequence"], sequences, cache, now)
        reminders += _reminders([i for i in items if i.get("type") == "reminder"])
        event_items += EventService(now=lambda: now).run_due(
            [i for i in items if i.get("type") == "event_reminder"]
        )
        # webhooks: messages whose next retry is due go back on the webhook queue
        retries = [i for i in items if i.get("type") == "webhook_message"]
        if retries:
            webhook_retries += DeliveryService().queue_due(retries)
    return TickResult(
        sequence_steps=steps, reminders=reminders, event_items=event_items, webhook_retries=webhook_retries
    )


def _sequence(
    sequences: SequenceService, cache: dict[str, Sequence | None], sequence_id: str
) -> Sequence | None:
    if sequence_id not in cache:
        try:
            cache[sequence_id] = sequences.get(sequence_id)
        except NotFound:
            cache[sequence_id] = None
    return cache[sequence_id]


def _sequence_steps(
    enrolments: list[dict[str, object]],
    sequences: SequenceService,
    cache: dict[str, Sequence | None],
    now: datetime,
) -> int:
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for enrolment in enrolments:
        groups[(str(enrolment["sequence_id"]), int(str(enrolment["next_step"])))].append(
            str(enrolment["candidate_id"])
        )
    queued = 0
    for (sequence_id, step), candidate_ids in groups.items():
        sequence = _sequence(sequences, cache, sequence_id)
        if sequence is None or step >= len(sequence.steps):
            for candidate_id in candidate_ids:
                sequences.advance(candidate_id, sequence_id, step=step, next_due_at=None)
            continue
        if sequence.status == "paused":
            held = [c for c in candidate_ids if sequences.hold(c, sequence_id, step=step)]
            if len(held) == len(candidate_ids):
                continue
            cache.pop(sequence_id)
            sequence = _sequence(sequences, cache, sequence_id)
            if sequence is None or sequence.status == "paused":
                continue  # the others moved on meanwhile (stopped, taken out, sent by another tick)
            # Resumed meanwhile: what could not be held is sent now.
            candidate_ids = [c for c in candidate_ids if c not in held]
        send_messages(
            get_settings().mail_queue_url,
            [
                MailJob(kind="sequence", ref=sequence_id, step=step, recipients=chunk).model_dump_json()
                for chunk in chunks(candidate_ids)
            ],
        )
        following = step + 1
        next_due = (
            iso(now + timedelta(days=sequence.steps[following].delay_days))
            if following < len(sequence.steps)
            else None
        )
        for candidate_id in candidate_ids:
            queued += sequences.advance(candidate_id, sequence_id, step=step, next_due_at=next_due)
    return queued


def _releases(
    markers: list[dict[str, object]],
    sequences: SequenceService,
    cache: dict[str, Sequence | None],
    now: datetime,
) -> int:
    """Resumed sequences: send a page of the steps held while each was paused; the marker goes
    once nothing is held (a sequence paused again keeps what it holds, and its marker goes)."""
    queued = 0
    for marker in markers:
        sequence_id, mark = str(marker["id"]), str(marker["gsi2sk"])
        try:
            sequence = cache[sequence_id] = sequences.get(sequence_id)
        except NotFound:
            continue
        held = sequences.held_page(sequence_id) if sequence.status == "active" else []
        if held:
            queued += _sequence_steps(held, sequences, cache, now)
        if len(held) < RELEASE_PAGE:
            sequences.release_done(sequence_id, mark)
    return queued


def _reminders(items: list[dict[str, object]]) -> int:
    if not items:
        return 0
    recipients = [f"{i['candidate_id']}/{i['id']}/{i['due_at']}" for i in items]
    send_messages(
        get_settings().mail_queue_url,
        [
            MailJob(kind="reminder", ref="reminder", recipients=chunk).model_dump_json()
            for chunk in chunks(recipients)
        ],
    )
    repository = ReminderService()
    for item in items:
        repository.dequeue(str(item["candidate_id"]), str(item["id"]), due_at=str(item["due_at"]))
    return len(items)
