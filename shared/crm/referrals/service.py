"""Employee referrals: anyone who signs in recommends someone; the referred person is told once who
referred them and decides; the referrer follows the referral in plain words.

* **Referring** stores the person through the one intake every public form uses (one person per
  email, source ``referral``, the referrer named on the timeline) and the referral in the same
  transaction. The answer is the same whether the email was known or not ("received"), and the
  same happens next either way: the person gets one email naming the referrer with a link to
  confirm their interest (the suppression list still applies). Nothing else reaches them before
  they confirm: a new person has no consent, so campaigns and sequences skip them, and they are
  nobody's applicant yet, so no status email goes out.
* **Confirming** (the signed link, then a button) records it on the referral and the timeline,
  the marketing consent only when its box is ticked, and makes them an applicant to the job the
  referrer named (source ``referral``) when it is still open.
* **Following**: a confirmed referral follows the application to its job; its status is one of
  four words (:func:`status_of`) and each change mails the referrer once. A referral never shows
  anything of an application before its person confirmed, so nobody learns through a referral
  whether someone was already applying.
* **Links**: each person who signs in has a personal code (a keyed digest of their user id: stable,
  and no one can work out another person's); a form sent with it (``referral_code``) is a
  referral of the one who sent it, confirmed by the application itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from crm.candidates.models import Application, PublicSubmission
from crm.candidates.resumes import CONTENT_TYPES, validate_resume
from crm.candidates.service import CandidateService, ResumeFile, resume_file_name
from crm.jobs.models import CLOSED_STAGES, Job
from crm.jobs.service import JobService
from crm.platform import times
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, RateLimited, ValidationFailed
from crm.platform.fields import normalise_email
from crm.platform.forms import Upload
from crm.platform.ids import iso, utcnow
from crm.platform.signing import InvalidLink, mac, sign, verify
from crm.referrals.models import (
    STATUS_WORDS,
    JobRow,
    MyReferral,
    MyReferrals,
    Referral,
    ReferralCreate,
    ReferralFilter,
    ReferralReport,
    ReferralStatus,
    ReferrerRow,
)
from crm.referrals.repository import (
    PREFIX,
    ReferralCodeRepository,
    ReferralRepository,
    confirm_operation,
    referral_operation,
)

SOURCE = "referral"
#: A confirmation link works for 30 days.
CONFIRM_LINK_SECONDS = 30 * 24 * 3600
#: Referrals one person may make in a day (an email goes out for each).
DAILY_LIMIT = 30
#: A personal referral code: 10 letters and digits of base32 (50 bits of a keyed digest).
CODE_LENGTH = 10
CODE = re.compile(rf"^[a-z2-7]{{{CODE_LENGTH}}}$")
#: Referrals the report counts (the newest).
REPORT_CAP = 10_000
#: A job's final stage is a hire, whatever the job calls it; ``hired`` is one in any pipeline.
HIRED = "hired"


@dataclass(frozen=True)
class Referrer:
    """Who refers: their user id (Cognito sub) and sign-in address."""

    subject: str
    email: str

    @property
    def actor(self) -> str:
        return f"user:{self.subject}"


# ---------------------------------------------------------------------------------- the rules


def status_of(stage: str | None, stages: list[str]) -> ReferralStatus:
    """A referral's status from its application's stage and the job's own stages, in order:
    no application yet or the first stage is *received*; rejected or withdrawn is *not selected*
    (the referrer is not told which); ``hired`` or the job's last stage is *hired*; anything
    between is *in process*."""
    if stage is None:
        return "received"
    if stage in CLOSED_STAGES:
        return "not_selected"
    if stage == HIRED or (stages and stage == stages[-1]):
        return "hired"
    if not stages or stage == stages[0]:
        return "received"
    return "in_process"


def referral_id(referrer: str, candidate_id: str, job_id: str | None) -> str:
    """One referral per referrer, person and job: the same one sent again is the same item."""
    digest = hashlib.sha256(f"{referrer}\n{candidate_id}\n{job_id or '-'}".encode()).hexdigest()
    return digest[:26]


def entered_at(application: dict[str, Any]) -> str:
    return str(application.get("stage_entered_at") or application.get("applied_at") or "")


def days_between(start: str, end: str) -> float | None:
    first, last = times.parse(start), times.parse(end)
    if first is None or last is None:
        return None
    return max(0.0, (last - first).total_seconds() / 86400)


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        message[:1].upper() + message[1:] + ".", errors=[{"field": field, "message": message}]
    )


def report_of(referrals: list[Referral], titles: dict[str, str], *, capped: bool) -> ReferralReport:
    """The recruiters' report of ``referrals`` (job titles by id)."""
    by_status: Counter[str] = Counter(r.status for r in referrals)
    referrers: dict[str, list[Referral]] = defaultdict(list)
    jobs: dict[str | None, list[Referral]] = defaultdict(list)
    for r in referrals:
        referrers[r.referrer_email].append(r)
        jobs[r.job_id].append(r)
    days = [d for r in referrals if r.hired_at and (d := days_between(r.referred_at, r.hired_at)) is not None]
    by_referrer = [
        ReferrerRow(
            referrer_email=email,
            referrals=len(items),
            confirmed=sum(1 for r in items if r.confirmed_at),
            hired=sum(1 for r in items if r.status == "hired"),
        )
        for email, items in referrers.items()
    ]
    by_job = [
        JobRow(
            job_id=job_id,
            job_title=titles.get(job_id) if job_id else None,
            referrals=len(items),
            hired=sum(1 for r in items if r.status == "hired"),
        )
        for job_id, items in jobs.items()
    ]
    return ReferralReport(
        referrals=len(referrals),
        confirmed=sum(1 for r in referrals if r.confirmed_at),
        by_status={status: by_status.get(status, 0) for status in STATUS_WORDS},
        hires=by_status.get("hired", 0),
        median_days_to_hire=round(statistics.median(days), 1) if days else None,
        by_referrer=sorted(by_referrer, key=lambda row: (-row.referrals, -row.hired, row.referrer_email)),
        by_job=sorted(
            by_job, key=lambda row: (-row.referrals, -row.hired, row.job_id is None, row.job_title or "")
        ),
        capped=capped,
    )


