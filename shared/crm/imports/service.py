"""CSV import of candidates: announce a file, preview it with guessed columns, start it, and the
worker that reads it in chunks through the one intake the career site uses.

Rules:
- One person per email: each row goes through :meth:`CandidateService.intake` (create, or merge
  into the person with that email). A merge only fills blank fields and adds tags, the source and
  the pool: nothing a recruiter entered is overwritten.
- Tags, a pool and a source apply to the whole file; a marketing consent is recorded only when a
  column says yes and another gives its date, and only for a person with no decision recorded.
- The file is streamed (never held whole): a chunk of rows is imported, then the checkpoint (the
  byte offset after its last row, the counts, its failed rows) is committed in one conditional
  update. A worker that crashes is retried from the last checkpoint; one about to run out of time
  queues its own continuation. Rows are idempotent (a repeated row is a merge).
- A row that cannot be imported (a broken email, no name) is kept with its reason, and the rest
  go on. A file that is not UTF-8 or has no email column fails as a whole, with a reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import ValidationError

from crm.candidates.models import PublicSubmission
from crm.candidates.service import CandidateService
from crm.imports.models import (
    FailedRow,
    ImportCounts,
    ImportCreate,
    ImportCreated,
    ImportPreview,
    ImportRun,
    ImportStart,
    ImportView,
    Upload,
)
from crm.imports.repository import ImportFiles, ImportRepository
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, DomainError, NotFound, ValidationFailed
from crm.platform.forms import Upload as FileUpload
from crm.platform.ids import iso, new_id
from crm.platform.queues import send_message
from crm.platform.spreadsheet import csv_lines
from crm.pools.service import STAGES, PoolService

log = logging.getLogger("crm.imports")

#: Rows imported between two checkpoints.
CHUNK_ROWS = 200
#: Stop and queue a continuation when less than this is left of the invocation.
SAFETY_MARGIN_MS = 20_000
#: How much of the file a preview reads.
PREVIEW_BYTES = 64 * 1024
PREVIEW_ROWS = 5
#: A line longer than this ends the import (no row needs it; it would have to be held whole).
MAX_LINE_BYTES = 1024 * 1024
#: Cells longer than this are cut (a field no candidate attribute needs).
MAX_CELL = 2000
BOM = codecs.BOM_UTF8
NOT_UTF8 = "The file is not UTF-8 text. Save it from the spreadsheet as 'CSV UTF-8' and upload it again."
NO_EMAIL = "No column holds the email address: map one column to email."

#: Column names (lower case, letters and digits only) and the field each most likely holds.
GUESSES: dict[str, str] = {
    **dict.fromkeys(
        ("email", "emailaddress", "mail", "e-mail", "emailid", "workemail", "personalemail", "courriel"),
        "email",
    ),
    **dict.fromkeys(("firstname", "givenname", "forename", "first", "prenom", "vorname"), "first_name"),
    **dict.fromkeys(("lastname", "surname", "familyname", "last", "nom", "nachname"), "last_name"),
    **dict.fromkeys(("name", "fullname", "candidatename", "candidate", "displayname"), "full_name"),
    **dict.fromkeys(
        ("phone", "phonenumber", "mobile", "mobilephone", "cell", "cellphone", "telephone", "tel"), "phone"
    ),
    **dict.fromkeys(
        ("linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl", "profileurl"), "linkedin_url"
    ),
    **dict.fromkeys(("location", "city", "town", "address", "country", "region", "place"), "location"),
    **dict.fromkeys(("tags", "tag", "skills", "labels", "keywords"), "tags"),
    **dict.fromkeys(
        ("marketingconsent", "consent", "optin", "gdprconsent", "newsletter", "emailconsent"),
        "marketing_consent",
    ),
    **dict.fromkeys(
        ("consentdate", "consentedat", "optindate", "consentgiven", "gdprconsentdate"), "consent_date"
    ),
    **dict.fromkeys(("resume", "cv", "resumefile", "cvfile", "resumefilename", "attachment"), "resume"),
}
YES = {"yes", "y", "true", "1", "x", "granted", "opted in", "opt-in", "ja", "oui", "si"}
NO = {"no", "n", "false", "0", "", "denied", "opted out", "opt-out", "nein", "non"}


def _normal(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.casefold())


def guess_field(column: str) -> str:
    key = _normal(column)
    if key in GUESSES:
        return GUESSES[key]
    if "email" in key or "mail" in key:
        return "email"
    if "linkedin" in key:
        return "linkedin_url"
    if "phone" in key or "mobile" in key:
        return "phone"
    return "ignore"


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Each column's likely field; a field goes to its first column only (tags to every one)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        guess = guess_field(column)
        if guess in taken and guess not in ("tags", "ignore"):
            guess = "ignore"
        taken.add(guess)
        mapping[column] = guess
    if "first_name" in taken and "last_name" in taken:
        mapping = {c: ("ignore" if f == "full_name" else f) for c, f in mapping.items()}
    return mapping


def header_names(cells: list[str]) -> list[str]:
    """The header's column names, trimmed, each unique (a repeated name gets `` (2)``)."""
    names: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip() or f"column {index + 1}"
        base, number = name, 2
        while name in names:
            name, number = f"{base} ({number})", number + 1
        names.append(name)
    return names


