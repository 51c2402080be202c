"""Career-site intake: talent-network sign-ups and job applications.

The answer is the same for a new and a known email, and for a honeypot hit, so the public
endpoints never reveal who is known. An ``Idempotency-Key`` makes a retried POST a no-op
(Powertools idempotency, persisted in the same table).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from crm.candidates.models import (
    Activity,
    Application,
    Candidate,
    CandidateCreate,
    CandidateFilter,
    CandidatePatch,
    CandidateSummary,
    Note,
    NoteCreate,
    PublicSubmission,
)
from crm.candidates.repository import CandidateRepository
from crm.candidates.resumes import ResumeStore, validate_resume
from crm.jobs.repository import JobRepository
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, ValidationFailed
from crm.platform.forms import Upload, is_bot, parse_fields
from crm.platform.idempotency import persistence_layer

TALENT_NETWORK = "talent-network"
JOB_APPLICATION = "job-application"


def submit(
    fields: dict[str, Any],
    *,
    resume: Upload | None = None,
    job_id: str | None = None,
    idempotency_key: str | None = None,
    lambda_context: Any = None,
) -> None:
    """Validate and store one career-site submission. Raises domain errors; returns nothing
    a caller could use to tell a new person from a known one."""
    if job_id is not None:
        JobRepository().get_open(job_id)
    if is_bot(fields):
        return  # the same answer as everyone, and nothing stored
    submission = parse_fields(PublicSubmission, fields)
    resume_kind = validate_resume(resume) if resume is not None else None
    if idempotency_key:
        _idempotent_store()(
            lambda_context=lambda_context,
            request={
                "key": f"{job_id or TALENT_NETWORK}#{idempotency_key}",
                "fingerprint": _fingerprint(submission, resume, job_id),
            },
            submission=submission,
            resume=resume,
            resume_kind=resume_kind,
            job_id=job_id,
        )
    else:
        _store(submission=submission, resume=resume, resume_kind=resume_kind, job_id=job_id)


def _store(
    *, submission: PublicSubmission, resume: Upload | None, resume_kind: str | None, job_id: str | None
) -> dict[str, str]:
    store = ResumeStore()

    def resume_key_for(candidate_id: str) -> str:
        assert resume is not None and resume_kind is not None
        return store.put(candidate_id, resume, resume_kind)

    CandidateRepository().intake(
        submission,
        source=JOB_APPLICATION if job_id else TALENT_NETWORK,
        job_id=job_id,
        resume_key_for=resume_key_for if resume is not None else None,
    )
    return {"status": "received"}


def _fingerprint(submission: PublicSubmission, resume: Upload | None, job_id: str | None) -> str:
    payload = {
        "submission": submission.model_dump(mode="json"),
        "job_id": job_id,
        "resume": hashlib.sha256(resume.data).hexdigest() if resume else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=1)
def _idempotent_store() -> Any:
    """Built on first use so importing this module costs no AWS client."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    settings = get_settings()
    persistence = persistence_layer()
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        raise_on_no_idempotency_key=True,
    )

    def store(request: dict[str, str], **kwargs: Any) -> dict[str, str]:
        return _store(**kwargs)

    wrapped = idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )(store)

    def call(*, lambda_context: Any = None, **kwargs: Any) -> Any:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        if lambda_context is not None:
            # An in-progress record then expires with the invocation, so a retry after a
            # timed-out attempt is not refused as "already in progress".
            config.register_lambda_context(lambda_context)
        try:
            return wrapped(**kwargs)
        except IdempotencyValidationError as exc:
            raise ValidationFailed(
                "This Idempotency-Key was already used with a different body.",
                errors=[{"field": "Idempotency-Key", "message": "already used with a different body"}],
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict("A request with this Idempotency-Key is still being processed.") from exc

    return call


class CandidateService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: CandidateRepository | None = None) -> None:
        self.repository = repository or CandidateRepository()

    def add_note(self, candidate_id: str, note: NoteCreate, *, author: str) -> Note:
        return self.repository.add_note(candidate_id, note, author=author)

    def application_page(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        return self.repository.application_page(candidate_id, limit=limit, cursor=cursor)

    def applications(self, candidate_id: str) -> list[Application]:
        return self.repository.applications(candidate_id)

    def create(self, data: CandidateCreate, *, actor: str) -> Candidate:
        return self.repository.create(data, actor=actor)

    def erase(self, candidate_id: str, *, actor: str) -> list[str]:
        return self.repository.erase(candidate_id, actor=actor)

    def find_id_by_email(self, email: str) -> str | None:
        return self.repository.find_id_by_email(email)

    def get(self, candidate_id: str) -> Candidate:
        return self.repository.get(candidate_id)

    def get_many(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        return self.repository.get_many(candidate_ids)

    def intake(
        self,
        submission: PublicSubmission,
        *,
        source: str,
        job_id: str | None = None,
        resume_key_for: Any = None,
        more_operations: Any = None,
    ) -> tuple[str, bool]:
        return self.repository.intake(
            submission,
            source=source,
            job_id=job_id,
            resume_key_for=resume_key_for,
            more_operations=more_operations,
        )

    def list_page(
        self, flt: CandidateFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[CandidateSummary], str | None]:
        return self.repository.list_page(flt, limit=limit, cursor=cursor)

    def notes(self, candidate_id: str, *, limit: int, cursor: str | None) -> tuple[list[Note], str | None]:
        return self.repository.notes(candidate_id, limit=limit, cursor=cursor)

    def resume_key(self, candidate_id: str, job_id: str) -> str:
        return self.repository.resume_key(candidate_id, job_id)

    def set_consent(
        self, candidate_id: str, topic: str, granted: bool, *, source: str, actor: str
    ) -> Candidate:
        return self.repository.set_consent(candidate_id, topic, granted, source=source, actor=actor)

    def set_pool_stage(self, candidate_id: str, pool_id: str, stage: str | None, *, actor: str) -> Candidate:
        return self.repository.set_pool_stage(candidate_id, pool_id, stage, actor=actor)

    def timeline(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Activity], str | None]:
        return self.repository.timeline(candidate_id, limit=limit, cursor=cursor)

    def update(self, candidate_id: str, patch: CandidatePatch, *, actor: str) -> Candidate:
        return self.repository.update(candidate_id, patch, actor=actor)
