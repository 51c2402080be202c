"""Bulk actions as the API, the web UI and the dispatcher use them.

:meth:`BulkActionService.create` checks the request, stores the job and queues it on the dispatch
queue; the dispatcher calls :meth:`BulkActionService.run`, which pages the selection (the ticked
ids, or the list a filter reads), applies the action to each page, records the page's outcome and
then advances, handing over to a continuation of itself when its invocation is about to end. Every
action is idempotent per person (a tag already there, a pool member, an enrolment), and a page
already recorded is never applied again, so a retried or duplicated run changes nobody twice.
An export records who it found; the CSV is built from their profiles when it is downloaded.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from typing import Any

from crm.bulk.models import MAX_EXPORT, PAGE_SIZE, BulkAction, BulkActionCreate, PageOutcome
from crm.bulk.repository import KEEP, BulkActionRepository, skipped
from crm.candidates.models import CandidateFilter
from crm.candidates.service import CandidateService, check_filter
from crm.mailing.messages import DispatchRequest
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, ValidationFailed
from crm.platform.ids import iso
from crm.platform.queues import send_message
from crm.pools.service import PoolService
from crm.sequences.service import SequenceService

log = logging.getLogger(__name__)

#: Stop paging when less than this is left of the invocation, and hand over to a continuation.
SAFETY_MARGIN_MS = 10_000
#: The columns of an export, in order.
EXPORT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "location",
    "linkedin_url",
    "tags",
    "source",
    "created_at",
    "updated_at",
)
#: A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: What each action needs besides the selection.
_NEEDS: dict[str, tuple[str, ...]] = {
    "add_tags": ("tags",),
    "remove_tags": ("tags",),
    "add_to_pool": ("pool_id",),
    "enrol": ("sequence_id",),
    "export": (),
}
_OWN_FIELDS = ("tags", "pool_id", "stage", "sequence_id")


def _check_fields(data: BulkActionCreate) -> None:
    """422 naming each field the action needs and lacks, or has but does not use."""
    needs = _NEEDS[data.action]
    errors = [
        {"field": name, "message": f"required to {data.action.replace('_', ' ')}"}
        for name in needs
        if getattr(data, name) is None
    ]
    allowed = set(needs) | ({"stage"} if data.action == "add_to_pool" else set())
    errors += [
        {"field": name, "message": f"not used to {data.action.replace('_', ' ')}"}
        for name in _OWN_FIELDS
        if name not in allowed and getattr(data, name) is not None
    ]
    if errors:
        raise ValidationFailed("The bulk action is missing something or has too much.", errors=errors)


def _filter_of(data: BulkActionCreate) -> CandidateFilter | None:
    if data.filter is None:
        return None
    flt = CandidateFilter.model_validate(data.filter.model_dump(exclude_none=True))
    check_filter(flt)
    return flt


def csv_cell(value: Any) -> str:
    """A value as an export cell: lists joined, and a leading formula character defused."""
    text = (
        ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
    )
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class BulkActionService:
    def __init__(self, candidates: CandidateService | None = None) -> None:
        self.repository = BulkActionRepository()
        self.candidates = candidates or CandidateService()

    # ------------------------------------------------------------------ asking for one

    def create(self, data: BulkActionCreate, *, actor: str) -> BulkAction:
        """Check the request (422 naming the field), store the job and queue it."""
        _check_fields(data)
        if data.pool_id is not None:
            try:
                PoolService().get(data.pool_id)
            except NotFound:
                raise ValidationFailed(
                    "The bulk action refers to a pool that does not exist.",
                    errors=[{"field": "pool_id", "message": f"no pool with id {data.pool_id}"}],
                ) from None
        if data.sequence_id is not None:
            try:
                SequenceService().get(data.sequence_id)
            except NotFound:
                raise ValidationFailed(
                    "The bulk action refers to a sequence that does not exist.",
                    errors=[{"field": "sequence_id", "message": f"no sequence with id {data.sequence_id}"}],
                ) from None
        if data.action == "add_to_pool" and data.stage is None:
            data = data.model_copy(update={"stage": "sourced"})
        if data.candidate_ids is not None:
            data = data.model_copy(update={"candidate_ids": list(dict.fromkeys(data.candidate_ids))})
        total = self._total(data)
        if data.action == "export" and total is not None and total > MAX_EXPORT:
            raise ValidationFailed(
                f"An export holds at most {MAX_EXPORT:,} people; narrow the filter.",
                errors=[{"field": "filter", "message": f"{total:,} people match, more than {MAX_EXPORT:,}"}],
            )
        job = self.repository.create(data, actor=actor, total=total, now=clock.now())
        request = DispatchRequest(kind="bulk", id=job.id).model_dump_json(exclude_none=True)
        send_message(get_settings().dispatch_queue_url, request)
        return job

    def _total(self, data: BulkActionCreate) -> int | None:
        """How many people the selection holds, when a count can be exact (not for a text search,
        whose index holds a person once per matching term)."""
        if data.candidate_ids is not None:
            return len(data.candidate_ids)
        flt = _filter_of(data)
        if flt is None or flt.q or flt.email:
            return None
        return self.candidates.count_matching(flt)

    def get(self, bulk_id: str) -> BulkAction:
        return self.repository.get(bulk_id)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[BulkAction], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)

    # ------------------------------------------------------------------ carrying it out

    def run(self, bulk_id: str, *, remaining_ms: Callable[[], int] | None = None) -> int:
        """Apply the job page by page until it is done; the pages this run applied. A job that
        does not exist (expired) is dropped; one about to run out of time queues its continuation."""
        try:
            job = self.repository.get(bulk_id)
        except NotFound:
            log.warning("bulk action %s does not exist (expired?)", bulk_id)
            return 0
        self.repository.start(bulk_id, now=iso(clock.now()))
        expires = int((clock.now() + KEEP).timestamp())
        pages = 0
        while True:
            state = self.repository.progress(bulk_id)
            if state is None or state.done:
                return pages
            if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
                request = DispatchRequest(kind="bulk", id=bulk_id).model_dump_json(exclude_none=True)
                send_message(get_settings().dispatch_queue_url, request)
                return pages
            ids, next_cursor = self._selection_page(job, state.cursor)
            outcome = self.repository.recorded_page(bulk_id, state.page)
            if outcome is None:
                outcome = self.repository.record_page(
                    bulk_id, state.page, self._apply(job, ids), expires=expires
                )
            if job.action == "export" and state.processed + len(ids) >= MAX_EXPORT:
                next_cursor = None
            if self.repository.advance(
                bulk_id,
                page=state.page,
                next_cursor=next_cursor,
                outcome=outcome,
                listed=state.listed,
                now=iso(clock.now()),
            ):
                pages += 1

    def _selection_page(self, job: BulkAction, cursor: str | None) -> tuple[list[str], str | None]:
        """The ids of one page of the selection and where the next starts (None: the last)."""
        if job.candidate_ids is not None:
            start = int(cursor or 0)
            end = start + PAGE_SIZE
            return job.candidate_ids[start:end], (str(end) if end < len(job.candidate_ids) else None)
        flt = CandidateFilter.model_validate(job.filter.model_dump(exclude_none=True) if job.filter else {})
        people, next_cursor = self.candidates.list_page(flt, limit=PAGE_SIZE, cursor=cursor)
        return [p.id for p in people], next_cursor

    def _apply(self, job: BulkAction, ids: list[str]) -> PageOutcome:
        outcome = PageOutcome()
        detail = {"bulk_id": job.id}
        if job.action in ("add_tags", "remove_tags"):
            tags = list(job.tags or [])
            for candidate_id in ids:
                try:
                    changed = self.candidates.change_tags(
                        candidate_id,
                        add=tags if job.action == "add_tags" else (),
                        remove=tags if job.action == "remove_tags" else (),
                        actor=job.actor,
                        detail=detail,
                    )
                except NotFound:
                    outcome.skipped.append(skipped(candidate_id, "unknown"))
                    continue
                if changed:
                    outcome.changed.append(candidate_id)
                else:
                    outcome.skipped.append(skipped(candidate_id, "unchanged"))
            return outcome
        people = self.candidates.get_many(ids)
        outcome.skipped += [skipped(c, "unknown") for c in ids if c not in people]
        present = [c for c in ids if c in people]
        if job.action == "add_to_pool":
            pool_id, stage = str(job.pool_id), str(job.stage or "sourced")
            for candidate_id in present:
                if pool_id in people[candidate_id].pools:
                    outcome.skipped.append(skipped(candidate_id, "already_in_pool"))
                    continue
                try:
                    self.candidates.set_pool_stage(candidate_id, pool_id, stage, actor=job.actor)
                except NotFound:
                    outcome.skipped.append(skipped(candidate_id, "unknown"))
                    continue
                outcome.changed.append(candidate_id)
        elif job.action == "enrol":
            self._enrol(str(job.sequence_id), present, outcome)
        else:  # export: everyone found
            outcome.changed += present
        return outcome

    def _enrol(self, sequence_id: str, ids: list[str], outcome: PageOutcome) -> None:
        """Enrol the page at once; the sequence's own report says who was skipped and why."""
        try:
            report = SequenceService().enroll_candidates(sequence_id, ids)
        except NotFound:  # the sequence was removed meanwhile
            outcome.skipped += [skipped(c, "unknown") for c in ids]
            return
        outcome.changed += report.enrolled_ids
        outcome.skipped += [skipped(s.candidate_id, s.reason) for s in report.skipped]

    # ------------------------------------------------------------------ the export

    def export_csv(self, bulk_id: str) -> tuple[BulkAction, str]:
        """The job and its CSV: the people it found, as they are now (an erased person is gone)."""
        job = self.repository.get(bulk_id)
        if job.action != "export":
            raise NotFound(f"Bulk action {bulk_id} is not an export.")
        if job.status != "done":
            raise Conflict("The export is still being gathered; try again in a moment.")
        ids = self.repository.changed_ids(bulk_id)
        people: dict[str, Any] = {}
        for start in range(0, len(ids), 100):
            people.update(self.candidates.get_many(ids[start : start + 100]))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for candidate_id in ids:
            person = people.get(candidate_id)
            if person is not None:
                values = person.model_dump()
                writer.writerow([csv_cell(values.get(column)) for column in EXPORT_COLUMNS])
        return job, out.getvalue()
