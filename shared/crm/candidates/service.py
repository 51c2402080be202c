"""A person's rules: career-site intake (and the merge policy for a known email), a recruiter's
changes, consent decisions, erasure; and what other slices (and the web layer) use of this slice.

The rules are plain functions of their input (:func:`merge_plan`, :func:`new_person`,
:func:`recruiter_consent`, ...), so they are unit-tested without a table; ``CandidateService``
applies them through its repository and ports, each a constructor argument with the real one as
its default.

Intake answers the same for a new and a known email, and for a honeypot hit, so the public
endpoints never reveal who is known. An ``Idempotency-Key`` makes a retried POST a no-op
(Powertools idempotency, persisted in the same table).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from crm.candidates.models import (
    FIRST_STAGE,
    Activity,
    Application,
    ApplicationFieldsPatch,
    Candidate,
    CandidateCreate,
    CandidateFilter,
    CandidatePatch,
    CandidateSummary,
    Consent,
    Interaction,
    InteractionCreate,
    MergePlan,
    Note,
    NoteCreate,
    PublicSubmission,
    Resume,
    ResumeSource,
    StoredResume,
    Topic,
    Touch,
    TouchForm,
)
from crm.candidates.repository import CandidateRepository, LostRace, ProjectionRepository
from crm.candidates.repository.candidates import Operations
from crm.candidates.repository.keys import EMAIL_GUARD, email_pk
from crm.candidates.repository.keys import is_derived_item as is_derived_item
from crm.candidates.resumes import CONTENT_TYPES, ResumeStore, validate_resume
from crm.custom_fields.service import CustomFields
from crm.jobs.service import JobService
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from crm.platform.forms import Upload, is_bot, parse_fields
from crm.platform.idempotency import persistence_layer
from crm.platform.ids import iso, new_id, utcnow

TALENT_NETWORK = "talent-network"
JOB_APPLICATION = "job-application"
#: How the timeline names a career-site form.
INTAKE_ACTOR = "career-site"
#: The fields a public form may fill on a known person (where the record has none).
FORM_FILLS = ("first_name", "last_name", "phone", "location", "linkedin_url")
#: The campaign fields of an application, kept with it when the form sends them.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "referral_code")
MAX_RACE_RETRIES = 10
#: How long a resume download link works.
RESUME_LINK_SECONDS = 300
#: Which form a record's source names, for its first and last touch.
FORM_OF_SOURCE: dict[str, TouchForm] = {
    TALENT_NETWORK: "signup",
    JOB_APPLICATION: "application",
    "job-alerts": "alert",
    "api": "api",
    "recruiter": "ui",
    "import": "import",
    "referral": "referral",
    "event": "event",
}
#: Where a resume sent with each form comes from.
RESUME_SOURCE_OF_FORM: dict[str, ResumeSource] = {
    TALENT_NETWORK: "signup",
    JOB_APPLICATION: "application",
    "referral": "referral",
}
#: How far in the future a logged call may be (clocks differ a little), and no more.
CLOCK_SKEW = timedelta(minutes=2)
#: A listed resume kept before resumes were listed: an application's (its id names the job).
LEGACY_RESUME_PREFIX = "app-"

#: ``more_operations(candidate_id, now)``: writes another slice adds to an intake's transaction.
MoreOperations = Callable[[str, str], Operations]


# ---------------------------------------------------------------------------------- the rules


def form_consents(marketing: bool | None, source: str, now: str) -> dict[str, Consent]:
    """The consents a new record starts with: the marketing decision, when one was given."""
    if marketing is None:
        return {}
    return {"marketing": Consent(topic="marketing", granted=marketing, at=now, source=source)}


def touch_of(
    fields: PublicSubmission | CandidateCreate,
    *,
    source: str,
    now: str,
    job_id: str | None = None,
    form: TouchForm | None = None,
) -> Touch:
    """The contact a form, an application or a creation is: its source, its campaign fields, which
    form (by default the one ``source`` names) and for which job."""
    return Touch(
        source=source,
        utm_source=fields.utm_source,
        utm_medium=fields.utm_medium,
        utm_campaign=fields.utm_campaign,
        referral_code=fields.referral_code,
        form=form or FORM_OF_SOURCE.get(source, "other"),
        job_id=job_id,
        at=now,
    )


def new_candidate(
    data: CandidateCreate, *, candidate_id: str, now: str, form: TouchForm | None = None
) -> Candidate:
    """A person a recruiter or an integration adds; an explicit marketing yes or no is recorded.
    The creation is their first (and last) touch."""
    touch = touch_of(data, source=data.source, now=now, form=form)
    return Candidate(
        id=candidate_id,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        phone=data.phone,
        location=data.location,
        linkedin_url=data.linkedin_url,
        tags=data.tags,
        source=data.source,
        sources=[data.source],
        consents=form_consents(data.marketing_consent, data.source, now),
        first_touch=touch,
        last_touch=touch,
        version=1,
        created_at=now,
        updated_at=now,
    )


def new_person(
    submission: PublicSubmission, *, candidate_id: str, source: str, now: str, job_id: str | None = None
) -> Candidate:
    """A person a public form adds. Only a ticked consent box is recorded: an unticked one is no
    decision at all. The form is their first and last touch."""
    touch = touch_of(submission, source=source, now=now, job_id=job_id)
    return Candidate(
        id=candidate_id,
        email=submission.email,
        first_name=submission.first_name,
        last_name=submission.last_name,
        phone=submission.phone,
        location=submission.location,
        linkedin_url=submission.linkedin_url,
        tags=submission.tags,
        source=source,
        sources=[source],
        consents=form_consents(submission.marketing_consent or None, source, now),
        first_touch=touch,
        last_touch=touch,
        version=1,
        created_at=now,
        updated_at=now,
    )


def merge_plan(
    submission: PublicSubmission, *, source: str, now: str, job_id: str | None = None
) -> MergePlan:
    """What a public form may change on a person already known by its email: it fills the
    person's empty fields among :data:`FORM_FILLS` (never overwriting one), adds its tags and its
    source, grants the marketing consent only when its box is ticked (an unticked box never
    withdraws one), and becomes the person's ``last_touch`` (``first_touch`` stays: a record kept
    before touches were has none, and a later form does not pretend to be the first). The email,
    names a recruiter typed, pools and other consents stay as they are."""
    fill = {name: value for name in FORM_FILLS if (value := getattr(submission, name))}
    detail: dict[str, Any] = {"source": source, "tags_added": submission.tags}
    consent = None
    if submission.marketing_consent:
        consent = Consent(topic="marketing", granted=True, at=now, source=source)
        detail["marketing_consent"] = True
    return MergePlan(
        fill=fill,
        tags=list(submission.tags),
        sources=[source],
        consent=consent,
        detail=detail,
        touch=touch_of(submission, source=source, now=now, job_id=job_id),
    )


def application_for(
    submission: PublicSubmission,
    *,
    candidate_id: str,
    job_id: str,
    source: str,
    resume_key: str | None,
    now: str,
    stage: str = FIRST_STAGE,
) -> Application:
    """The application a form to ``job_id`` records, with the campaign fields it sent, at the job's
    first stage (``stage``)."""
    utm = {name: value for name in UTM_FIELDS if (value := getattr(submission, name))}
    return Application(
        candidate_id=candidate_id,
        job_id=job_id,
        source=source,
        applied_at=now,
        resume_key=resume_key,
        utm=utm,
        stage=stage,
    )


def patch_changes(current: Candidate, patch: CandidatePatch) -> dict[str, Any]:
    """The fields a recruiter's patch really changes (``marketing_consent`` among them when sent)."""
    return {k: v for k, v in patch.changes().items() if getattr(current, k, None) != v}


