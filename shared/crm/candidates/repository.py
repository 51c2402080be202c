"""CandidateRepository: one person, their timeline, notes, applications and pool stages.

Item layout (see docs/data-model.md):
  CAND#<id> / PROFILE            the candidate (version for optimistic concurrency)
  EMAIL#<normalised> / EMAIL     uniqueness guard -> candidate_id, written in the same transaction
  CAND#<id> / ACT#<at>#<n>       timeline activity
  CAND#<id> / NOTE#<at>#<id>     recruiter note
  CAND#<id> / APP#<job_id>       application (gsi1: JOBAPPS#<job_id>)
  CAND#<id> / LIST#...           list projections, maintained from the stream (see projections.py)
"""

from __future__ import annotations

import random
import time
from typing import Any, TypeVar

from pydantic import BaseModel

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
from crm.candidates.projections import SUMMARY_FIELDS, candidate_list_query
from crm.platform import table
from crm.platform.errors import Conflict, NotFound, VersionConflict
from crm.platform.fields import normalise_email, search_term
from crm.platform.ids import new_id, utcnow

PROFILE = "PROFILE"
M = TypeVar("M", bound=BaseModel)
MAX_RACE_RETRIES = 10


def candidate_pk(candidate_id: str) -> str:
    return f"CAND#{candidate_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{normalise_email(email)}"