# ---------------------------------------------------------------------------------- reading


class Records:
    """CSV records from a stream of byte blocks that starts at byte ``offset`` of the file.
    ``offset`` is, after each record, the byte just past it: where a resumed read starts. A line that
    is not UTF-8 marks its record (``bad``) and is read with replacement characters."""

    def __init__(self, blocks: Iterator[bytes], offset: int) -> None:
        self.offset = offset
        self._consumed = offset
        self._bad = False
        self.bad = False
        self._reader = csv.reader(self._lines(blocks))

    def _lines(self, blocks: Iterator[bytes]) -> Iterator[str]:
        pending = b""
        for block in blocks:
            pending = pending + block if pending else block
            start = 0
            while (end := pending.find(b"\n", start)) >= 0:
                yield self._decode(pending[start : end + 1])
                start = end + 1
            pending = pending[start:]
            if len(pending) > MAX_LINE_BYTES:
                raise csv.Error(f"a line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
        if pending:
            yield self._decode(pending)

    def _decode(self, line: bytes) -> str:
        if self._consumed == 0 and line.startswith(BOM):
            self._consumed += len(BOM)
            line = line[len(BOM) :]
        self._consumed += len(line)
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self._bad = True
            return line.decode("utf-8", "replace")

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> list[str]:
        row = next(self._reader)
        self.offset = self._consumed
        self.bad, self._bad = self._bad, False
        return row


def _head_text(data: bytes, *, whole: bool) -> str | None:
    """The first bytes of a file as text (cut after its last complete line unless ``whole``);
    None when they are not UTF-8."""
    if not whole and b"\n" in data:
        data = data[: data.rfind(b"\n") + 1]
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def preview_of(data: bytes, *, whole: bool) -> ImportPreview:
    text = _head_text(data, whole=whole)
    if text is None:
        return ImportPreview(columns=[], mapping={}, rows=[], problems=[NOT_UTF8])
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return ImportPreview(columns=[], mapping={}, rows=[], problems=[f"The file is not CSV: {exc}"])
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return ImportPreview(columns=[], mapping={}, rows=[], problems=["The file is empty."])
    columns = header_names(rows[0][:200])
    mapping = guess_mapping(columns)
    problems = []
    if "email" not in mapping.values():
        problems.append(NO_EMAIL)
    if len(rows) == 1:
        problems.append("The file has a header row and no rows.")
    return ImportPreview(
        columns=columns,
        mapping=mapping,
        rows=[[c[:200] for c in r[: len(columns)]] for r in rows[1 : PREVIEW_ROWS + 1]],
        problems=problems,
    )


# ---------------------------------------------------------------------------------- rows


class RowProblem(Exception):
    """Why one row is not imported."""


def _consent_at(value: str) -> str:
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError as exc:
        raise RowProblem("consent_date: give a date such as 2024-05-31") from exc
    if moment > clock.now():
        raise RowProblem("consent_date: is in the future")
    return iso(moment)


def _reasons(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error.get("loc", ()) if not isinstance(p, int)) or "row"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


@dataclass
class Row:
    submission: PublicSubmission
    consent_at: str | None = None
    resume: str | None = None


def parse_row(
    cells: list[str], columns: list[str], mapping: Mapping[str, str], tags: list[str]
) -> Row | None:
    """The row as a submission, None for an empty row; ``RowProblem`` says why it cannot be."""
    values: dict[str, Any] = {}
    row_tags: list[str] = list(tags)
    for column, cell in zip(columns, cells, strict=False):
        target = mapping.get(column, "ignore")
        text = cell.strip()[:MAX_CELL]
        if target == "ignore" or not text:
            continue
        if target == "tags":
            row_tags.extend(t for t in re.split(r"[;,|]", text) if t.strip())
        else:
            values[target] = text
    if not values and not any(c.strip() for c in cells):
        return None
    full = values.pop("full_name", None)
    if full and not (values.get("first_name") and values.get("last_name")):
        first, _, last = full.rpartition(" ") if " " in full else ("", "", full)
        values.setdefault("first_name", first or last)
        values.setdefault("last_name", last)
    consent_text = str(values.pop("marketing_consent", "")).casefold()
    consent_date = values.pop("consent_date", None)
    resume = values.pop("resume", None)
    if not values.get("email"):
        raise RowProblem("email: missing")
    consent_at = None
    if consent_text in YES:
        if not consent_date:
            raise RowProblem("marketing_consent: a yes needs its date in the consent date column")
        consent_at = _consent_at(consent_date)
    elif consent_text not in NO:
        raise RowProblem("marketing_consent: use yes or no")
    values["tags"] = list(dict.fromkeys(t.strip().casefold() for t in row_tags))
    try:
        submission = PublicSubmission.model_validate(values)
    except ValidationError as exc:
        raise RowProblem(_reasons(exc)) from exc
    return Row(submission=submission, consent_at=consent_at, resume=resume)


# ---------------------------------------------------------------------------------- the service


@dataclass
class ChunkResult:
    counts: ImportCounts = field(default_factory=ImportCounts)
    failed: list[FailedRow] = field(default_factory=list)


Progress = Callable[[ImportRun], None]


class ImportService:
    """``candidates``/``pools``: the intake and the pool check; ``files``: the uploaded files;
    ``enqueue``: what puts a run on the import queue (the worker's message)."""

    def __init__(
        self,
        repository: ImportRepository | None = None,
        *,
        files: ImportFiles | None = None,
        candidates: CandidateService | None = None,
        pools: PoolService | None = None,
        enqueue: Callable[[str], None] | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.repository = repository or ImportRepository()
        self._files = files
        self.candidates = candidates or CandidateService()
        self._pools = pools
        self.enqueue = enqueue or queue_run
        self.chunk_rows = chunk_rows

    @property
    def files(self) -> ImportFiles:
        if self._files is None:
            self._files = ImportFiles()
        return self._files

    @property
    def pools(self) -> PoolService:
        if self._pools is None:
            self._pools = PoolService(candidates=self.candidates)
        return self._pools

    # ------------------------------------------------------------------ the API's steps

    def create(self, data: ImportCreate, *, actor: str) -> ImportCreated:
        now = iso(clock.now())
        run = ImportRun(
            id=new_id(),
            status="created",
            created_by=actor,
            created_at=now,
            updated_at=now,
            file_name=data.file_name,
            with_resumes=data.with_resumes,
        )
        self.repository.insert(run)
        limit = get_settings().max_import_bytes
        upload = Upload(**self.files.upload_form(self.files.source_key(run.id), max_bytes=limit))
        resumes = (
            Upload(**self.files.upload_form(self.files.resumes_key(run.id), max_bytes=limit))
            if data.with_resumes
            else None
        )
        return ImportCreated(id=run.id, upload=upload, resumes_upload=resumes, import_=view(run))

    def get(self, import_id: str) -> ImportView:
        return view(self.repository.get(import_id))

    def recent(self, limit: int = 20) -> list[ImportView]:
        return [view(r) for r in self.repository.recent(limit)]

    def upload_forms(self, import_id: str) -> tuple[Upload, Upload | None]:
        """Freshly signed upload forms of an import's CSV (and resume ZIP)."""
        run = self.repository.get(import_id)
        limit = get_settings().max_import_bytes
        upload = Upload(**self.files.upload_form(self.files.source_key(run.id), max_bytes=limit))
        resumes = (
            Upload(**self.files.upload_form(self.files.resumes_key(run.id), max_bytes=limit))
            if run.with_resumes
            else None
        )
        return upload, resumes

    def uploaded(self, import_id: str) -> tuple[bool, bool]:
        """Whether the CSV, and the resume ZIP, are uploaded."""
        return (
            self.files.size(self.files.source_key(import_id)) is not None,
            self.files.size(self.files.resumes_key(import_id)) is not None,
        )

    def _uploaded_size(self, import_id: str) -> int:
        size = self.files.size(self.files.source_key(import_id))
        if size is None:
            raise ValidationFailed(
                "The file has not been uploaded yet.",
                errors=[{"field": "file", "message": "upload the CSV to the import's upload URL first"}],
            )
        limit = get_settings().max_import_bytes
        if size > limit:
            raise ValidationFailed(
                "The file is too large.",
                errors=[{"field": "file", "message": f"must be at most {limit // (1024 * 1024)} MB"}],
            )
        return size

    def preview(self, import_id: str) -> ImportPreview:
        self.repository.get(import_id)
        size = self._uploaded_size(import_id)
        head = self.files.head(self.files.source_key(import_id), PREVIEW_BYTES)
        return preview_of(head, whole=size <= PREVIEW_BYTES)

    def start(self, import_id: str, data: ImportStart, *, actor: str) -> ImportView:
        """Check the settings against the file's header, then queue the run. A file that is not
        UTF-8 fails the run (its status says why) and is a 422, as a mapping without email is."""
        run = self.repository.get(import_id)
        if run.status != "created":
            raise Conflict("This import was started already.")
        preview = self.preview(import_id)
        if NOT_UTF8 in preview.problems or not preview.columns:
            reason = preview.problems[0] if preview.problems else "The file is empty."
            self.repository.fail(import_id, reason, now=iso(clock.now()))
            raise ValidationFailed(reason, errors=[{"field": "file", "message": reason}])
        mapping = dict(data.mapping) if data.mapping is not None else dict(preview.mapping)
        if data.mapping is None and not run.with_resumes:
            mapping = {c: ("ignore" if f == "resume" else f) for c, f in mapping.items()}
        unknown = sorted(set(mapping) - set(preview.columns))
        if unknown:
            raise ValidationFailed(
                "The mapping names columns the file does not have.",
                errors=[{"field": "mapping", "message": f"no such column: {', '.join(unknown)}"}],
            )
        if "email" not in mapping.values():
            raise ValidationFailed(NO_EMAIL, errors=[{"field": "mapping", "message": NO_EMAIL}])
        if "resume" in mapping.values() and (
            not run.with_resumes or self.files.size(self.files.resumes_key(import_id)) is None
        ):
            raise ValidationFailed(
                "A column names resumes, but no resume ZIP was uploaded.",
                errors=[{"field": "mapping", "message": "upload the resume ZIP, or ignore that column"}],
            )
        if data.pool_id:
            try:
                self.pools.open_pool(data.pool_id)
            except (NotFound, Conflict) as exc:
                raise ValidationFailed(
                    "Candidates cannot be added to this pool.",
                    errors=[{"field": "pool_id", "message": "no such pool, or it is archived"}],
                ) from exc
        run = run.model_copy(
            update={
                "mapping": mapping,
                "tags": data.tags,
                "pool_id": data.pool_id,
                "source": data.source,
                "dry_run": data.dry_run,
                "columns": preview.columns,
                "bytes_total": self._uploaded_size(import_id),
            }
        )
        self.repository.start(run, now=iso(clock.now()))
        self.enqueue(import_id)
        return self.get(import_id)

    def failed_rows_csv(self, import_id: str) -> Iterator[str]:
        run = self.repository.get(import_id)
        header = [*run.columns, "reason"] if run.columns else ["row", "reason"]
        rows = (
            [*f.values, *([""] * (len(run.columns) - len(f.values))), f.reason]
            if run.columns
            else [f.row, f.reason]
            for f in self.repository.failed_rows(import_id)
        )
        return csv_lines(header, rows)

    # ------------------------------------------------------------------ the worker

    def run(
        self,
        import_id: str,
        *,
        remaining_ms: Callable[[], int] | None = None,
        on_progress: Progress | None = None,
    ) -> ImportRun | None:
        """Import from the checkpoint on, chunk by chunk, until the file ends (``done``), the time
        runs short (a continuation is queued) or another worker has moved the checkpoint."""
        try:
            run = self.repository.get(import_id)
        except NotFound:
            log.warning("import %s does not exist", import_id)
            return None
        if run.status not in ("queued", "running"):
            return run
        self.repository.mark_running(import_id, now=iso(clock.now()))
        records = self._open(run)
        if isinstance(records, str):
            self.repository.fail(import_id, records, now=iso(clock.now()))
            return self.repository.get(import_id)
        resumes = self._resumes(run)
        chunk, row_number = run.chunks, run.counts.rows
        while True:
            if remaining_ms is not None and remaining_ms() < SAFETY_MARGIN_MS:
                self.enqueue(import_id)
                return run
            try:
                result, done = self._chunk(run, records, row_number, resumes)
            except csv.Error as exc:
                reason = f"Row {row_number + 1} is not valid CSV ({exc}); the rows before it were imported."
                self.repository.fail(import_id, reason, now=iso(clock.now()))
                return self.repository.get(import_id)
            committed = self.repository.commit_chunk(
                import_id,
                chunk=chunk,
                bytes_done=records.offset,
                counts=result.counts,
                failed=result.failed,
                now=iso(clock.now()),
                done=done,
            )
            if not committed:
                log.info("import %s: chunk %s was committed by another worker", import_id, chunk)
                return self.repository.get(import_id)
            chunk += 1
            row_number += result.counts.rows
            run = self.repository.get(import_id)
            if on_progress is not None:
                on_progress(run)
            if done:
                return run

    def _open(self, run: ImportRun) -> Records | str:
        """The file's records from the checkpoint on (past the header); or why there are none."""
        key = self.files.source_key(run.id)
        if self.files.size(key) is None:
            return "The uploaded file is gone."
        records = Records(self.files.blocks(key, start=run.bytes_done), run.bytes_done)
        if run.bytes_done == 0:
            try:
                next(records)
            except StopIteration:
                return "The file is empty."
            if records.bad:
                return NOT_UTF8
        return records

    def _resumes(self, run: ImportRun) -> zipfile.ZipFile | None:
        if "resume" not in run.mapping.values() or run.dry_run:
            return None
        key = self.files.resumes_key(run.id)
        size = self.files.size(key)
        if size is None:
            return None
        try:
            return zipfile.ZipFile(io.BufferedReader(self.files.seekable(key, size), 256 * 1024))
        except zipfile.BadZipFile:
            log.warning("import %s: the resume file is not a ZIP", run.id)
            return None

    def _chunk(
        self, run: ImportRun, records: Records, row_number: int, resumes: zipfile.ZipFile | None
    ) -> tuple[ChunkResult, bool]:
        result = ChunkResult()
        for _ in range(self.chunk_rows):
            try:
                cells = next(records)
            except StopIteration:
                return result, True
            row_number += 1
            result.counts.rows += 1
            self._row(run, cells, records.bad, row_number, result, resumes)
        return result, False

    def _row(
        self,
        run: ImportRun,
        cells: list[str],
        bad_encoding: bool,
        number: int,
        result: ChunkResult,
        resumes: zipfile.ZipFile | None,
    ) -> None:
        counts = result.counts
        kept = [c[:MAX_CELL] for c in cells[: len(run.columns) + 1]]
        try:
            if bad_encoding:
                raise RowProblem("the row is not UTF-8 text")
            row = parse_row(cells, run.columns, run.mapping, run.tags)
            if row is None:
                counts.skipped += 1
                return
            if run.dry_run:
                known = self.candidates.find_id_by_email(row.submission.email)
                counts.merged += 1 if known else 0
                counts.created += 0 if known else 1
                return
            candidate_id, created = self.candidates.intake(
                row.submission, source=run.source, actor=run.created_by
            )
        except RowProblem as problem:
            counts.failed += 1
            result.failed.append(FailedRow(row=number, values=kept, reason=str(problem)))
            return
        except DomainError as error:
            counts.failed += 1
            result.failed.append(FailedRow(row=number, values=kept, reason=str(error.detail)))
            return
        counts.created += 1 if created else 0
        counts.merged += 0 if created else 1
        note = self._extras(run, candidate_id, row, resumes, counts)
        if note:
            result.failed.append(FailedRow(row=number, values=kept, reason=f"imported, but {note}"))

    def _extras(
        self,
        run: ImportRun,
        candidate_id: str,
        row: Row,
        resumes: zipfile.ZipFile | None,
        counts: ImportCounts,
    ) -> str | None:
        """The pool, the consent and the resume of an imported row; what went wrong, if anything."""
        actor = run.created_by
        if run.pool_id or row.consent_at:
            person = self.candidates.get(candidate_id)
            if run.pool_id and run.pool_id not in person.pools:
                self.candidates.set_pool_stage(candidate_id, run.pool_id, STAGES[0], actor=actor)
            if row.consent_at and "marketing" not in person.consents:
                at = row.consent_at
                CandidateService(self.candidates.repository, now=lambda: at).set_consent(
                    candidate_id, "marketing", True, source=run.source, actor=actor
                )
        if row.resume and resumes is not None:
            return self._attach(candidate_id, row.resume, resumes, actor, counts)
        if row.resume:
            return "no resume ZIP was uploaded"
        return None

    def _attach(
        self, candidate_id: str, name: str, resumes: zipfile.ZipFile, actor: str, counts: ImportCounts
    ) -> str | None:
        wanted = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
        member = next(
            (i for i in resumes.infolist() if i.filename.rsplit("/", 1)[-1].casefold() == wanted), None
        )
        if member is None or member.is_dir():
            return f"the resume {name} is not in the ZIP"
        if member.file_size > get_settings().max_resume_bytes:
            return f"the resume {name} is larger than {get_settings().max_resume_bytes // (1024 * 1024)} MB"
        data = resumes.read(member)
        try:
            self.candidates.upload_resume(
                candidate_id, FileUpload(filename=wanted, data=data), actor=actor, source="recruiter"
            )
        except DomainError as error:
            return f"the resume {name}: {error.detail}"
        counts.resumes += 1
        return None


def view(run: ImportRun) -> ImportView:
    return ImportView(**run.model_dump(), progress=run.percent)


def queue_run(import_id: str) -> None:
    """Put a run (or its continuation) on the import queue."""
    url = get_settings().import_queue_url
    if not url:
        raise RuntimeError("IMPORT_QUEUE_URL is not configured (see infra/template.yaml)")
    send_message(url, json.dumps({"import_id": import_id}))


def parse_message(body: str) -> str:
    """The import id of a queue message (a message that is not one is an error: it goes to the DLQ)."""
    data = json.loads(body)
    import_id = data.get("import_id") if isinstance(data, dict) else None
    if not isinstance(import_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", import_id):
        raise ValueError("not an import message")
    return import_id
