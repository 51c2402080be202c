"""Exports as the API, the web UI and the export worker use them.

:meth:`ExportService.create` checks the request (an account export is for admins; a filter is
checked as a list's is; a pool must exist), stores the export and queues it on the export queue.
The worker calls :meth:`ExportService.run`, which claims the export, pages through the selection
and writes ONE ZIP to S3 through a multipart upload: the rows of each file are spooled to temporary
files (on disk once they outgrow a megabyte), then each file, and each resume, is streamed into the
ZIP, whose bytes leave in parts as they fill. Nothing holds the whole export in memory. A done
export is never redone; a redelivered message for a running one waits for its worker's lease.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from crm.candidates.models import Candidate, CandidateFilter, application_id
from crm.candidates.service import CandidateService, check_filter
from crm.events.service import EventService
from crm.exports.models import (
    ACCOUNT_FILES,
    FILES,
    LINK_SECONDS,
    Export,
    ExportCounts,
    ExportCreate,
    ExportLink,
    ExportRequest,
)
from crm.exports.repository import ExportRepository
from crm.hiring.service import HiringService
from crm.jobs.service import JobService
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from crm.platform.ids import iso
from crm.platform.objects import ObjectStore
from crm.platform.queues import send_message
from crm.platform.spreadsheet import safe_cell
from crm.pools.service import PoolService

log = logging.getLogger(__name__)

#: People read per page of the selection.
PAGE_SIZE = 100
#: How long a worker holds an export it runs (above the function's timeout).
LEASE = timedelta(minutes=16)
#: Rows spooled in memory up to this size per file, on disk beyond it.
SPOOL_BYTES = 1024 * 1024
#: How much is copied at a time into the ZIP.
CHUNK = 256 * 1024

#: The columns of each CSV file (JSON Lines carry the same fields, nested values kept nested).
COLUMNS: dict[str, tuple[str, ...]] = {
    "candidates": (
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "location",
        "linkedin_url",
        "tags",
        "source",
        "sources",
        "pools",
        "marketing_consent",
        "first_touch",
        "last_touch",
        "created_at",
        "updated_at",
    ),
    "applications": (
        "id",
        "candidate_id",
        "job_id",
        "stage",
        "source",
        "applied_at",
        "last_applied_at",
        "stage_entered_at",
        "reason",
        "moved_by",
        "feedback_count",
        "utm",
        "resume_attached",
    ),
    "notes": ("id", "candidate_id", "author", "created_at", "body"),
    "feedback": (
        "id",
        "candidate_id",
        "job_id",
        "application_id",
        "interview",
        "interview_id",
        "recommendation",
        "ratings",
        "notes",
        "author",
        "author_email",
        "submitted_at",
    ),
    "consents": ("candidate_id", "topic", "granted", "at", "source"),
    "jobs": (
        "id",
        "title",
        "department",
        "location",
        "tags",
        "status",
        "stages",
        "hiring_managers",
        "interviewers",
        "created_at",
        "updated_at",
    ),
    "events": (
        "id",
        "name",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "timezone",
        "mode",
        "venue",
        "join_url",
        "capacity",
        "tags",
        "organizer",
        "counts",
        "created_at",
        "published_at",
        "cancelled_at",
        "finished_at",
    ),
    "event_registrations": (
        "candidate_id",
        "event_id",
        "event_name",
        "event_starts_at",
        "state",
        "registered_at",
        "walk_in",
        "checked_in_at",
        "cancelled_at",
    ),
}


class ExportBusy(RuntimeError):
    """Another worker holds the export (its message comes back later)."""


def _flat(value: Any) -> Any:
    """A nested value as one cell: ``key=value; ...`` for a mapping."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={_flat(v)}" for k, v in value.items() if v is not None)
    return value


def csv_row(columns: tuple[str, ...], row: dict[str, Any]) -> list[str]:
    return [safe_cell(_flat(row.get(c))) for c in columns]