def recruiter_consent(current: Candidate, wanted: bool | None, *, actor: str, now: str) -> Consent | None:
    """The marketing decision a recruiter's patch records: only a real change (``None``: none)."""
    if wanted is None:
        return None
    recorded = current.consents.get("marketing")
    if recorded is not None and recorded.granted == wanted:
        return None
    return Consent(topic="marketing", granted=wanted, at=now, source=f"recruiter:{actor}")


def consent_activity(granted: bool) -> str:
    """The timeline's name for a consent decision."""
    return "consent_given" if granted else "unsubscribed"


def resume_file_name(filename: str, kind: str) -> str:
    """The name a resume is listed under: the file's own name without any folder, printable
    characters only, at most 200 of them (``resume.<kind>`` when nothing is left)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:200]
    return name or f"resume.{kind}"


def listed_resumes(stored: Sequence[StoredResume], applications: Sequence[Application]) -> list[Resume]:
    """A person's resumes, newest first, the newest ``current``. An application's resume kept
    before resumes were listed (no resume item names it) is listed too, as of the application."""
    known = {r.resume_key for r in stored}
    everything = list(stored)
    for application in applications:
        key = application.resume_key
        if key and key not in known:
            kind = key.rpartition(".")[2].lower()
            everything.append(
                StoredResume(
                    id=f"{LEGACY_RESUME_PREFIX}{application.job_id}",
                    candidate_id=application.candidate_id,
                    resume_key=key,
                    file_name=f"resume.{kind}",
                    content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
                    source="application",
                    job_id=application.job_id,
                    uploaded_at=application.applied_at,
                )
            )
            known.add(key)
    everything.sort(key=lambda r: (r.uploaded_at, r.id), reverse=True)
    return [
        Resume.model_validate({**r.model_dump(exclude={"resume_key", "candidate_id"}), "current": i == 0})
        for i, r in enumerate(everything)
    ]


def interaction_time(happened_at: datetime | None, now: str) -> str:
    """When a logged call happened: ``now`` by default; a time in the future is a 422."""
    current = datetime.fromisoformat(now)
    if happened_at is None:
        return now
    if happened_at > current + CLOCK_SKEW:
        raise ValidationFailed(
            "A call or meeting cannot be logged before it happens.",
            errors=[{"field": "happened_at", "message": "must not be in the future"}],
        )
    return iso(happened_at)


@dataclass(frozen=True)
class ResumeFile:
    """What an intake keeps of a resume it stored (its key comes from ``resume_key_for``)."""

    file_name: str
    content_type: str
    size: int


def _fingerprint(submission: PublicSubmission, resume: Upload | None, job_id: str | None) -> str:
    payload = {
        "submission": submission.model_dump(mode="json"),
        "job_id": job_id,
        "resume": hashlib.sha256(resume.data).hexdigest() if resume else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------- ports


class Idempotency(Protocol):
    """Runs ``work`` once per ``request["key"]``: a repeat with the same ``fingerprint`` gets the
    first answer; another fingerprint is a ``ValidationFailed``, one still running a ``Conflict``."""

    def once(
        self, request: dict[str, str], work: Callable[[], dict[str, str]], *, lambda_context: Any = None
    ) -> dict[str, str]: ...


class PowertoolsIdempotency:
    """:class:`Idempotency` with Powertools' records in the stack's table, built on first use so
    that importing this module costs no AWS client."""

    def __init__(self) -> None:
        self._built: tuple[Any, Any] | None = None

    def _build(self) -> tuple[Any, Any]:
        if self._built is None:
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

            config = IdempotencyConfig(
                event_key_jmespath="key",
                payload_validation_jmespath="fingerprint",
                expires_after_seconds=get_settings().idempotency_ttl_seconds,
                raise_on_no_idempotency_key=True,
            )

            def run(request: dict[str, str], work: Callable[[], dict[str, str]]) -> dict[str, str]:
                return work()

            wrapped = idempotent_function(
                data_keyword_argument="request", persistence_store=persistence_layer(), config=config
            )(run)
            self._built = (wrapped, config)
        return self._built

    def once(
        self, request: dict[str, str], work: Callable[[], dict[str, str]], *, lambda_context: Any = None
    ) -> dict[str, str]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        wrapped, config = self._build()
        if lambda_context is not None:
            # An in-progress record then expires with the invocation, so a retry after a
            # timed-out attempt is not refused as "already in progress".
            config.register_lambda_context(lambda_context)
        try:
            result: dict[str, str] = wrapped(request=request, work=work)
        except IdempotencyValidationError as exc:
            raise ValidationFailed(
                "This Idempotency-Key was already used with a different body.",
                errors=[{"field": "Idempotency-Key", "message": "already used with a different body"}],
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict("A request with this Idempotency-Key is still being processed.") from exc
        return result


#: One per process, as Powertools' configuration is (it holds the invocation's context).
POWERTOOLS_IDEMPOTENCY = PowertoolsIdempotency()


# ---------------------------------------------------------------------------------- the service


def check_filter(flt: CandidateFilter) -> None:
    """422 naming each filter that the others make unanswerable: a stage needs its pool; a
    search is ranked by where it matched, so it takes no sort; a range must not end before it
    starts."""
    errors = []
    if flt.stage and not flt.pool:
        errors.append({"field": "stage", "message": "choose a pool to filter by its stage"})
    if flt.q and flt.sort:
        errors.append(
            {"field": "sort", "message": "search results are ranked by where they matched; remove q to sort"}
        )
    for start, end, field in (
        (flt.created_from, flt.created_to, "created_to"),
        (flt.active_from, flt.active_to, "active_to"),
    ):
        if start and end and end < start:
            errors.append({"field": field, "message": "must not be before the start of the range"})
    if errors:
        raise ValidationFailed("These filters cannot be combined.", errors=errors)


def with_custom_terms(flt: CandidateFilter) -> CandidateFilter:
    """``flt`` with the projection terms of its ``cf.<key>`` filters (422 naming a wrong one)."""
    if not flt.custom_fields:
        return flt
    terms = CustomFields().filter_terms("candidate", flt.custom_fields)
    return flt.model_copy(update={"cf_terms": terms})


class CandidateService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it.

    ``resumes``: where resumes are stored; ``jobs``: which jobs take applications; ``idempotency``:
    what makes a retried form a no-op; ``now`` and ``pause``: the clock and the back-off sleep of
    racing intakes.
    """

    def __init__(
        self,
        repository: CandidateRepository | None = None,
        *,
        resumes: ResumeStore | None = None,
        jobs: JobService | None = None,
        idempotency: Idempotency | None = None,
        now: Callable[[], str] = utcnow,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repository = repository if repository is not None else CandidateRepository()
        self._resumes = resumes
        self.jobs = jobs if jobs is not None else JobService()
        self.idempotency = idempotency if idempotency is not None else POWERTOOLS_IDEMPOTENCY
        self.now = now
        self.pause = pause

    @property
    def resumes_store(self) -> ResumeStore:
        """Built when first needed: most requests store no resume."""
        if self._resumes is None:
            self._resumes = ResumeStore()
        return self._resumes

    # ------------------------------------------------------------------ reads

    def get(self, candidate_id: str) -> Candidate:
        return self.repository.get(candidate_id)

    def get_many(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        return self.repository.get_many(candidate_ids)

    def find_id_by_email(self, email: str) -> str | None:
        return self.repository.find_id_by_email(email)

    # merges: possible duplicates, erasure records, and the keys a merge moves
    def possible_duplicates(self, candidate_id: str) -> list[tuple[CandidateSummary, str]]:
        """Other people who may be this one: ``(summary, reason)``, reason ``phone``,
        ``linkedin`` or ``nameplace`` (same name and location)."""
        return self.repository.possible_duplicates(self.repository.get(candidate_id))

    def was_erased(self, candidate_id: str) -> bool:
        return self.repository.was_erased(candidate_id)

    def list_page(
        self, flt: CandidateFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[CandidateSummary], str | None]:
        """One page of a list; a combination of filters it cannot answer exactly is a 422, and so is
        a ``cf.<key>`` filter of a field that is not filterable or a value it could not hold."""
        check_filter(flt)
        return self.repository.list_page(with_custom_terms(flt), limit=limit, cursor=cursor)

    def matching_ids_page(
        self, flt: CandidateFilter, *, more_tags: Sequence[str] = (), cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """Ids of one page of the candidates ``flt`` and each of ``more_tags`` match (an audience)."""
        return self.repository.matching_ids_page(
            with_custom_terms(flt), more_tags=more_tags, cursor=cursor, limit=limit
        )

    def count_matching(self, flt: CandidateFilter, *, more_tags: Sequence[str] = ()) -> int:
        return self.repository.count_matching(with_custom_terms(flt), more_tags=more_tags)

    def pool_member_stages(self, pool_id: str, *, cap: int) -> tuple[list[dict[str, Any]], bool]:
        """Each member's ``pools`` map (at most ``cap`` members), and whether there were more."""
        return ProjectionRepository().pool_member_stages(pool_id, cap=cap)

    def count_by_source(self, source: str, *, max_pages: int) -> tuple[int, bool]:
        """People who came from ``source`` (True: at least that many, the count stopped)."""
        return ProjectionRepository().count_by_source(source, max_pages=max_pages)

    def timeline(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Activity], str | None]:
        return self.repository.timeline(candidate_id, limit=limit, cursor=cursor)

    def notes(self, candidate_id: str, *, limit: int, cursor: str | None) -> tuple[list[Note], str | None]:
        return self.repository.notes(candidate_id, limit=limit, cursor=cursor)

    def application_page(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        return self.repository.application_page(candidate_id, limit=limit, cursor=cursor)

    def applications(self, candidate_id: str) -> list[Application]:
        return self.repository.applications(candidate_id)

    def applications_for_job(
        self, job_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        """A job's applications, newest first; ``NotFound`` for a job there is not."""
        self.jobs.get(job_id)
        return self.repository.applications_for_job(job_id, limit=limit, cursor=cursor)

    def get_application(self, candidate_id: str, job_id: str) -> Application | None:
        return self.repository.get_application(candidate_id, job_id)

    def applications_in_stage(
        self, job_id: str, stage: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        """A job's applications at one stage, longest there first."""
        return self.repository.applications_in_stage(job_id, stage, limit=limit, cursor=cursor)

    def add_application(self, application: Application, *, actor: str) -> Application:
        """Put a known person into a job's pipeline (``Conflict`` when they are in it already)."""
        self.repository.add_application(application, actor=actor)
        return application

    def activity_operations(
        self, candidate_id: str, kind: str, *, actor: str, at: str, detail: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """This slice's writes of one timeline entry for another slice's transaction: a check that
        the person exists (operation 0 of the two), then the entry."""
        return self.repository.activity_operations(candidate_id, kind, actor=actor, at=at, detail=detail)

    def feedback_operations(
        self,
        candidate_id: str,
        job_id: str,
        *,
        recommendation: str,
        actor: str,
        at: str,
        detail: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """This slice's writes of one interview feedback (the application's counts, the timeline)."""
        return self.repository.feedback_operations(
            candidate_id, job_id, recommendation=recommendation, actor=actor, at=at, detail=detail
        )

    def move_application(
        self, moved: Application, *, seen_version: int, actor: str, detail: dict[str, Any]
    ) -> Application:
        """Store an application's new stage over the version read (``VersionConflict`` otherwise)."""
        return self.repository.move_application(moved, seen_version=seen_version, actor=actor, detail=detail)

    def resume_key(self, candidate_id: str, job_id: str) -> str:
        """The object key of the resume sent with one application (NotFound when there is none)."""
        for application in self.repository.applications(candidate_id):
            if application.job_id == job_id and application.resume_key:
                return application.resume_key
        raise NotFound("This application has no resume.")

    def resume_url(self, candidate_id: str, job_id: str) -> str:
        """A download link for one application's resume that works for :data:`RESUME_LINK_SECONDS`."""
        return self.resumes_store.download_url(
            self.resume_key(candidate_id, job_id), expires_in=RESUME_LINK_SECONDS
        )

    def resumes(self, candidate_id: str) -> list[Resume]:
        """The person's resumes, newest first (the newest is ``current``); ``NotFound`` for nobody."""
        self.repository.get(candidate_id)
        return listed_resumes(
            self.repository.resumes(candidate_id), self.repository.applications(candidate_id)
        )

    def resume_download_url(self, candidate_id: str, resume_id: str) -> str:
        """A link to one of the person's resumes that works for :data:`RESUME_LINK_SECONDS`."""
        self.repository.get(candidate_id)
        stored = self.repository.resumes(candidate_id)
        key = next((r.resume_key for r in stored if r.id == resume_id), None)
        if key is None and resume_id.startswith(LEGACY_RESUME_PREFIX):
            job_id = resume_id.removeprefix(LEGACY_RESUME_PREFIX)
            key = next(
                (a.resume_key for a in self.repository.applications(candidate_id) if a.job_id == job_id),
                None,
            )
        if key is None:
            raise NotFound("This candidate has no such resume.")
        return self.resumes_store.download_url(key, expires_in=RESUME_LINK_SECONDS)

    def interactions(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Interaction], str | None]:
        return self.repository.interactions(candidate_id, limit=limit, cursor=cursor)

    # ------------------------------------------------------------------ recruiters' changes

    def create(self, data: CandidateCreate, *, actor: str, form: TouchForm = "api") -> Candidate:
        """A recruiter (``form="ui"``) or integration adds a person. A known email is a 409 naming
        the existing id."""
        custom = CustomFields().prepare("candidate", {}, data.custom_fields, creating=True)
        candidate = new_candidate(data, candidate_id=new_id(), now=self.now(), form=form)
        candidate.custom_fields = custom
        return self.repository.insert(candidate, actor=actor)

    def update(self, candidate_id: str, patch: CandidatePatch, *, actor: str) -> Candidate:
        """Save a recruiter's patch against the version they read (stale: ``VersionConflict``)."""
        current = self.repository.get(candidate_id)
        if patch.version != current.version:
            raise VersionConflict(
                "Someone else changed this candidate; reload and try again.",
                current=current.model_dump(mode="json"),
            )
        given = patch.changes()
        if "custom_fields" in given:
            # Checked against the definitions and merged over the stored values (a key left
            # out keeps its value, null clears it); the whole map is then written.
            given["custom_fields"] = CustomFields().prepare(
                "candidate", current.custom_fields, given["custom_fields"], creating=False
            )
        changes = {k: v for k, v in given.items() if getattr(current, k, None) != v}
        now = self.now()
        consent = recruiter_consent(current, changes.pop("marketing_consent", None), actor=actor, now=now)
        if not changes and consent is None:
            return current
        return self.repository.save_changes(current, changes, consent, actor=actor, now=now)

    def update_application_fields(
        self, candidate_id: str, job_id: str, patch: ApplicationFieldsPatch, *, actor: str
    ) -> Application:
        """Set an application's custom fields (entity ``application``) over the version read: a wrong
        value is a 422 naming ``custom_fields.<key>``, a stale version a 409, nobody a 404."""
        application = self.repository.get_application(candidate_id, job_id)
        if application is None:
            raise NotFound("No such application.")
        if patch.version != application.version:
            raise VersionConflict("The application changed meanwhile: reload it and try again.")
        values = CustomFields().prepare(
            "application", application.custom_fields, patch.custom_fields, creating=False
        )
        if values == application.custom_fields:
            return application
        return self.repository.save_application_fields(
            application, values, seen_version=application.version, actor=actor, now=self.now()
        )

    def add_note(self, candidate_id: str, note: NoteCreate, *, author: str) -> Note:
        return self.repository.add_note(candidate_id, note, author=author)

    def upload_resume(
        self, candidate_id: str, upload: Upload, *, actor: str, source: ResumeSource = "recruiter"
    ) -> Resume:
        """Keep a resume a recruiter (or the portal) uploads: checked as the public forms check it,
        stored, then listed under the person with a timeline entry. ``NotFound`` for nobody (the
        stored file is taken back)."""
        kind = validate_resume(upload)
        self.repository.get(candidate_id)
        key = self.resumes_store.put(candidate_id, upload, kind)
        stored = StoredResume(
            id=new_id(),
            candidate_id=candidate_id,
            resume_key=key,
            file_name=resume_file_name(upload.filename, kind),
            content_type=CONTENT_TYPES[kind],
            size=len(upload.data),
            source=source,
            uploaded_at=self.now(),
        )
        try:
            self.repository.add_resume(stored, actor=actor)
        except NotFound:
            self.resumes_store.delete(key)  # erased meanwhile: nothing may name or keep the file
            raise
        return listed_resumes([stored], [])[0]

    def log_interaction(self, candidate_id: str, data: InteractionCreate, *, author: str) -> Interaction:
        """Keep a call or meeting with its timeline entry; ``NotFound`` for nobody, 422 for a time
        in the future."""
        now = self.now()
        interaction = Interaction(
            id=new_id(),
            candidate_id=candidate_id,
            kind=data.kind,
            outcome=data.outcome,
            happened_at=interaction_time(data.happened_at, now),
            duration_minutes=data.duration_minutes,
            notes=data.notes,
            author=author,
            created_at=now,
        )
        self.repository.add_interaction(interaction)
        return interaction

    def record_activity(
        self,
        candidate_id: str,
        kind: str,
        *,
        actor: str,
        at: str,
        detail: dict[str, Any],
        along_with: list[dict[str, Any]],
    ) -> None:
        """Put ``kind`` on the person's timeline together with another slice's writes under the
        person (built by that slice's repository), atomically; ``NotFound`` for nobody."""
        self.repository.record_activity(
            candidate_id, kind, actor=actor, at=at, detail=detail, along_with=along_with
        )

    def change_tags(
        self,
        candidate_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        actor: str,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Add or remove tags when that changes something (False when it would not); ``NotFound``."""
        return self.repository.change_tags(
            candidate_id, add=add, remove=remove, actor=actor, detail=detail or {}
        )

    def set_pool_stage(self, candidate_id: str, pool_id: str, stage: str | None, *, actor: str) -> Candidate:
        """Add to a pool / move to a stage (``stage``), or remove from the pool (``None``)."""
        return self.repository.set_pool_stage(candidate_id, pool_id, stage, actor=actor)

    def set_consent(
        self, candidate_id: str, topic: Topic | str, granted: bool, *, source: str, actor: str
    ) -> Candidate:
        """Record a consent decision for one topic, with its time and source."""
        consent = Consent.model_validate(
            {"topic": topic, "granted": granted, "at": self.now(), "source": source}
        )
        return self.repository.record_consent(
            candidate_id, consent, activity=consent_activity(granted), actor=actor
        )

    # ------------------------------------------------------------------ intake

    def submit(
        self,
        fields: dict[str, Any],
        *,
        resume: Upload | None = None,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        lambda_context: Any = None,
    ) -> None:
        """Validate and store one career-site submission. Raises domain errors; returns nothing
        a caller could use to tell a new person from a known one."""
        first_stage = self.jobs.get_open(job_id).stages[0].key if job_id is not None else None
        if is_bot(fields):
            return  # the same answer as everyone, and nothing stored
        submission = parse_fields(PublicSubmission, fields)
        resume_kind = validate_resume(resume) if resume is not None else None

        def store() -> dict[str, str]:
            return self._store(submission, resume, resume_kind, job_id, first_stage)

        if idempotency_key:
            request = {
                "key": f"{job_id or TALENT_NETWORK}#{idempotency_key}",
                "fingerprint": _fingerprint(submission, resume, job_id),
            }
            self.idempotency.once(request, store, lambda_context=lambda_context)
        else:
            store()

    def _store(
        self,
        submission: PublicSubmission,
        resume: Upload | None,
        resume_kind: str | None,
        job_id: str | None,
        first_stage: str | None = None,
    ) -> dict[str, str]:
        stored: dict[str, str] = {}  # the resume's key -> whose prefix it is under

        def resume_key_for(candidate_id: str) -> str:
            assert resume is not None and resume_kind is not None
            key = self.resumes_store.put(candidate_id, resume, resume_kind)
            stored[key] = candidate_id
            return key

        file = None
        if resume is not None and resume_kind is not None:
            file = ResumeFile(
                file_name=resume_file_name(resume.filename, resume_kind),
                content_type=CONTENT_TYPES[resume_kind],
                size=len(resume.data),
            )
        try:
            self.intake(
                submission,
                source=JOB_APPLICATION if job_id else TALENT_NETWORK,
                job_id=job_id,
                resume_key_for=resume_key_for if resume is not None else None,
                resume_file=file,
                first_stage=first_stage,
            )
        except Conflict:
            # Every attempt lost its race: nothing refers to the resume, so it goes too.
            for key in stored:
                self.resumes_store.delete(key)
            raise
        # A form that lost its race to another stored its resume under the id it would have
        # created; the person's resume item names it, so it is listed and erased with them.
        return {"status": "received"}

    def intake(
        self,
        submission: PublicSubmission,
        *,
        source: str,
        job_id: str | None = None,
        resume_key_for: Callable[[str], str] | None = None,
        resume_file: ResumeFile | None = None,
        more_operations: MoreOperations | None = None,
        first_stage: str | None = None,
        actor: str = INTAKE_ACTOR,
    ) -> tuple[str, bool]:
        """A public form: create the person, or merge into the one with this email
        (:func:`merge_plan`).

        Two requests either way: a read of the email guard, then one transaction. Racing
        submissions of one email lose the guard's condition and retry as a merge, so a person is
        never created twice. ``resume_key_for`` stores the resume: it is called once, before the
        first attempt, with the id of the person the email names (or of the person this form
        would create), and returns the stored resume's key; the person's resume item (described by
        ``resume_file``) is written in the same transaction as the rest.
        ``more_operations(candidate_id, now)`` adds writes to the same transaction (a job-alert
        request). ``actor`` is who the timeline names (the career site; a referrer for a referral).
        Returns (candidate id, created).
        """
        if job_id is not None and first_stage is None:
            first_stage = self.jobs.get(job_id).stages[0].key
        existing_id = self.repository.find_id_by_email(submission.email)
        new_candidate_id = new_id()
        resume_key = resume_key_for(existing_id or new_candidate_id) if resume_key_for else None
        resume_id = new_id()
        for attempt in range(MAX_RACE_RETRIES):
            if attempt:
                # Racing writers on one person: back off with jitter, then look again.
                self.pause(random.uniform(0, 0.02 * 2 ** min(attempt, 5)))  # noqa: S311 - jitter, not crypto
                existing_id = self.repository.find_id_by_email(submission.email)
            now = self.now()
            candidate_id = existing_id or new_candidate_id
            application = (
                application_for(
                    submission,
                    candidate_id=candidate_id,
                    job_id=job_id,
                    source=source,
                    resume_key=resume_key,
                    now=now,
                    stage=first_stage or FIRST_STAGE,
                )
                if job_id
                else None
            )
            resume = (
                StoredResume(
                    id=resume_id,
                    candidate_id=candidate_id,
                    resume_key=resume_key,
                    file_name=resume_file.file_name,
                    content_type=resume_file.content_type,
                    size=resume_file.size,
                    source=RESUME_SOURCE_OF_FORM.get(source, "signup"),
                    job_id=job_id,
                    uploaded_at=now,
                )
                if resume_key and resume_file
                else None
            )
            more = more_operations(candidate_id, now) if more_operations is not None else ()
            try:
                if existing_id:
                    self.repository.merge_intake(
                        existing_id,
                        submission.email,
                        merge_plan(submission, source=source, now=now, job_id=job_id),
                        actor=actor,
                        now=now,
                        application=application,
                        resume=resume,
                        more=more,
                    )
                    return existing_id, False
                person = new_person(
                    submission, candidate_id=candidate_id, source=source, now=now, job_id=job_id
                )
                self.repository.create_from_intake(
                    person, actor=actor, application=application, resume=resume, more=more
                )
                return candidate_id, True
            except LostRace:
                # The email was taken, a concurrent write conflicted, or the person was erased
                # meanwhile: look again.
                continue
        raise Conflict("This email is being changed by another request; try again.")

    # ------------------------------------------------------------------ erasure

    def erase(self, candidate_id: str, *, actor: str) -> None:
        """Remove every object and item that holds the person's data: resumes first, then the
        items, so an interrupted erasure can be repeated to the end (while the profile exists
        the erasure can be found and finished). ``NotFound`` when there is no such person."""
        self.repository.get(candidate_id)
        keys = [a.resume_key for a in self.repository.applications(candidate_id) if a.resume_key]
        keys += [r.resume_key for r in self.repository.resumes(candidate_id)]
        self.resumes_store.delete_all(candidate_id, also=keys)
        self.repository.erase(candidate_id, actor=actor)


# merges: what another slice may know of a person's keys without building them


def email_guard_key(email: str) -> tuple[str, str]:
    """The key of the uniqueness item that maps an address to its person."""
    return email_pk(email), EMAIL_GUARD