@dataclass(frozen=True)
class StatusChange:
    """A referral whose status changed (the referrer is mailed once per change)."""

    referral: Referral
    status: ReferralStatus
    at: str


def status_ref(candidate_id: str, referral_id: str, at: str) -> str:
    """The mail message of one status change: its referral and when the status changed."""
    return f"{candidate_id}/{referral_id}@{at}"


def split_status_ref(ref: str) -> tuple[str, str, str] | None:
    who, _, at = ref.partition("@")
    candidate_id, _, rid = who.partition("/")
    return (candidate_id, rid, at) if candidate_id and rid and at else None


def invite_ref(candidate_id: str, referral_id: str) -> str:
    return f"{candidate_id}/{referral_id}"


def clean_code(value: str | None) -> str | None:
    """A referral code as a link carries it (``?ref=``), or None for anything that cannot be one."""
    code = (value or "").strip().lower()
    return code if CODE.fullmatch(code) else None


def is_referral(keys: dict[str, Any]) -> bool:
    """Whether a changed item (its keys) is a referral."""
    return str(keys.get("sk", "")).startswith(PREFIX)


# ---------------------------------------------------------------------------------- the service


class ReferralService:
    """What the web layer and the workflows use of referrals; the repositories stay private to it."""

    def __init__(
        self,
        repository: ReferralRepository | None = None,
        codes: ReferralCodeRepository | None = None,
        candidates: CandidateService | None = None,
        jobs: JobService | None = None,
        *,
        now: Callable[[], str] = utcnow,
    ) -> None:
        self.repository = repository if repository is not None else ReferralRepository()
        self.codes = codes if codes is not None else ReferralCodeRepository()
        self.jobs = jobs if jobs is not None else JobService()
        self.candidates = candidates if candidates is not None else CandidateService(jobs=self.jobs)
        self.now = now

    # ------------------------------------------------------------------ referring

    def refer(
        self,
        data: ReferralCreate,
        *,
        referrer: Referrer,
        resume: Upload | None = None,
        idempotency_key: str | None = None,
        lambda_context: Any = None,
    ) -> None:
        """Refer someone (see the module). Returns nothing a caller could use to tell a known
        person from a new one. An ``idempotency_key`` makes a retry a no-op."""
        if normalise_email(data.email) == normalise_email(referrer.email):
            raise field_error("email", "this is your own address: refer someone else")
        if data.job_id is not None:
            self._open_job(data.job_id)
        kind = validate_resume(resume) if resume is not None else None
        now = times.parse(self.now())
        since = iso(now - timedelta(days=1)) if now is not None else ""
        if self.repository.count_since(referrer.subject, since) >= DAILY_LIMIT:
            raise RateLimited(f"You have made {DAILY_LIMIT} referrals today; try again tomorrow.")

        def work() -> dict[str, str]:
            self._store(data, referrer, resume, kind)
            return {"status": "received"}

        if idempotency_key:
            digest = hashlib.sha256(
                (data.model_dump_json() + hashlib.sha256(resume.data if resume else b"").hexdigest()).encode()
            ).hexdigest()
            request = {"key": f"referral#{referrer.subject}#{idempotency_key}", "fingerprint": digest}
            self.candidates.idempotency.once(request, work, lambda_context=lambda_context)
        else:
            work()

    def _open_job(self, job_id: str) -> Job:
        try:
            job = self.jobs.get(job_id)
        except NotFound:
            raise field_error("job_id", "no such job") from None
        if job.status != "open":
            raise field_error("job_id", "the job is closed: choose an open one")
        return job

    def _store(
        self, data: ReferralCreate, referrer: Referrer, resume: Upload | None, kind: str | None
    ) -> None:
        existing = self.candidates.find_id_by_email(data.email)
        if existing and self.repository.get(existing, referral_id(referrer.subject, existing, data.job_id)):
            return  # the same referral again: nothing more happens
        submission = PublicSubmission.model_validate(
            {"email": data.email, "first_name": data.first_name, "last_name": data.last_name}
        )
        stored: list[str] = []

        def resume_key_for(candidate_id: str) -> str:
            assert resume is not None and kind is not None
            key = self.candidates.resumes_store.put(candidate_id, resume, kind)
            stored.append(key)
            return key

        def referral(candidate_id: str, now: str) -> list[dict[str, Any]]:
            # Known when the email guard names this attempt's person (read again on every attempt,
            # so a person created by a racing form is known on the retry).
            known = self.candidates.find_id_by_email(data.email) == candidate_id
            item = Referral(
                id=referral_id(referrer.subject, candidate_id, data.job_id),
                candidate_id=candidate_id,
                job_id=data.job_id,
                referrer=referrer.subject,
                referrer_email=normalise_email(referrer.email),
                first_name=data.first_name,
                last_name=data.last_name,
                email=data.email,
                why=data.why,
                channel="form",
                known=known,
                status="received",
                status_at=now,
                referred_at=now,
            )
            return [referral_operation(item)]

        file = None
        if resume is not None and kind is not None:
            file = ResumeFile(
                file_name=resume_file_name(resume.filename, kind),
                content_type=CONTENT_TYPES[kind],
                size=len(resume.data),
            )
        try:
            self.candidates.intake(
                submission,
                source=SOURCE,
                resume_key_for=resume_key_for if resume is not None else None,
                resume_file=file,
                more_operations=referral,
                actor=referrer.actor,
            )
        except Conflict:
            for key in stored:
                self.candidates.resumes_store.delete(key)
            raise

    # ------------------------------------------------------------------ the referred person

    def confirm_url(self, candidate_id: str, rid: str) -> str:
        base = get_settings().public_base_url.rstrip("/")
        token = sign("referral-confirm", {"c": candidate_id, "r": rid})
        return f"{base}/public/referrals/confirm?{urlencode({'token': token})}"

    def invitation(self, token: str | None) -> tuple[Referral, str | None]:
        """The referral a confirmation link names and its job's title; ``InvalidLink`` otherwise."""
        payload = verify("referral-confirm", token, max_age_seconds=CONFIRM_LINK_SECONDS)
        candidate_id, rid = payload.get("c"), payload.get("r")
        if not isinstance(candidate_id, str) or not isinstance(rid, str):
            raise InvalidLink("This link is not valid.")
        found = self.repository.get(candidate_id, rid)
        if found is None:
            raise InvalidLink("This link is no longer valid.")
        return found, self._title(found.job_id)

    def _title(self, job_id: str | None) -> str | None:
        if job_id is None:
            return None
        try:
            return self.jobs.get(job_id).title
        except NotFound:
            return None

    def confirm(self, token: str | None, *, marketing: bool) -> tuple[Referral, str | None, bool]:
        """Follow a confirmation link's button: the referral is confirmed (twice is fine), the
        marketing consent recorded when ticked, and the person applies to the named job if it is
        still open. Returns the referral, its job's title and whether they are an applicant."""
        found, title = self.invitation(token)
        now = self.now()
        if found.confirmed_at is None:
            try:
                self.candidates.record_activity(
                    found.candidate_id,
                    "referral_confirmed",
                    actor="candidate",
                    at=now,
                    detail={"job_id": found.job_id} if found.job_id else {},
                    along_with=[confirm_operation(found.candidate_id, found.id, now=now)],
                )
            except NotFound:
                again = self.repository.get(found.candidate_id, found.id)
                if again is None or again.confirmed_at is None:
                    raise InvalidLink("This link is no longer valid.") from None
            found = found.model_copy(update={"confirmed_at": found.confirmed_at or now})
        if marketing:
            person = self.candidates.get(found.candidate_id)
            consent = person.consents.get("marketing")
            if consent is None or not consent.granted:
                self.candidates.set_consent(
                    found.candidate_id, "marketing", True, source="referral-confirmation", actor="candidate"
                )
        return found, title, self._apply(found, now)

    def _apply(self, found: Referral, now: str) -> bool:
        """Make the person an applicant to the referral's job (an open one), or find that they
        are one; a referral confirmed by someone who was applying already takes that
        application's status from now on."""
        if found.job_id is None:
            return False
        try:
            job = self.jobs.get(found.job_id)
        except NotFound:
            return False
        application = self.candidates.get_application(found.candidate_id, job.id)
        if application is None and job.status == "open":
            application = Application(
                candidate_id=found.candidate_id,
                job_id=job.id,
                source=SOURCE,
                applied_at=now,
                stage=job.stages[0].key,
            )
            try:
                self.candidates.add_application(application, actor="candidate")
            except Conflict:
                application = self.candidates.get_application(found.candidate_id, job.id)
        if application is None:
            return False
        status = status_of(application.stage, [s.key for s in job.stages])
        if status != found.status:
            at = application.stage_entered_at or application.applied_at
            self.repository.set_status(
                found.candidate_id,
                found.id,
                status,
                at=max(at, found.status_at),
                hired_at=at if status == "hired" else None,
            )
        return True

    # ------------------------------------------------------------------ links

    def code_for(self, referrer: Referrer) -> str:
        """The referrer's personal code (the same every time), recorded so forms can name them."""
        digest = mac("referral-code", referrer.subject)
        code = base64.b32encode(digest).decode().lower()[:CODE_LENGTH]
        self.codes.save(
            code, referrer=referrer.subject, referrer_email=normalise_email(referrer.email), now=self.now()
        )
        return code

    def link_for(self, code: str) -> str:
        return f"{get_settings().public_base_url.rstrip('/')}/careers?{urlencode({'ref': code})}"

    def owner_of(self, code: str | None) -> Referrer | None:
        code = clean_code(code)
        if code is None:
            return None
        found = self.codes.owner(code)
        return Referrer(found["referrer"], found["referrer_email"]) if found else None

    def from_link(
        self, candidate_id: str, code: str | None, *, job_id: str | None, at: str, stage: str | None = None
    ) -> Referral | None:
        """A form sent with a referral code (an application to ``job_id``, or a sign-up): a
        referral of the code's owner, confirmed by the form itself. None when the code names
        nobody, names the person themselves, or the person is gone."""
        owner = self.owner_of(code)
        if owner is None:
            return None
        try:
            person = self.candidates.get(candidate_id)
        except NotFound:
            return None
        if normalise_email(person.email) == normalise_email(owner.email):
            return None
        status: ReferralStatus = "received"
        if job_id is not None and stage is not None:
            try:
                status = status_of(stage, [s.key for s in self.jobs.get(job_id).stages])
            except NotFound:
                return None
        referral = Referral(
            id=referral_id(owner.subject, candidate_id, job_id),
            candidate_id=candidate_id,
            job_id=job_id,
            referrer=owner.subject,
            referrer_email=owner.email,
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            channel="link",
            known=False,
            status=status,
            status_at=at,
            referred_at=at,
            confirmed_at=at,
        )
        self.repository.add(referral)
        return referral

    # ------------------------------------------------------------------ following

    def follow(self, new: dict[str, Any], old: dict[str, Any] | None) -> list[StatusChange]:
        """An application changed (its stream images): the confirmed referrals that follow it take
        its status, and each whose status changed is returned (the referrer is mailed). A
        confirmed referral to no job in particular follows the first application made after it.
        Replaying a record changes nothing and returns the same changes (the mail is sent once)."""
        candidate_id, job_id = str(new.get("candidate_id", "")), str(new.get("job_id", ""))
        referrals = self.repository.of_candidate(candidate_id)
        if not referrals or not candidate_id or not job_id:
            return []
        try:
            job = self.jobs.get(job_id)
        except NotFound:
            return []
        status = status_of(str(new.get("stage") or "") or None, [s.key for s in job.stages])
        at = entered_at(new)
        changes: list[StatusChange] = []
        for_this_job = {r.referrer for r in referrals if r.job_id == job_id}
        for referral in referrals:
            if referral.confirmed_at is None:
                continue  # nothing of an application shows before the person confirmed
            if referral.job_id is None:
                made_after = str(new.get("applied_at") or "") >= referral.confirmed_at
                if old is not None or not made_after or referral.referrer in for_this_job:
                    continue
                if not self.repository.attach_job(candidate_id, referral.id, job_id):
                    continue
                referral = referral.model_copy(update={"job_id": job_id})
            if referral.job_id != job_id:
                continue
            if referral.status != status:
                hired_at = at if status == "hired" else None
                if self.repository.set_status(candidate_id, referral.id, status, at=at, hired_at=hired_at):
                    changes.append(StatusChange(referral, status, at))
            elif referral.status_at == at and at != referral.referred_at:
                changes.append(StatusChange(referral, status, at))  # a replayed record: mailed once
        return changes

    # ------------------------------------------------------------------ reading

    def get(self, candidate_id: str, rid: str) -> Referral | None:
        return self.repository.get(candidate_id, rid)

    def of_candidate(self, candidate_id: str) -> list[Referral]:
        return self.repository.of_candidate(candidate_id)

    def mine(self, referrer: Referrer, *, limit: int, cursor: str | None) -> MyReferrals:
        """A referrer's page: their link and their referrals, newest first, in plain words."""
        items, next_cursor = self.repository.of_referrer(referrer.subject, limit=limit, cursor=cursor)
        titles = self._titles([r.job_id for r in items])
        code = self.code_for(referrer)
        return MyReferrals(
            code=code,
            link=self.link_for(code),
            items=[
                MyReferral(
                    id=r.id,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    job_id=r.job_id,
                    job_title=titles.get(r.job_id or ""),
                    channel=r.channel,
                    status=self.shown_status(r),
                    status_label=STATUS_WORDS[self.shown_status(r)],
                    referred_at=r.referred_at,
                    status_at=r.status_at if r.confirmed_at else r.referred_at,
                )
                for r in items
            ],
            next_cursor=next_cursor,
        )

    @staticmethod
    def shown_status(referral: Referral) -> ReferralStatus:
        """What the referrer sees: received until the person confirmed."""
        return referral.status if referral.confirmed_at else "received"

    def _titles(self, job_ids: list[str | None]) -> dict[str, str]:
        titles: dict[str, str] = {}
        for job_id in dict.fromkeys(j for j in job_ids if j):
            title = self._title(job_id)
            if title is not None:
                titles[job_id] = title
        return titles

    def list_page(self, flt: ReferralFilter) -> tuple[list[Referral], str | None]:
        return self.repository.page(flt)

    def titles(self, referrals: list[Referral]) -> dict[str, str]:
        return self._titles([r.job_id for r in referrals])

    def report(self, *, cap: int = REPORT_CAP) -> ReferralReport:
        referrals, capped = self.repository.newest(cap)
        return report_of(referrals, self._titles([r.job_id for r in referrals]), capped=capped)