@dataclass
class _Spool:
    """One file of the export being gathered: its rows, on disk once large."""

    name: str
    format: str
    file: IO[bytes]
    rows: int = 0

    def __post_init__(self) -> None:
        if self.format == "csv":
            self._line(csv_line([safe_cell(c) for c in COLUMNS[self.name]]))

    def _line(self, text: str) -> None:
        self.file.write(text.encode("utf-8"))

    def add(self, row: dict[str, Any]) -> None:
        self.rows += 1
        if self.format == "csv":
            self._line(csv_line(csv_row(COLUMNS[self.name], row)))
        else:
            self._line(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def csv_line(cells: list[str]) -> str:
    """One CSV record (RFC 4180: quoted where needed, CRLF), as ``crm.platform.spreadsheet`` writes."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


class ExportService:
    def __init__(
        self,
        repository: ExportRepository | None = None,
        candidates: CandidateService | None = None,
        objects: ObjectStore | None = None,
    ) -> None:
        self.repository = repository or ExportRepository()
        self.candidates = candidates or CandidateService()
        self._objects = objects

    @property
    def objects(self) -> ObjectStore:
        if self._objects is None:
            self._objects = ObjectStore(get_settings().resume_bucket)
        return self._objects

    # ------------------------------------------------------------------ asking for one

    def create(self, data: ExportCreate, *, actor: str, admin: bool) -> Export:
        """Check the request (403 for an account export by anyone but an admin; 422 naming the
        field), store the export and queue it."""
        if data.scope == "account" and not admin:
            raise Forbidden("Only an admin may export the whole account.")
        if data.filter is not None:
            check_filter(_filter(data))
        if data.pool_id is not None:
            try:
                PoolService().get(data.pool_id)
            except NotFound:
                raise ValidationFailed(
                    "The export refers to a pool that does not exist.",
                    errors=[{"field": "pool_id", "message": f"no pool with id {data.pool_id}"}],
                ) from None
        if data.candidate_ids is not None:
            data = data.model_copy(update={"candidate_ids": list(dict.fromkeys(data.candidate_ids))})
        export = self.repository.create(data, actor=actor, now=clock.now())
        message = ExportRequest(export_id=export.id).model_dump_json()
        send_message(get_settings().export_queue_url, message)
        log.info("export queued", extra={"export_id": export.id, "scope": export.scope})
        return export

    def get(self, export_id: str, *, actor: str, admin: bool) -> Export:
        """One export. A list's export is the team's, as the list is (anyone who may export
        opens it by its id); the whole account's only its admin's and other admins' (else 404)."""
        export = self.repository.get(export_id)
        if export.scope == "account" and not admin and export.actor != actor:
            raise NotFound(f"No export with id {export_id}.")
        return export

    def list_page(
        self, *, actor: str, admin: bool, limit: int, cursor: str | None
    ) -> tuple[list[Export], str | None]:
        return self.repository.list_page(actor=None if admin else actor, limit=limit, cursor=cursor)

    def link(self, export_id: str, *, actor: str, admin: bool) -> tuple[Export, ExportLink]:
        """A presigned link to the ZIP that works for :data:`LINK_SECONDS` (409 until it is done)."""
        export = self.get(export_id, actor=actor, admin=admin)
        if export.status != "done":
            raise Conflict(f"The export is {export.status}; it can be downloaded once it is done.")
        key = self.repository.object_key(export_id)
        url = self.objects.download_url(key, expires_in=LINK_SECONDS)
        expires = iso(clock.now() + timedelta(seconds=LINK_SECONDS))
        return export, ExportLink(url=url, expires_at=expires, expires_in=LINK_SECONDS)

    # ------------------------------------------------------------------ carrying it out

    def run(self, export_id: str, *, last_attempt: bool = False) -> bool:
        """Build the export's ZIP; True when this call did. A missing (expired), done or failed
        export is left alone; one that another worker holds raises :class:`ExportBusy`. On the
        last attempt a failure marks it failed."""
        try:
            export = self.repository.get(export_id, as_stored=True)
        except NotFound:
            log.warning("export %s does not exist (expired?)", export_id)
            return False
        if export.status in ("done", "failed"):
            return False
        if not self.repository.claim(export_id, now=clock.now(), lease=LEASE):
            current = self.repository.get(export_id, as_stored=True)
            if current.status in ("done", "failed"):
                return False
            raise ExportBusy(f"export {export_id} is being built by another worker")
        try:
            counts, size = self._build(export)
        except Exception as exc:
            if last_attempt:
                self.repository.fail(export_id, error=type(exc).__name__, now=clock.now())
            raise
        self.repository.finish(export_id, counts=counts, size=size, now=clock.now())
        log.info("export done", extra={"export_id": export_id, "bytes": size, **counts.model_dump()})
        return True

    def _build(self, export: Export) -> tuple[ExportCounts, int]:
        key = self.repository.object_key(export.id)
        writer = self.objects.multipart(key, content_type="application/zip", filename=export.file_name)
        try:
            counts = self._write(export, writer)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        return counts, writer.size

    def _write(self, export: Export, out: Any) -> ExportCounts:
        """``out``: a write-only binary file (the multipart upload)."""
        counts = ExportCounts()
        with contextlib.ExitStack() as files:

            def spooled() -> IO[bytes]:
                return files.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))

            names = FILES + (ACCOUNT_FILES if export.scope == "account" else ())
            spools = {name: _Spool(name, export.format, spooled()) for name in names}
            resumes = spooled()
            hiring = HiringService(candidates=self.candidates)
            events = EventService(candidates=self.candidates)
            if export.scope == "account":
                self._account(spools, events)
            for people in self._selection(export):
                for person in people:
                    counts.resumes += self._gather(person, spools, resumes, hiring, events, export)
            for name, spool in spools.items():
                setattr(counts, name, spool.rows)
            self._zip(export, counts, spools, resumes, out)
        return counts

    def _zip(
        self,
        export: Export,
        counts: ExportCounts,
        spools: dict[str, _Spool],
        resumes: IO[bytes],
        out: Any,
    ) -> None:
        """Stream each spooled file, then each resume, into the ZIP (written to ``out`` as it goes)."""
        extension = "csv" if export.format == "csv" else "jsonl"
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", json.dumps(self._manifest(export, counts), indent=2))
            for name, spool in spools.items():
                spool.file.seek(0)
                with archive.open(f"{name}.{extension}", "w", force_zip64=True) as entry:
                    shutil.copyfileobj(spool.file, entry, CHUNK)
            resumes.seek(0)
            for line in resumes:
                candidate_id, resume_key, file_name = line.decode().rstrip("\n").split("\t")
                chunks = self.objects.chunks(resume_key, size=CHUNK)
                if chunks is None:
                    continue
                with archive.open(f"resumes/{candidate_id}/{file_name}", "w", force_zip64=True) as entry:
                    for chunk in chunks:
                        entry.write(chunk)

    @staticmethod
    def _account(spools: dict[str, _Spool], events: EventService) -> None:
        """The account's jobs and events, page by page."""
        cursor: str | None = None
        while True:
            jobs, cursor = JobService().list_page(status=None, limit=PAGE_SIZE, cursor=cursor)
            for job in jobs:
                row = job.model_dump(mode="json")
                row["stages"] = [stage.key for stage in job.stages]
                spools["jobs"].add(row)
            if not cursor:
                break
        while True:
            found, cursor = events.list_page(status=None, limit=PAGE_SIZE, cursor=cursor)
            for event in found:
                spools["events"].add(event.model_dump(mode="json"))
            if not cursor:
                break

    @staticmethod
    def _manifest(export: Export, counts: ExportCounts) -> dict[str, Any]:
        return {
            "export_id": export.id,
            "scope": export.scope,
            "format": export.format,
            "created_at": export.created_at,
            "files": [
                f"{name}.{'csv' if export.format == 'csv' else 'jsonl'}"
                for name in FILES + (ACCOUNT_FILES if export.scope == "account" else ())
            ],
            "counts": counts.model_dump(),
            "note": "CSV cells that a spreadsheet would run as a formula start with a ' (OWASP).",
        }

    def _selection(self, export: Export) -> Iterator[list[Candidate]]:
        """The people of the export, a page at a time, each once."""
        if export.candidate_ids is not None:
            ids = export.candidate_ids
            for start in range(0, len(ids), PAGE_SIZE):
                found = self.candidates.get_many(ids[start : start + PAGE_SIZE])
                yield [found[c] for c in ids[start : start + PAGE_SIZE] if c in found]
            return
        if export.scope == "account":
            flt = CandidateFilter()
        elif export.pool_id is not None:
            flt = CandidateFilter(pool=export.pool_id)
        else:
            flt = _filter(export)
        seen: set[str] = set()  # a text search may list a person once per matching word
        cursor: str | None = None
        while True:
            page, cursor = self.candidates.list_page(flt, limit=PAGE_SIZE, cursor=cursor)
            ids = [p.id for p in page if p.id not in seen]
            if flt.q:
                seen.update(ids)
            found = self.candidates.get_many(ids) if ids else {}
            yield [found[c] for c in ids if c in found]
            if not cursor:
                return

    def _gather(
        self,
        person: Candidate,
        spools: dict[str, _Spool],
        resumes: IO[bytes],
        hiring: HiringService,
        events: EventService,
        export: Export,
    ) -> int:
        """Spool one person's rows; the resumes listed for the ZIP."""
        profile = person.model_dump(mode="json", exclude={"consents", "version"})
        marketing = person.consents.get("marketing")
        profile["marketing_consent"] = None if marketing is None else marketing.granted
        spools["candidates"].add(profile)
        for topic, consent in person.consents.items():
            spools["consents"].add(
                {"candidate_id": person.id, **consent.model_dump(mode="json"), "topic": topic}
            )
        applications = self.candidates.applications(person.id)
        for application in applications:
            row = application.model_dump(mode="json", exclude={"history", "version", "resume_key"})
            row["id"] = application_id(person.id, application.job_id)
            row["resume_attached"] = bool(application.resume_key)
            spools["applications"].add(row)
            for feedback in hiring.feedback.of_application(person.id, application.job_id):
                spools["feedback"].add(feedback.model_dump(mode="json"))
        cursor: str | None = None
        while True:
            notes, cursor = self.candidates.notes(person.id, limit=100, cursor=cursor)
            for note in notes:
                spools["notes"].add(note.model_dump(mode="json"))
            if not cursor:
                break
        for registration, event in events.registrations_of_person(person.id):
            spools["event_registrations"].add(
                {
                    "candidate_id": person.id,
                    "event_id": registration.event_id,
                    "event_name": event.name if event else None,
                    "event_starts_at": event.starts_at if event else None,
                    "state": registration.state,
                    "registered_at": registration.registered_at,
                    "walk_in": registration.walk_in,
                    "checked_in_at": registration.checked_in_at,
                    "cancelled_at": registration.cancelled_at,
                }
            )
        if not export.include_resumes:
            return 0
        listed = 0
        names: set[str] = set()
        keys: set[str] = set()
        stored = self.candidates.repository.resumes(person.id)
        found = [(r.resume_key, r.file_name) for r in stored]
        found += [(a.resume_key, f"application-{a.job_id}") for a in applications if a.resume_key]
        for key, file_name in found:
            if key in keys:
                continue
            keys.add(key)
            name = _safe_name(file_name, key, names)
            resumes.write(f"{person.id}\t{key}\t{name}\n".encode())
            listed += 1
        return listed


def _safe_name(file_name: str, key: str, taken: set[str]) -> str:
    """A file name for the ZIP: no path, no tab or newline, the key's extension, unique per person."""
    base = (
        "".join(ch for ch in file_name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()) or "resume"
    )
    base = base.replace("\t", " ")[:120]
    extension = key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else ""
    if extension and not base.lower().endswith(f".{extension.lower()}"):
        base = f"{base}.{extension}"
    name, number = base, 1
    while name in taken:
        number += 1
        stem, dot, ext = base.rpartition(".")
        name = f"{stem}-{number}.{ext}" if dot else f"{base}-{number}"
    taken.add(name)
    return name


def _filter(export: ExportCreate | Export) -> CandidateFilter:
    values = export.filter.model_dump(exclude_none=True) if export.filter else {}
    return CandidateFilter.model_validate(values)