def activity_put(
    candidate_id: str, kind: str, actor: str, at: str, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    activity_id = new_id()[:12]
    return {
        "Put": {
            "Item": table.to_item(
                {
                    "pk": candidate_pk(candidate_id),
                    "sk": f"ACT#{at}#{activity_id}",
                    "type": "activity",
                    "id": activity_id,
                    "candidate_id": candidate_id,
                    "kind": kind,
                    "actor": actor,
                    "at": at,
                    "detail": detail or {},
                }
            )
        }
    }


def _candidate_from_item(item: dict[str, Any]) -> Candidate:
    return Candidate.model_validate(table.from_item(item))


class CandidateRepository:
    """Data access for the candidate aggregate. Every write carries its condition."""

    # ------------------------------------------------------------------ reads

    def get(self, candidate_id: str) -> Candidate:
        item = table.get_item(candidate_pk(candidate_id), PROFILE)
        if not item:
            raise NotFound(f"No candidate with id {candidate_id}.")
        return _candidate_from_item(item)

    def find_id_by_email(self, email: str) -> str | None:
        item = table.get_item(email_pk(email), "EMAIL")
        return str(item["candidate_id"]["S"]) if item else None

    def list_page(
        self, flt: CandidateFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[CandidateSummary], str | None]:
        """One page of a list. An exact email is answered from the email guard and the profile
        (strongly consistent: a person just created or signed up is found at once); every other
        list is read from the projections, which trail writes by a moment."""
        if flt.email:
            return self._by_email(flt, cursor), None
        query = candidate_list_query(flt)
        items, next_cursor = table.query_page(limit=limit, cursor=cursor, index="gsi1", **query)
        seen: set[str] = set()
        out = []
        for item in items:
            summary = CandidateSummary.model_validate(table.from_item(item))
            if summary.id not in seen:  # a name search can match first and last name of one person
                seen.add(summary.id)
                out.append(summary)
        return out, next_cursor

    def _by_email(self, flt: CandidateFilter, cursor: str | None) -> list[CandidateSummary]:
        """At most one person: GetItem of the guard, GetItem of the profile, the other filters
        applied to it as the projections' filter expression would. A cursor is past the end."""
        candidate_id = None if cursor else self.find_id_by_email(str(flt.email))
        if candidate_id is None:
            return []
        try:
            candidate = self.get(candidate_id)
        except NotFound:  # erased between the two reads
            return []
        if not matches_filter(candidate, flt):
            return []
        return [CandidateSummary.model_validate(candidate.model_dump(include=set(SUMMARY_FIELDS)))]

    def _child_page(
        self,
        candidate_id: str,
        prefix: str,
        model: type[M],
        *,
        limit: int,
        cursor: str | None,
        newest_first: bool,
    ) -> tuple[list[M], str | None]:
        """One page of the items of one kind under a candidate (404 if there is no such person)."""
        self.get(candidate_id)
        items, next_cursor = table.query_page(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": candidate_pk(candidate_id)}, ":prefix": {"S": prefix}},
            limit=limit,
            cursor=cursor,
            forward=not newest_first,
        )
        return [model.model_validate(table.from_item(i)) for i in items], next_cursor

    def timeline(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Activity], str | None]:
        return self._child_page(candidate_id, "ACT#", Activity, limit=limit, cursor=cursor, newest_first=True)

    def notes(self, candidate_id: str, *, limit: int, cursor: str | None) -> tuple[list[Note], str | None]:
        return self._child_page(candidate_id, "NOTE#", Note, limit=limit, cursor=cursor, newest_first=True)

    def application_page(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        return self._child_page(
            candidate_id, "APP#", Application, limit=limit, cursor=cursor, newest_first=False
        )

    def applications(self, candidate_id: str) -> list[Application]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": candidate_pk(candidate_id)}, ":prefix": {"S": "APP#"}},
        )
        return [Application.model_validate(table.from_item(i)) for i in items]

    def resume_key(self, candidate_id: str, job_id: str) -> str:
        """The object key of the resume sent with one application (NotFound when there is none)."""
        for application in self.applications(candidate_id):
            if application.job_id == job_id and application.resume_key:
                return application.resume_key
        raise NotFound("This application has no resume.")

    def get_many(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        """Profiles by id (strongly consistent, 100 a request); ids with no profile are absent."""
        found = table.batch_get([(candidate_pk(c), PROFILE) for c in candidate_ids])
        return {
            c: _candidate_from_item(found[(candidate_pk(c), PROFILE)])
            for c in candidate_ids
            if (candidate_pk(c), PROFILE) in found
        }

    # ------------------------------------------------------------------ creation and intake

    def create(self, data: CandidateCreate, *, actor: str) -> Candidate:
        """A recruiter or integration adds a person. A known email is a 409 naming the existing id."""
        now = utcnow()
        candidate = Candidate(
            id=new_id(),
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            phone=data.phone,
            location=data.location,
            linkedin_url=data.linkedin_url,
            tags=data.tags,
            source=data.source,
            sources=[data.source],
            consents=_consents(data.marketing_consent, data.source, now),
            version=1,
            created_at=now,
            updated_at=now,
        )
        try:
            table.transact(self._create_operations(candidate, actor, now, extra=[]))
        except table.TransactionCancelled as exc:
            existing = self.find_id_by_email(data.email)
            raise Conflict(
                "A candidate with this email already exists.", field="email", existing_id=existing
            ) from exc
        return candidate

    def _create_operations(
        self, candidate: Candidate, actor: str, now: str, *, extra: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        profile = candidate.model_dump()
        profile.update(
            pk=candidate_pk(candidate.id), sk=PROFILE, type="candidate", email_normalised=candidate.email
        )
        return [
            {"Put": {"Item": table.to_item(profile), "ConditionExpression": "attribute_not_exists(pk)"}},
            {
                "Put": {
                    "Item": table.to_item(
                        {
                            "pk": email_pk(candidate.email),
                            "sk": "EMAIL",
                            "type": "email",
                            "candidate_id": candidate.id,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            activity_put(candidate.id, "created", actor, now, {"source": candidate.source}),
            *extra,
        ]

    def intake(
        self,
        submission: PublicSubmission,
        *,
        source: str,
        job_id: str | None = None,
        resume_key_for: Any = None,
        more_operations: Any = None,
    ) -> tuple[str, bool]:
        """A career-site form: create the person, or merge into the one with this email.

        Two requests either way: a read of the email guard, then one transaction. Racing
        submissions of one email lose the guard's condition and retry as a merge, so a
        person is never created twice. A merge fills only missing fields, unions tags and
        sources and never overwrites what a recruiter entered. ``resume_key_for`` is called
        with the candidate id once it is known, and returns the stored resume's key;
        ``more_operations(candidate_id, now)`` adds writes to the same transaction (a job-alert
        request). Returns (candidate id, created).
        """
        for attempt in range(MAX_RACE_RETRIES):
            if attempt:
                # Racing writers on one person: back off with jitter, then look again.
                time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 5)))  # noqa: S311 - jitter, not crypto
            now = utcnow()
            existing_id = self.find_id_by_email(submission.email)
            candidate_id = existing_id or new_id()
            resume_key = resume_key_for(candidate_id) if resume_key_for else None
            extra = self._application_operations(candidate_id, submission, source, job_id, resume_key, now)
            if more_operations is not None:
                extra += more_operations(candidate_id, now)
            try:
                if existing_id:
                    table.transact(self._merge_operations(existing_id, submission, source, now, extra))
                    return existing_id, False
                candidate = Candidate(
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
                    consents=_consents(submission.marketing_consent or None, source, now),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
                table.transact(self._create_operations(candidate, "career-site", now, extra=extra))
                return candidate_id, True
            except table.TransactionCancelled:
                # Lost a race (the email was taken, a concurrent write conflicted, or the
                # person was erased meanwhile): look again.
                continue
        raise Conflict("This email is being changed by another request; try again.")

    def _merge_operations(
        self, candidate_id: str, sub: PublicSubmission, source: str, now: str, extra: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        sets = ["updated_at = :now"]
        values: dict[str, Any] = {":now": {"S": now}, ":one": {"N": "1"}, ":src": table.string_set([source])}
        names: dict[str, str] = {}
        filled = []
        for field in ("first_name", "last_name", "phone", "location", "linkedin_url"):
            val = getattr(sub, field)
            if val:
                names[f"#{field}"] = field
                sets.append(f"#{field} = if_not_exists(#{field}, :{field})")
                values[f":{field}"] = {"S": val}
                filled.append(field)
        adds = ["version :one", "sources :src"]
        if sub.tags:
            adds.append("tags :tags")
            values[":tags"] = table.string_set(sub.tags)
        if sub.marketing_consent:
            sets.append("consents.marketing = :consent")
            values[":consent"] = table.value(
                {"topic": "marketing", "granted": True, "at": now, "source": source}
            )
        update: dict[str, Any] = {
            "Key": table.key(candidate_pk(candidate_id), PROFILE),
            "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        detail: dict[str, Any] = {"source": source, "tags_added": sub.tags}
        if sub.marketing_consent:
            detail["marketing_consent"] = True
        return [
            {"Update": update},
            {
                "ConditionCheck": {
                    "Key": table.key(email_pk(sub.email), "EMAIL"),
                    "ConditionExpression": "candidate_id = :cid",
                    "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                }
            },
            activity_put(candidate_id, "merged", "career-site", now, detail),
            *extra,
        ]

    def _application_operations(
        self,
        candidate_id: str,
        sub: PublicSubmission,
        source: str,
        job_id: str | None,
        resume_key: str | None,
        now: str,
    ) -> list[dict[str, Any]]:
        if not job_id:
            return []
        utm = {
            k: v
            for k, v in {
                "utm_source": sub.utm_source,
                "utm_medium": sub.utm_medium,
                "utm_campaign": sub.utm_campaign,
                "referral_code": sub.referral_code,
            }.items()
            if v
        }
        application = Application(
            candidate_id=candidate_id,
            job_id=job_id,
            source=source,
            applied_at=now,
            resume_key=resume_key,
            utm=utm,
        )
        item = application.model_dump()
        item.update(
            pk=candidate_pk(candidate_id),
            sk=f"APP#{job_id}",
            type="application",
            gsi1pk=f"JOBAPPS#{job_id}",
            gsi1sk=f"{now}#{candidate_id}",
        )
        return [
            {"Put": {"Item": table.to_item(item)}},
            activity_put(
                candidate_id, "applied", "career-site", now, {"job_id": job_id, "resume": bool(resume_key)}
            ),
        ]

    # ------------------------------------------------------------------ updates

    def update(self, candidate_id: str, patch: CandidatePatch, *, actor: str) -> Candidate:
        current = self.get(candidate_id)
        if patch.version != current.version:
            raise VersionConflict(
                "Someone else changed this candidate; reload and try again.",
                current=current.model_dump(mode="json"),
            )
        changes = {k: v for k, v in patch.changes().items() if getattr(current, k, None) != v}
        consent_change = changes.pop("marketing_consent", None)
        now = utcnow()
        update = _profile_update(current, changes, consent_change, actor, now)
        if update is None:
            return current
        operations: list[dict[str, Any]] = [{"Update": update}]
        if "email" in changes:
            operations += [
                {
                    "Delete": {
                        "Key": table.key(email_pk(current.email), "EMAIL"),
                        "ConditionExpression": "candidate_id = :cid",
                        "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                    }
                },
                {
                    "Put": {
                        "Item": table.to_item(
                            {
                                "pk": email_pk(changes["email"]),
                                "sk": "EMAIL",
                                "type": "email",
                                "candidate_id": candidate_id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        operations.append(activity_put(candidate_id, "updated", actor, now, {"fields": sorted(changes)}))
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            if exc.failed(0):
                latest = self.get(candidate_id)
                raise VersionConflict(
                    "Someone else changed this candidate; reload and try again.",
                    current=latest.model_dump(mode="json"),
                ) from exc
            if "email" in changes and exc.failed(2):
                raise Conflict(
                    "Another candidate already has this email.",
                    field="email",
                    existing_id=self.find_id_by_email(changes["email"]),
                ) from exc
            raise Conflict("The candidate changed while saving; try again.") from exc
        return self.get(candidate_id)

    def add_note(self, candidate_id: str, note: NoteCreate, *, author: str) -> Note:
        now = utcnow()
        created = Note(id=new_id(), candidate_id=candidate_id, body=note.body, author=author, created_at=now)
        item = created.model_dump()
        item.update(pk=candidate_pk(candidate_id), sk=f"NOTE#{now}#{created.id}", type="note")
        table.transact(
            [
                {
                    "ConditionCheck": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"Item": table.to_item(item)}},
                activity_put(candidate_id, "note_added", author, now, {"note_id": created.id}),
            ],
            cancelled=NotFound(f"No candidate with id {candidate_id}."),
        )
        return created

    def set_pool_stage(self, candidate_id: str, pool_id: str, stage: str | None, *, actor: str) -> Candidate:
        """Add to a pool / move to a stage (``stage``), or remove from the pool (``None``)."""
        now = utcnow()
        values: dict[str, Any] = {":now": {"S": now}, ":one": {"N": "1"}}
        if stage is None:
            expression = "SET updated_at = :now REMOVE pools.#pool ADD version :one"
            condition = "attribute_exists(pools.#pool)"
            kind = "pool_removed"
        else:
            expression = "SET pools.#pool = :stage, updated_at = :now ADD version :one"
            values[":stage"] = {"S": stage}
            condition = "attribute_exists(pk)"
            kind = "pool_stage_set"
        missing = (
            f"Candidate {candidate_id} is not in pool {pool_id}."
            if stage is None
            else f"No candidate with id {candidate_id}."
        )
        table.transact(
            [
                {
                    "Update": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "UpdateExpression": expression,
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#pool": pool_id},
                        "ExpressionAttributeValues": values,
                    }
                },
                activity_put(candidate_id, kind, actor, now, {"pool_id": pool_id, "stage": stage}),
            ],
            cancelled=NotFound(missing),
        )
        return self.get(candidate_id)

    def set_consent(
        self, candidate_id: str, topic: str, granted: bool, *, source: str, actor: str
    ) -> Candidate:
        """Record a consent decision for one topic, with its time and source."""
        now = utcnow()
        consent = {"topic": topic, "granted": granted, "at": now, "source": source}
        table.transact(
            [
                {
                    "Update": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "UpdateExpression": (
                            "SET consents.#topic = :consent, updated_at = :now ADD version :one"
                        ),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#topic": topic},
                        "ExpressionAttributeValues": {
                            ":consent": table.value(consent),
                            ":now": {"S": now},
                            ":one": {"N": "1"},
                        },
                    }
                },
                activity_put(
                    candidate_id,
                    "consent_given" if granted else "unsubscribed",
                    actor,
                    now,
                    {"topic": topic, "source": source},
                ),
            ],
            cancelled=NotFound(f"No candidate with id {candidate_id}."),
        )
        return self.get(candidate_id)

    # ------------------------------------------------------------------ erasure

    def erase(self, candidate_id: str, *, actor: str) -> list[str]:
        """Remove every item that holds the person's data. Returns the resume keys to delete.

        Safe to repeat: a retried erasure finishes what an interrupted one began. The
        profile and its email guard go last, in one transaction, so a half-done erasure
        can always be found and finished.
        """
        current = self.get(candidate_id)
        pk = candidate_pk(candidate_id)
        keys: list[dict[str, Any]] = []
        resume_keys: list[str] = []
        for item in table.query_all(
            key_condition="pk = :pk", values={":pk": {"S": pk}}, projection="pk, sk, resume_key"
        ):
            if item["sk"]["S"] == PROFILE:
                continue
            if "resume_key" in item:
                resume_keys.append(item["resume_key"]["S"])
            keys.append({"pk": item["pk"], "sk": item["sk"]})
        table.batch_delete(keys)
        table.transact(
            [
                {"Delete": {"Key": table.key(pk, PROFILE)}},
                {
                    "Delete": {
                        "Key": table.key(email_pk(current.email), "EMAIL"),
                        "ConditionExpression": "attribute_not_exists(pk) OR candidate_id = :cid",
                        "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                    }
                },
                {
                    "Put": {
                        "Item": table.to_item(
                            {
                                "pk": f"ERASURE#{candidate_id}",
                                "sk": "ERASURE",
                                "type": "erasure",
                                "candidate_id": candidate_id,
                                "actor": actor,
                                "at": utcnow(),
                            }
                        )
                    }
                },
            ]
        )
        return resume_keys


def matches_filter(candidate: Candidate, flt: CandidateFilter) -> bool:
    """Whether a candidate passes the filters (as the list query's filter expression reads them:
    ``q`` is contained in the names and email)."""
    if flt.email and candidate.email != flt.email:
        return False
    if flt.pool and flt.pool not in candidate.pools:
        return False
    if flt.tag and flt.tag not in candidate.tags:
        return False
    if flt.source and flt.source not in (candidate.sources or [candidate.source]):
        return False
    if flt.q:
        search = " ".join(
            [search_term(candidate.first_name), search_term(candidate.last_name), candidate.email]
        )
        return search_term(flt.q) in search
    return True


def _consents(marketing: bool | None, source: str, now: str) -> dict[str, Any]:
    if marketing is None:
        return {}
    return {"marketing": {"topic": "marketing", "granted": marketing, "at": now, "source": source}}


def _profile_update(
    current: Candidate, changes: dict[str, Any], consent_change: bool | None, actor: str, now: str
) -> dict[str, Any] | None:
    """The conditional UpdateItem for a recruiter's patch (None when nothing changes).
    ``changes`` gains ``marketing_consent`` when the consent really changes."""
    sets = ["updated_at = :now", "version = :next"]
    removes: list[str] = []
    values: dict[str, Any] = {
        ":now": {"S": now},
        ":next": {"N": str(current.version + 1)},
        ":expected": {"N": str(current.version)},
    }
    names: dict[str, str] = {}
    for field, val in changes.items():
        names[f"#{field}"] = field
        if val is None or (field == "tags" and not val):
            removes.append(f"#{field}")
        elif field == "tags":
            sets.append(f"#{field} = :{field}")
            values[f":{field}"] = table.string_set(val)
        else:
            sets.append(f"#{field} = :{field}")
            values[f":{field}"] = table.value(val)
    if "email" in changes:
        sets.append("email_normalised = :email")
    if consent_change is not None and (
        current.consents.get("marketing") is None or current.consents["marketing"].granted != consent_change
    ):
        sets.append("consents.marketing = :consent")
        values[":consent"] = table.value(
            {"topic": "marketing", "granted": consent_change, "at": now, "source": f"recruiter:{actor}"}
        )
        changes["marketing_consent"] = consent_change
    if not changes:
        return None
    expression = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
    update: dict[str, Any] = {
        "Key": table.key(candidate_pk(current.id), PROFILE),
        "UpdateExpression": expression,
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": values,
    }
    if names:
        update["ExpressionAttributeNames"] = names
    return update
