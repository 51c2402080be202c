"""CandidateRepository: one person's items (profile, email guard, timeline, notes, applications)
and the writes that keep them together. It stores what ``crm.candidates.service`` decided (a new
person, a merge plan, a consent, a recruiter's changes); every write carries its condition, and a
refused one becomes a domain error or :class:`LostRace`. The keys are in ``keys``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from crm.candidates.models import (
    SOURCED,
    SUMMARY_FIELDS,
    Activity,
    Application,
    Candidate,
    CandidateFilter,
    CandidateSummary,
    Consent,
    Interaction,
    MergePlan,
    Note,
    NoteCreate,
    StageVisit,
    StoredResume,
)
from crm.candidates.repository.keys import (
    EMAIL_GUARD,
    INTERACTION_PREFIX,
    PROFILE,
    RESUME_PREFIX,
    application_sk,
    candidate_pk,
    email_pk,
    erasure_pk,
    interaction_sk,
    job_applications_pk,
    job_stage_pk,
    resume_sk,
)
from crm.candidates.repository.projections import (
    candidate_list_query,
    duplicate_keys,
    duplicate_query,
    is_listed_search_entry,
    list_attributes,
    q_matches,
    summary_passes,
)
from crm.candidates.repository.words import WordIndexRepository, is_free_text
from crm.platform import table
from crm.platform.errors import Conflict, NotFound, VersionConflict
from crm.platform.ids import new_id, utcnow

M = TypeVar("M", bound=BaseModel)
#: Raw transaction operations another slice adds to an intake (a job-alert request).
Operations = Sequence[dict[str, Any]]


class LostRace(Exception):
    """An intake's transaction was cancelled: the email was taken, a concurrent write conflicted,
    or the person was erased meanwhile. Nothing was written; the caller looks again."""


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


def _guard_item(email: str, candidate_id: str) -> dict[str, Any]:
    return table.to_item(
        {"pk": email_pk(email), "sk": EMAIL_GUARD, "type": "email", "candidate_id": candidate_id}
    )


class CandidateRepository:
    """Data access for the candidate aggregate. Every write carries its condition."""

    # ------------------------------------------------------------------ reads

    def get(self, candidate_id: str) -> Candidate:
        item = table.get_item(candidate_pk(candidate_id), PROFILE)
        if not item:
            raise NotFound(f"No candidate with id {candidate_id}.")
        return _candidate_from_item(item)

    def find_id_by_email(self, email: str) -> str | None:
        item = table.get_item(email_pk(email), EMAIL_GUARD)
        return str(item["candidate_id"]["S"]) if item else None

    def list_page(
        self, flt: CandidateFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[CandidateSummary], str | None]:
        """One page of a list. An exact email is answered from the email guard and the profile
        (strongly consistent: a person just created or signed up is found at once); every other
        list is read from the projections, which trail writes by a moment."""
        if flt.email:
            return self._by_email(flt, cursor), None
        if is_free_text(flt):
            found = WordIndexRepository().search(flt, limit=limit, cursor=cursor)
            return found.people, found.cursor
        query = candidate_list_query(flt)
        by_name = query["values"][":pk"]["S"] == "CANDSEARCH"
        out: list[CandidateSummary] = []
        next_cursor = cursor
        while True:
            items, next_cursor = table.query_page(
                limit=limit - len(out), cursor=next_cursor, index="gsi1", **query
            )
            for item in items:
                plain = table.from_item(item)
                # A name search can match the first name, last name and email of one person:
                # only the entry of the first of them that matches is listed, on whichever page.
                if by_name and not is_listed_search_entry(plain, str(flt.q)):
                    continue
                out.append(CandidateSummary.model_validate(plain))
            if len(out) >= limit or not next_cursor:
                return out, next_cursor

    # merges: possible duplicates and what a merge needs to know of a person
    def possible_duplicates(
        self, candidate: Candidate, *, limit: int = 20
    ) -> list[tuple[CandidateSummary, str]]:
        """Other people who share the person's phone, LinkedIn URL or name and place (from the
        ``LIST#DUP#`` projections, one gsi1 Query each), with the first reason each matched."""
        found: dict[str, tuple[CandidateSummary, str]] = {}
        for kind, value in duplicate_keys(candidate.model_dump()).items():
            query = duplicate_query(kind, value)
            items, _ = table.query_page(limit=limit, cursor=None, index="gsi1", **query)
            for item in items:
                plain = table.from_item(item)
                if plain.get("id") != candidate.id and plain.get("id") not in found:
                    found[str(plain["id"])] = (CandidateSummary.model_validate(plain), kind)
        return list(found.values())[:limit]

    def was_erased(self, candidate_id: str) -> bool:
        return table.get_item(erasure_pk(candidate_id), "ERASURE") is not None

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

    def _audience_query(self, flt: CandidateFilter, more_tags: Sequence[str]) -> dict[str, Any]:
        query = candidate_list_query(flt)
        filters = [query["filter_expression"]] if "filter_expression" in query else []
        for i, tag in enumerate(more_tags):
            filters.append(f"contains(tags, :xtag{i})")
            query["values"][f":xtag{i}"] = {"S": tag}
        params: dict[str, Any] = {
            "TableName": table.table_name(),
            "IndexName": "gsi1",
            "KeyConditionExpression": query["key_condition"],
            "ExpressionAttributeValues": query["values"],
            "ProjectionExpression": "id",
        }
        if filters:
            params["FilterExpression"] = " AND ".join(filters)
        if query.get("names"):
            params["ExpressionAttributeNames"] = query["names"]
        return params

    def matching_ids_page(
        self, flt: CandidateFilter, *, more_tags: Sequence[str] = (), cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """Ids of one Query page of the candidates a filter (and every one of ``more_tags``)
        matches, read from the projections (only ids: a page of 500 is a few kilobytes), and
        the cursor of the next page (``None``: no more)."""
        if is_free_text(flt):
            found = WordIndexRepository().search(flt, limit=limit, cursor=cursor)
            ids = [p.id for p in found.people if all(t in p.tags for t in more_tags)]
            return ids, found.cursor
        params = self._audience_query(flt, more_tags)
        params["Limit"] = limit
        start = table.decode_cursor(cursor, {"pk", "sk", "gsi1pk", "gsi1sk"})
        if start:
            params["ExclusiveStartKey"] = start
        response = table.query(**params)
        ids = [item["id"]["S"] for item in response.get("Items", [])]
        return ids, table.encode_cursor(response.get("LastEvaluatedKey"))

    def count_matching(self, flt: CandidateFilter, *, more_tags: Sequence[str] = ()) -> int:
        """How many candidates :meth:`matching_ids_page` would list (a count-only Query, page by page)."""
        params = self._audience_query(flt, more_tags)
        params.pop("ProjectionExpression")
        params["Select"] = "COUNT"
        total = 0
        while True:
            response = table.query(**params)
            total += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                return total
            params["ExclusiveStartKey"] = last

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

    def resumes(self, candidate_id: str) -> list[StoredResume]:
        """Every resume kept under the person, newest first (a person has a few)."""
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": candidate_pk(candidate_id)}, ":prefix": {"S": RESUME_PREFIX}},
        )
        resumes = [StoredResume.model_validate(table.from_item(i)) for i in items]
        return sorted(resumes, key=lambda r: (r.uploaded_at, r.id), reverse=True)

    def interactions(
        self, candidate_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Interaction], str | None]:
        """One page of the person's calls and meetings, the latest to happen first."""
        return self._child_page(
            candidate_id, INTERACTION_PREFIX, Interaction, limit=limit, cursor=cursor, newest_first=True
        )

    def applications(self, candidate_id: str) -> list[Application]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": candidate_pk(candidate_id)}, ":prefix": {"S": "APP#"}},
        )
        return [Application.model_validate(table.from_item(i)) for i in items]

    def applications_for_job(
        self, job_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        """One page of a job's applications, newest first (index ``gsi1``)."""
        items, next_cursor = table.query_page(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": job_applications_pk(job_id)}},
            index="gsi1",
            limit=limit,
            cursor=cursor,
            forward=False,
        )
        return [Application.model_validate(table.from_item(i)) for i in items], next_cursor

    def get_many(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        """Profiles by id (strongly consistent, 100 a request); ids with no profile are absent."""
        found = table.batch_get([(candidate_pk(c), PROFILE) for c in candidate_ids])
        return {
            c: _candidate_from_item(found[(candidate_pk(c), PROFILE)])
            for c in candidate_ids
            if (candidate_pk(c), PROFILE) in found
        }

    # ------------------------------------------------------------------ creation and intake

    def insert(self, candidate: Candidate, *, actor: str) -> Candidate:
        """Store a new person. A known email is a ``Conflict`` on ``email`` naming the existing id."""
        try:
            table.transact(self._create_operations(candidate, actor, extra=[]))
        except table.TransactionCancelled as exc:
            existing = self.find_id_by_email(candidate.email)
            raise Conflict(
                "A candidate with this email already exists.", field="email", existing_id=existing
            ) from exc
        return candidate

    def _create_operations(
        self, candidate: Candidate, actor: str, *, extra: Operations
    ) -> list[dict[str, Any]]:
        profile = candidate.model_dump()
        for touch in ("first_touch", "last_touch"):
            value = getattr(candidate, touch)
            profile[touch] = value.model_dump(exclude_none=True) if value is not None else None
        profile.update(
            pk=candidate_pk(candidate.id), sk=PROFILE, type="candidate", email_normalised=candidate.email
        )
        return [
            {"Put": {"Item": table.to_item(profile), "ConditionExpression": "attribute_not_exists(pk)"}},
            {
                "Put": {
                    "Item": _guard_item(candidate.email, candidate.id),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            activity_put(candidate.id, "created", actor, candidate.created_at, {"source": candidate.source}),
            *extra,
        ]

    def create_from_intake(
        self,
        candidate: Candidate,
        *,
        actor: str,
        application: Application | None = None,
        resume: StoredResume | None = None,
        more: Operations = (),
    ) -> None:
        """A form's new person, with their application, resume and ``more`` writes, in one
        transaction conditioned on the email being free (``LostRace`` when it is not)."""
        extra = [*self._application_operations(application, actor), *_resume_operations(resume), *more]
        try:
            table.transact(self._create_operations(candidate, actor, extra=extra))
        except table.TransactionCancelled as exc:
            raise LostRace from exc

    def merge_intake(
        self,
        candidate_id: str,
        email: str,
        plan: MergePlan,
        *,
        actor: str,
        now: str,
        application: Application | None = None,
        resume: StoredResume | None = None,
        more: Operations = (),
    ) -> None:
        """Apply a form's merge plan to the person ``email`` names, in one transaction conditioned
        on the guard still naming ``candidate_id`` and the profile existing (``LostRace`` else)."""
        sets = ["updated_at = :now"]
        values: dict[str, Any] = {
            ":now": {"S": now},
            ":one": {"N": "1"},
            ":src": table.string_set(plan.sources),
        }
        names: dict[str, str] = {}
        for field, val in plan.fill.items():
            names[f"#{field}"] = field
            sets.append(f"#{field} = if_not_exists(#{field}, :{field})")
            values[f":{field}"] = {"S": val}
        adds = ["version :one", "sources :src"]
        if plan.tags:
            adds.append("tags :tags")
            values[":tags"] = table.string_set(plan.tags)
        if plan.consent is not None:
            sets.append(f"consents.{plan.consent.topic} = :consent")
            values[":consent"] = table.value(plan.consent.model_dump())
        if plan.touch is not None:
            sets.append("last_touch = :touch")
            values[":touch"] = table.value(plan.touch.model_dump(exclude_none=True))
        update: dict[str, Any] = {
            "Key": table.key(candidate_pk(candidate_id), PROFILE),
            "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        operations = [
            {"Update": update},
            {
                "ConditionCheck": {
                    "Key": table.key(email_pk(email), EMAIL_GUARD),
                    "ConditionExpression": "candidate_id = :cid",
                    "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                }
            },
            activity_put(candidate_id, "merged", actor, now, plan.detail),
            *self._application_operations(application, actor),
            *_resume_operations(resume),
            *more,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise LostRace from exc

    def _application_operations(self, application: Application | None, actor: str) -> list[dict[str, Any]]:
        """An application's writes: a new one starts at its stage; applying again to the same job
        (or a recruiter's sourcing followed by the person's own application) keeps where it is in
        the pipeline and its first source, and takes the newest resume and campaign fields."""
        if application is None:
            return []
        candidate_id, job_id, now = application.candidate_id, application.job_id, application.applied_at
        first_visit = StageVisit(stage=application.stage, entered_at=now, by=actor)
        kept_first = {
            "type": "application",
            "candidate_id": candidate_id,
            "job_id": job_id,
            "source": application.source,
            "applied_at": now,
            "stage": application.stage,
            "version": 1,
            "stage_entered_at": now,
            "moved_by": actor,
            "history": [first_visit.model_dump(exclude_none=True)],
            "gsi1pk": job_applications_pk(job_id),
            "gsi1sk": f"{now}#{candidate_id}",
            "gsi2pk": job_stage_pk(job_id, application.stage),
            "gsi2sk": f"{now}#{candidate_id}",
        }
        latest: dict[str, Any] = {"utm": application.utm}
        if application.source != SOURCED:
            latest["last_applied_at"] = now
        if application.resume_key:
            latest["resume_key"] = application.resume_key
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for i, (name, value) in enumerate(kept_first.items()):
            names[f"#k{i}"], values[f":k{i}"] = name, table.value(value)
            sets.append(f"#k{i} = if_not_exists(#k{i}, :k{i})")
        for i, (name, value) in enumerate(latest.items()):
            names[f"#l{i}"], values[f":l{i}"] = name, table.value(value)
            sets.append(f"#l{i} = :l{i}")
        return [
            {
                "Update": {
                    "Key": table.key(candidate_pk(candidate_id), application_sk(job_id)),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            activity_put(
                candidate_id,
                "sourced" if application.source == SOURCED else "applied",
                actor,
                now,
                {"job_id": job_id, "resume": bool(application.resume_key)},
            ),
        ]

    # ------------------------------------------------------------------ applications

    def get_application(self, candidate_id: str, job_id: str) -> Application | None:
        item = table.get_item(candidate_pk(candidate_id), application_sk(job_id))
        return Application.model_validate(table.from_item(item)) if item else None

    def applications_in_stage(
        self, job_id: str, stage: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Application], str | None]:
        """One page of a job's applications at one stage, longest there first (index ``gsi2``)."""
        items, next_cursor = table.query_page(
            key_condition="gsi2pk = :pk",
            values={":pk": {"S": job_stage_pk(job_id, stage)}},
            index="gsi2",
            limit=limit,
            cursor=cursor,
            forward=True,
        )
        return [Application.model_validate(table.from_item(i)) for i in items], next_cursor

    def add_application(self, application: Application, *, actor: str) -> None:
        """A recruiter puts a known person into a job's pipeline; ``Conflict`` when they are in it
        already, ``NotFound`` when the person is not there (erased meanwhile)."""
        operations = self._application_operations(application, actor)
        operations[0]["Update"]["ConditionExpression"] = "attribute_not_exists(sk)"
        operations.append(
            {
                "ConditionCheck": {
                    "Key": table.key(candidate_pk(application.candidate_id), PROFILE),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            if exc.failed(0):
                raise Conflict("This person is in the job's pipeline already.") from exc
            raise NotFound(f"No candidate with id {application.candidate_id}.") from exc

    def activity_operations(
        self, candidate_id: str, kind: str, *, actor: str, at: str, detail: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A timeline entry for another slice's transaction: a check that the person exists, then
        the entry (the caller tells the check's failure apart by its index in the transaction)."""
        return [
            {
                "ConditionCheck": {
                    "Key": table.key(candidate_pk(candidate_id), PROFILE),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            activity_put(candidate_id, kind, actor, at, detail),
        ]

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
        """The writes of one feedback that are this slice's, for the hiring slice's transaction:
        the application's counts (it must exist) and the timeline entry."""
        return [
            {
                "Update": {
                    "Key": table.key(candidate_pk(candidate_id), application_sk(job_id)),
                    "UpdateExpression": (
                        "SET feedback_count = if_not_exists(feedback_count, :zero) + :one, "
                        "#r = if_not_exists(#r, :zero) + :one"
                    ),
                    "ConditionExpression": "attribute_exists(sk)",
                    "ExpressionAttributeNames": {"#r": f"feedback_{recommendation}"},
                    "ExpressionAttributeValues": {":zero": table.value(0), ":one": table.value(1)},
                }
            },
            activity_put(candidate_id, "feedback_given", actor, at, detail),
        ]

    def move_application(
        self, moved: Application, *, seen_version: int, actor: str, detail: dict[str, Any]
    ) -> Application:
        """Store ``moved`` (its new stage, history and version) over the version a client read, with
        a ``stage_changed`` entry on the timeline, in one transaction. A changed or gone
        application is a ``VersionConflict``."""
        item = moved.model_dump(exclude={"id", "seconds_in_stages"})
        values = {
            ":stage": moved.stage,
            ":version": moved.version,
            ":seen": seen_version,
            ":entered": moved.stage_entered_at,
            ":by": moved.moved_by,
            ":history": item["history"],
            ":g2pk": job_stage_pk(moved.job_id, moved.stage),
            ":g2sk": f"{moved.stage_entered_at}#{moved.candidate_id}",
        }
        expression = (
            "SET stage = :stage, version = :version, stage_entered_at = :entered, moved_by = :by, "
            "history = :history, gsi2pk = :g2pk, gsi2sk = :g2sk"
        )
        if moved.reason is not None:
            expression += ", reason = :reason"
            values[":reason"] = moved.reason
        else:
            expression += " REMOVE reason"
        operations = [
            {
                "Update": {
                    "Key": table.key(candidate_pk(moved.candidate_id), application_sk(moved.job_id)),
                    "UpdateExpression": expression,
                    "ConditionExpression": (
                        "version = :seen OR (attribute_not_exists(version) AND :seen = :one)"
                    ),
                    "ExpressionAttributeValues": {
                        **{k: table.value(v) for k, v in values.items()},
                        ":one": table.value(1),
                    },
                }
            },
            activity_put(moved.candidate_id, "stage_changed", actor, moved.stage_entered_at or "", detail),
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise VersionConflict("The application was moved meanwhile: reload it and try again.") from exc
        return moved

    def save_application_fields(
        self, application: Application, values: dict[str, Any], *, seen_version: int, actor: str, now: str
    ) -> Application:
        """Store an application's custom-field ``values`` over the version read (its version goes up),
        with an ``application_updated`` entry on the timeline; moved on or gone: ``VersionConflict``."""
        stored = application.model_copy(update={"custom_fields": values, "version": seen_version + 1})
        operations = [
            {
                "Update": {
                    "Key": table.key(
                        candidate_pk(application.candidate_id), application_sk(application.job_id)
                    ),
                    "UpdateExpression": "SET custom_fields = :cf, version = :next",
                    "ConditionExpression": (
                        "version = :seen OR (attribute_not_exists(version) AND :seen = :one)"
                    ),
                    "ExpressionAttributeValues": {
                        ":cf": table.value(values),
                        ":next": table.value(seen_version + 1),
                        ":seen": table.value(seen_version),
                        ":one": table.value(1),
                    },
                }
            },
            activity_put(
                application.candidate_id,
                "application_updated",
                actor,
                now,
                {"job_id": application.job_id, "fields": sorted(values)},
            ),
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            raise VersionConflict("The application changed meanwhile: reload it and try again.") from exc
        return stored

    # ------------------------------------------------------------------ updates

    def save_changes(
        self,
        current: Candidate,
        changes: dict[str, Any],
        consent: Consent | None,
        *,
        actor: str,
        now: str,
    ) -> Candidate:
        """Write a recruiter's ``changes`` (field -> new value; ``None`` or no tags clears) and a
        consent decision, conditioned on the version ``current`` was read at. A moved-on record
        is a ``VersionConflict``; an email another person has is a ``Conflict`` on ``email``."""
        candidate_id = current.id
        operations: list[dict[str, Any]] = [{"Update": _profile_update(current, changes, consent, now)}]
        if "email" in changes:
            operations += [
                {
                    "Delete": {
                        "Key": table.key(email_pk(current.email), EMAIL_GUARD),
                        "ConditionExpression": "candidate_id = :cid",
                        "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                    }
                },
                {
                    "Put": {
                        "Item": _guard_item(changes["email"], candidate_id),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        fields = sorted([*changes, *(["marketing_consent"] if consent is not None else [])])
        operations.append(
            activity_put(
                candidate_id,
                "updated",
                actor,
                now,
                {"fields": fields, "changes": _changes(current, changes, consent)},
            )
        )
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

    def add_resume(self, resume: StoredResume, *, actor: str) -> None:
        """Keep a resume a recruiter uploaded, with a timeline entry; ``NotFound`` for nobody."""
        self._with_person(
            resume.candidate_id,
            [
                *_resume_operations(resume),
                activity_put(
                    resume.candidate_id,
                    "resume_added",
                    actor,
                    resume.uploaded_at,
                    {"resume_id": resume.id, "source": resume.source},
                ),
            ],
        )

    def add_interaction(self, interaction: Interaction) -> None:
        """Keep a logged call or meeting, with its timeline entry; ``NotFound`` for nobody."""
        item = interaction.model_dump()
        item.update(
            pk=candidate_pk(interaction.candidate_id),
            sk=interaction_sk(interaction.happened_at, interaction.id),
            type="interaction",
        )
        detail: dict[str, Any] = {
            "interaction_id": interaction.id,
            "interaction": interaction.kind,
            "outcome": interaction.outcome,
            "happened_at": interaction.happened_at,
        }
        if interaction.duration_minutes is not None:
            detail["duration_minutes"] = interaction.duration_minutes
        self._with_person(
            interaction.candidate_id,
            [
                {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}},
                activity_put(
                    interaction.candidate_id,
                    "interaction_logged",
                    interaction.author,
                    interaction.created_at,
                    detail,
                ),
            ],
        )

    def _with_person(self, candidate_id: str, operations: list[dict[str, Any]]) -> None:
        table.transact(
            [
                {
                    "ConditionCheck": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                *operations,
            ],
            cancelled=NotFound(f"No candidate with id {candidate_id}."),
        )

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
        """A timeline entry and another slice's writes under the person (``along_with``), in one
        transaction that needs the person to exist (``NotFound`` otherwise: nothing written)."""
        table.transact(
            [
                {
                    "ConditionCheck": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                activity_put(candidate_id, kind, actor, at, detail),
                *along_with,
            ],
            cancelled=NotFound(f"No candidate with id {candidate_id}."),
        )

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

    def change_tags(
        self,
        candidate_id: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        actor: str,
        detail: dict[str, Any],
    ) -> bool:
        """Add ``add`` and take away ``remove`` from the person's tags, with a timeline entry, only
        when that changes something (so a retried change records nothing twice): False when it
        would not (they had every tag to add, none to remove). ``NotFound`` for nobody."""
        now = utcnow()
        values: dict[str, Any] = {":now": {"S": now}, ":one": {"N": "1"}}
        tags = list(dict.fromkeys(add or remove))
        names = {f":t{i}": {"S": tag} for i, tag in enumerate(tags)}
        values.update(names)
        if add:
            values[":tags"] = table.string_set(tags)
            expression = "SET updated_at = :now ADD tags :tags, version :one"
            condition = (
                "attribute_exists(pk) AND NOT (" + " AND ".join(f"contains(tags, {n})" for n in names) + ")"
            )
            kind = "tags_added"
        else:
            values[":tags"] = table.string_set(tags)
            expression = "SET updated_at = :now DELETE tags :tags ADD version :one"
            condition = (
                "attribute_exists(pk) AND (" + " OR ".join(f"contains(tags, {n})" for n in names) + ")"
            )
            kind = "tags_removed"
        try:
            table.transact(
                [
                    {
                        "Update": {
                            "Key": table.key(candidate_pk(candidate_id), PROFILE),
                            "UpdateExpression": expression,
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    activity_put(candidate_id, kind, actor, now, {"tags": tags, **detail}),
                ]
            )
        except table.TransactionCancelled:
            if table.get_item(candidate_pk(candidate_id), PROFILE) is None:
                raise NotFound(f"No candidate with id {candidate_id}.") from None
            return False
        return True

    def record_consent(self, candidate_id: str, consent: Consent, *, activity: str, actor: str) -> Candidate:
        """Store a consent decision for its topic, with a timeline entry of kind ``activity``."""
        table.transact(
            [
                {
                    "Update": {
                        "Key": table.key(candidate_pk(candidate_id), PROFILE),
                        "UpdateExpression": (
                            "SET consents.#topic = :consent, updated_at = :now ADD version :one"
                        ),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#topic": consent.topic},
                        "ExpressionAttributeValues": {
                            ":consent": table.value(consent.model_dump()),
                            ":now": {"S": consent.at},
                            ":one": {"N": "1"},
                        },
                    }
                },
                activity_put(
                    candidate_id,
                    activity,
                    actor,
                    consent.at,
                    {"topic": consent.topic, "source": consent.source},
                ),
            ],
            cancelled=NotFound(f"No candidate with id {candidate_id}."),
        )
        return self.get(candidate_id)

    # ------------------------------------------------------------------ erasure

    def erase(self, candidate_id: str, *, actor: str) -> list[str]:
        """Remove every item in the person's partition, then the profile and its email guard.
        Returns the resume keys the items named.

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
        # merges: the guards of the addresses of people merged into this one go with it
        other_guards: list[dict[str, Any]] = [
            {
                "Delete": {
                    "Key": table.key(email_pk(other), EMAIL_GUARD),
                    "ConditionExpression": "attribute_not_exists(pk) OR candidate_id = :cid",
                    "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                }
            }
            for other in current.other_emails
            if other != current.email
        ]
        table.transact(
            [
                *other_guards,
                {"Delete": {"Key": table.key(pk, PROFILE)}},
                {
                    "Delete": {
                        "Key": table.key(email_pk(current.email), EMAIL_GUARD),
                        "ConditionExpression": "attribute_not_exists(pk) OR candidate_id = :cid",
                        "ExpressionAttributeValues": {":cid": {"S": candidate_id}},
                    }
                },
                {
                    "Put": {
                        "Item": table.to_item(
                            {
                                "pk": erasure_pk(candidate_id),
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


def _resume_operations(resume: StoredResume | None) -> list[dict[str, Any]]:
    """The write of one resume kept under its person (for an intake's or an upload's transaction)."""
    if resume is None:
        return []
    item = resume.model_dump(exclude_none=True)
    item.update(
        pk=candidate_pk(resume.candidate_id), sk=resume_sk(resume.uploaded_at, resume.id), type="resume"
    )
    return [{"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}]


def matches_filter(candidate: Candidate, flt: CandidateFilter) -> bool:
    """Whether a candidate passes the filters (as the list query's filter expression reads them:
    every word of ``q`` starts a term: a word of a name, the email, a tag or the location)."""
    person = candidate.model_dump()
    if not summary_passes({**person, **list_attributes(person)}, flt):
        return False
    if flt.q:
        return q_matches(flt.q, person)
    return True


def _changes(current: Candidate, changes: dict[str, Any], consent: Consent | None) -> dict[str, Any]:
    """Old and new value of each changed field, for the timeline (it is erased with the person)."""
    out: dict[str, Any] = {
        name: {"from": getattr(current, name, None), "to": value} for name, value in changes.items()
    }
    if consent is not None:
        before = current.consents.get(consent.topic)
        out["marketing_consent"] = {"from": before.granted if before else None, "to": consent.granted}
    return out


def _profile_update(
    current: Candidate, changes: dict[str, Any], consent: Consent | None, now: str
) -> dict[str, Any]:
    """The UpdateItem for a recruiter's changes, conditioned on the version ``current`` was read at."""
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
    if consent is not None:
        sets.append(f"consents.{consent.topic} = :consent")
        values[":consent"] = table.value(consent.model_dump())
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
