"""Merging two people into one, and undoing it (docs/decisions.md, decision 46).

A merge reads both partitions whole, decides the survivor's new profile (a choice per field; tags,
sources, pools and other emails united; per consent topic the stricter: a withdrawal beats a
grant), and moves every other item of the merged person to the survivor with the merged id
replaced by the survivor's (keys, index keys, attributes). Items the survivor already has one of
(the same job's application, the same sequence, event or alert subscription) stay the
survivor's; list projections and the word index are rebuilt by the stream, not moved.

Everything needed to undo it is written first: the before-image of every item touched (both
partitions and the email guards) and every after-image, as one JSON object in the resume bucket
under ``merges/`` (31-day lifecycle), named by the merge record ``MERGE#<id>``. Then:

1. the record is put (state ``merging``), on condition that both versions are as previewed;
2. the moved items are put under the survivor (marked), the merged person's items marked;
3. one transaction commits: the survivor's profile (``version`` as read), the merged profile
   (``version`` as read), the email guards, the redirect ``MERGED#<id>``, the timeline entry and
   the record's state ``merged``. When it is refused (someone edited meanwhile), step 2 is rolled
   back and the answer is a 409;
4. the merged person's items are deleted and the marks taken off (repeatable: a retry, a read or
   an undo finishes it).

An undo (within 30 days) restores every before-image exactly, on condition that nothing the
merge wrote has changed since (the survivor's profile, the moved items); items added to the
survivor after the merge stay with the survivor.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from crm.candidates.service import CandidateService, email_guard_key, is_derived_item
from crm.mailing.suppression import SuppressionList
from crm.merges.models import (
    CHOSEN_FIELDS,
    UNDO_DAYS,
    FieldValues,
    Merge,
    MergePair,
    MergePreview,
    MergeRequest,
    Moves,
    Side,
)
from crm.merges.repository import MARKER, Key, MergeRepository, Raw, key_of
from crm.platform import clock, table
from crm.platform.config import get_settings
from crm.platform.errors import Conflict, NotFound, VersionConflict
from crm.platform.fields import ID
from crm.platform.ids import iso
from crm.platform.keys import person_partition
from crm.platform.objects import ObjectStore

PROFILE = "PROFILE"
SNAPSHOT_PREFIX = "merges/"
MAX_SNAPSHOT_BYTES = 200 * 1024 * 1024


# ---------------------------------------------------------------------------------- pure parts


def substitute(value: Any, old: str, new: str) -> Any:
    """A stored value (DynamoDB form) with every occurrence of the id ``old`` replaced by ``new``."""
    if isinstance(value, dict):
        if "S" in value:
            return {"S": value["S"].replace(old, new)}
        if "SS" in value:
            return {"SS": [s.replace(old, new) for s in value["SS"]]}
        if "M" in value:
            return {"M": {k.replace(old, new): substitute(v, old, new) for k, v in value["M"].items()}}
        if "L" in value:
            return {"L": [substitute(v, old, new) for v in value["L"]]}
        return dict(value)
    return value


def rehome(item: Raw, old: str, new: str) -> Raw:
    return {name: substitute(value, old, new) for name, value in item.items()}


def kind_of(item: Raw) -> str:
    kind = item.get("type", {}).get("S")
    return str(kind) if kind else str(item["sk"]["S"]).split("#", 1)[0].lower()


def _text(item: Raw, name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if value and "S" in value else None


def _granted(consent: Raw) -> bool:
    return bool(consent.get("M", {}).get("granted", {}).get("BOOL"))


def stricter(a: Raw | None, b: Raw | None) -> Raw | None:
    """The stricter of two stored consents of one topic: a withdrawal beats a grant; of two
    alike, the later decision. None (no decision) yields to either."""
    if a is None or b is None:
        return a or b
    if _granted(a) != _granted(b):
        return b if _granted(a) else a
    at_a = a.get("M", {}).get("at", {}).get("S", "")
    at_b = b.get("M", {}).get("at", {}).get("S", "")
    return a if at_a >= at_b else b


def default_side(field: str, survivor: Raw, merged: Raw) -> Side:
    return "merged" if field not in survivor and field in merged else "survivor"


def _string_list(item: Raw, name: str) -> list[str]:
    value = item.get(name) or {}
    if "SS" in value:
        return sorted(value["SS"])
    return [str(v["S"]) for v in value.get("L", []) if "S" in v]


def _chosen(out: Raw, survivor: Raw, merged: Raw, choices: dict[str, Side]) -> None:
    for field in CHOSEN_FIELDS:
        if (choices.get(field) or default_side(field, survivor, merged)) != "merged":
            continue
        if field in merged:
            out[field] = merged[field]
        else:
            out.pop(field, None)
        if field == "email" and "email_normalised" in merged:
            out["email_normalised"] = merged["email_normalised"]


def _consents(survivor: Raw, merged: Raw) -> dict[str, Any]:
    """Per topic, the stricter of the two people's consents."""
    s_consents = survivor.get("consents", {}).get("M", {})
    m_consents = merged.get("consents", {}).get("M", {})
    consents: dict[str, Any] = {}
    for topic in sorted(set(s_consents) | set(m_consents)):
        chosen = stricter(s_consents.get(topic), m_consents.get(topic))
        if chosen is not None:
            consents[topic] = chosen
    return consents


def _other_emails(primary: str, survivor: Raw, merged: Raw) -> list[str]:
    others: list[str] = []
    for email in [
        _text(survivor, "email"),
        _text(merged, "email"),
        *_string_list(survivor, "other_emails"),
        *_string_list(merged, "other_emails"),
    ]:
        if email and email.lower() != primary.lower() and email.lower() not in {o.lower() for o in others}:
            others.append(email)
    return others


def merged_profile(
    survivor: Raw, merged: Raw, choices: dict[str, Side], *, now: str
) -> tuple[Raw, list[str]]:
    """The survivor's profile after the merge (stored form), and its other emails."""
    out = dict(survivor)
    _chosen(out, survivor, merged, choices)
    for name in ("tags", "sources"):
        union = sorted(set(_string_list(survivor, name)) | set(_string_list(merged, name)))
        if union:
            out[name] = {"SS": union}
    pools = {**merged.get("pools", {}).get("M", {}), **survivor.get("pools", {}).get("M", {})}
    if pools or "pools" in survivor:
        out["pools"] = {"M": pools}
    consents = _consents(survivor, merged)
    if consents or "consents" in survivor:
        out["consents"] = {"M": consents}
    if "first_touch" not in out and "first_touch" in merged:
        out["first_touch"] = merged["first_touch"]
    touches = [t for t in (survivor.get("last_touch"), merged.get("last_touch")) if t]
    if touches:
        out["last_touch"] = max(touches, key=lambda t: t.get("M", {}).get("at", {}).get("S", ""))
    others = _other_emails(_text(out, "email") or "", survivor, merged)
    out["other_emails"] = {"L": [{"S": e} for e in others]}
    out["version"] = {"N": str(int(survivor["version"]["N"]) + 1)}
    out["updated_at"] = {"S": now}
    out.pop(MARKER, None)
    return out, others


class Plan:
    """What one merge writes, worked out from the items as read (nothing written yet)."""

    def __init__(
        self,
        survivor_items: list[Raw],
        merged_items: list[Raw],
        guards: list[Raw],
        choices: dict[str, Side],
        *,
        now: str,
    ) -> None:
        self.survivor_items, self.merged_items, self.guards = survivor_items, merged_items, guards
        s_profile = next(i for i in survivor_items if i["sk"]["S"] == PROFILE)
        m_profile = next(i for i in merged_items if i["sk"]["S"] == PROFILE)
        self.survivor_profile, self.merged_profile = s_profile, m_profile
        self.survivor_id, self.merged_id = str(s_profile["id"]["S"]), str(m_profile["id"]["S"])
        self.profile, self.other_emails = merged_profile(s_profile, m_profile, choices, now=now)
        self.choices = {f: choices.get(f) or default_side(f, s_profile, m_profile) for f in CHOSEN_FIELDS}
        taken = {key_of(i) for i in survivor_items}
        self.moved: list[Raw] = []  # the items as they will be under the survivor
        self.old_keys: list[Key] = []  # every item of the merged person's (deleted at the end)
        moved, dropped = Counter[str](), Counter[str]()
        for item in merged_items:
            sk = str(item["sk"]["S"])
            if sk == PROFILE:
                continue
            self.old_keys.append(key_of(item))
            if is_derived_item(sk):
                continue
            new = rehome(item, self.merged_id, self.survivor_id)
            new.pop(MARKER, None)
            if key_of(new) in taken:
                dropped[kind_of(item)] += 1
                continue
            moved[kind_of(item)] += 1
            self.moved.append(new)
        self.moves = Moves(moved=dict(sorted(moved.items())), dropped=dict(sorted(dropped.items())))
        self.new_guards = [
            {**g, "candidate_id": {"S": self.survivor_id}}
            for g in guards
            if _text(g, "candidate_id") == self.merged_id
        ]

    def field_values(self) -> list[FieldValues]:
        return [
            FieldValues(
                field=f,
                survivor=table.decode(self.survivor_profile[f]) if f in self.survivor_profile else None,
                merged=table.decode(self.merged_profile[f]) if f in self.merged_profile else None,
                default=default_side(f, self.survivor_profile, self.merged_profile),
            )
            for f in CHOSEN_FIELDS
        ]


def merge_id_for(request: MergeRequest, generation: int = 0) -> str:
    """The same request (people, versions read) names the same merge: a retry finds it. An undo
    restores the versions, so a merge of the same two again is the next ``generation``."""
    text = f"{request.survivor_id}|{request.merged_id}|{request.survivor_version}|{request.merged_version}"
    if generation:
        text += f"|{generation}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def is_merge_write(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether a table change is a merge's (or an undo's) move of an item: the stream then runs
    no reactions and publishes no events for it (the merge publishes ``candidate.merged``)."""
    return MARKER in (old or {}) or MARKER in (new or {})


# ---------------------------------------------------------------------------------- the service


class MergeService:
    def __init__(
        self,
        repository: MergeRepository | None = None,
        *,
        candidates: CandidateService | None = None,
        snapshots: ObjectStore | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.repository = repository or MergeRepository()
        self.candidates = candidates or CandidateService()
        self._snapshots = snapshots
        self.now = now

    @property
    def snapshots(self) -> ObjectStore:
        if self._snapshots is None:
            self._snapshots = ObjectStore(get_settings().resume_bucket)
        return self._snapshots

    # ------------------------------------------------------------------ reads

    def duplicates(self, candidate_id: str) -> list[dict[str, Any]]:
        return [
            {"candidate": summary.model_dump(mode="json"), "reason": reason}
            for summary, reason in self.candidates.possible_duplicates(candidate_id)
        ]

    def get(self, merge_id: str) -> Merge:
        record = self.repository.get(merge_id) if _is_id(merge_id) else None
        if record is None or record.get("state") == "merging":
            raise NotFound(f"No merge with id {merge_id}.")
        if record["state"] == "merged" and not record.get("cleaned"):
            self._finish(record)
            record["cleaned"] = True
        return self._answer(record)

    def undoable_for(self, survivor_id: str) -> Merge | None:
        """The survivor's latest merge that can still be undone (the profile's notice)."""
        for record in self.repository.of_survivor(survivor_id, limit=5):
            merge = self._answer(record)
            if merge.can_undo:
                return merge
        return None

    def _answer(self, record: dict[str, Any]) -> Merge:
        merge = Merge.model_validate(record)
        merge.can_undo = merge.state == "merged" and iso(self.now()) <= merge.undo_until
        return merge

    def _person(self, candidate_id: str, field: str) -> list[Raw]:
        redirect = self.repository.redirect(candidate_id)
        if redirect is not None:
            raise _conflict(
                f"Candidate {candidate_id} was merged into {redirect['survivor_id']}.",
                field,
                survivor_id=redirect["survivor_id"],
                merge_id=redirect["merge_id"],
            )
        items = self.repository.partition(candidate_id)
        if not any(i["sk"]["S"] == PROFILE for i in items):
            if self.candidates.was_erased(candidate_id):
                raise _conflict(f"Candidate {candidate_id} was erased.", field)
            raise NotFound(f"No candidate with id {candidate_id}.")
        return items

    def _plan(self, pair: MergePair, choices: dict[str, Side]) -> Plan:
        if pair.survivor_id == pair.merged_id:
            raise _conflict("A person cannot be merged with themselves.", "merged_id")
        survivor = self._person(pair.survivor_id, "survivor_id")
        merged = self._person(pair.merged_id, "merged_id")
        m_profile = next(i for i in merged if i["sk"]["S"] == PROFILE)
        emails = [e for e in [_text(m_profile, "email"), *_string_list(m_profile, "other_emails")] if e]
        guards = list(self.repository.items(email_guard_key(e) for e in emails).values())
        return Plan(survivor, merged, guards, choices, now=iso(self.now()))

    def preview(self, pair: MergePair) -> MergePreview:
        plan = self._plan(pair, {})
        profile = table.from_item(plan.profile)
        return MergePreview(
            survivor=_public(plan.survivor_profile),
            merged=_public(plan.merged_profile),
            fields=plan.field_values(),
            tags=list(profile.get("tags") or []),
            pools=dict(profile.get("pools") or {}),
            consents=dict(profile.get("consents") or {}),
            other_emails=plan.other_emails,
            moves=plan.moves,
        )

    # ------------------------------------------------------------------ merge

    def merge(self, request: MergeRequest, *, actor: str) -> Merge:
        generation = 0
        while True:
            merge_id = merge_id_for(request, generation)
            existing = self.repository.get(merge_id)
            if existing is None or existing.get("state") != "undone":
                break
            generation += 1
        if existing is not None and existing.get("state") == "merged":
            return self.get(merge_id)  # a retry of a merge that was made: the same answer
        if existing is not None:  # interrupted before its commit: roll it back, then merge afresh
            self._roll_back(existing)
        plan = self._plan(request, {str(k): v for k, v in request.choices.items()})
        s_version = int(plan.survivor_profile["version"]["N"])
        m_version = int(plan.merged_profile["version"]["N"])
        if (s_version, m_version) != (request.survivor_version, request.merged_version):
            raise VersionConflict(
                "One of the two people changed since the preview; preview again.",
                survivor_version=s_version,
                merged_version=m_version,
            )
        now = self.now()
        at = iso(now)
        activity = [
            op
            for op in self.candidates.activity_operations(
                plan.survivor_id,
                "merged",
                actor=actor,
                at=at,
                detail={"merge_id": merge_id, "merged_id": plan.merged_id},
            )
            if "Put" in op
        ]
        activity_items = [op["Put"]["Item"] for op in activity]
        snapshot_key = f"{SNAPSHOT_PREFIX}{plan.survivor_id}/{merge_id}.json"
        snapshot = {
            "merge_id": merge_id,
            "survivor_id": plan.survivor_id,
            "merged_id": plan.merged_id,
            "before": {
                "survivor": plan.survivor_items,
                "merged": plan.merged_items,
                "guards": plan.guards,
            },
            "after": {
                "profile": plan.profile,
                "moved": plan.moved,
                "guards": plan.new_guards,
                "activity": activity_items,
            },
            "old_keys": plan.old_keys,
        }
        self.snapshots.put(
            snapshot_key,
            json.dumps(snapshot).encode(),
            content_type="application/json",
            filename=f"merge-{merge_id}.json",
        )
        record = {
            "id": merge_id,
            "survivor_id": plan.survivor_id,
            "merged_id": plan.merged_id,
            "state": "merging",
            "actor": actor,
            "at": at,
            "undo_until": iso(now + timedelta(days=UNDO_DAYS)),
            "survivor_version": int(plan.profile["version"]["N"]),
            "choices": plan.choices,
            "moves": plan.moves.model_dump(),
            "snapshot_key": snapshot_key,
            "cleaned": False,
        }
        # 1: the record, and the redirect as the merged person's lock (a second merge of them,
        # or of the survivor into someone else, is refused from here on)
        self.repository.write(
            [
                self.repository.new_merge(record),
                _version_check(plan.survivor_id, s_version),
                _version_check(plan.merged_id, m_version),
                self.repository.put_redirect(plan.merged_id, plan.survivor_id, merge_id),
                self.repository.no_redirect(plan.survivor_id),
            ],
            conflict="One of the two people changed, or is being merged; preview again.",
        )
        # 2: the moves, marked (a retry of an interrupted merge repeats them harmlessly)
        staged = [_put_moved(i, merge_id) for i in plan.moved]
        staged += [self.repository.mark(k, merge_id) for k in plan.old_keys]
        try:
            self.repository.write_chunks(staged, conflict="The merged person changed while merging.")
            # 3: the commit
            self.repository.write(
                [
                    self.repository.set_state(merge_id, "merging", "merged"),
                    self.repository.put_if_version(plan.profile, s_version),
                    _mark_if_version(key_of(plan.merged_profile), merge_id, m_version),
                    *[self.repository.put_if_candidate(g, plan.merged_id) for g in plan.new_guards],
                    self.repository.no_redirect(plan.survivor_id),
                    *activity,
                ],
                conflict="One of the two people changed while merging; nothing was merged. Preview again.",
            )
        except Conflict:
            self.repository.delete_marked([key_of(i) for i in plan.moved], merge_id)
            self.repository.unmark(plan.old_keys, merge_id)
            self._forget(merge_id, snapshot_key, plan.merged_id)
            raise
        record["state"] = "merged"
        self._finish(record, snapshot)
        self._keep_unsubscribe(plan)
        record["cleaned"] = True
        return self._answer(record)

    def _keep_unsubscribe(self, plan: Plan) -> None:
        """An unsubscribe of either address holds for the survivor's address too (an undo
        leaves it: nobody is mailed again because a merge was undone)."""
        suppressions = SuppressionList()
        addresses = [_text(plan.survivor_profile, "email"), _text(plan.merged_profile, "email")]
        primary = _text(plan.profile, "email")
        for address in addresses:
            if address and primary and "unsubscribed" in suppressions.reasons(address):
                suppressions.suppress(primary, "unsubscribed", source="merge")
                return

    def _forget(self, merge_id: str, snapshot_key: str, merged_id: str) -> None:
        self.repository.release_redirect(merged_id, merge_id)
        self.repository.drop_merge(merge_id)
        self.snapshots.delete(snapshot_key)

    def _roll_back(self, record: dict[str, Any]) -> None:
        """Undo what a merge interrupted before its commit wrote (its moves and marks)."""
        merge_id = str(record["id"])
        data = self.snapshots.read(str(record["snapshot_key"]), max_bytes=MAX_SNAPSHOT_BYTES)
        if data is not None:
            snapshot = json.loads(data)
            self.repository.delete_marked([key_of(i) for i in snapshot["after"]["moved"]], merge_id)
            old_keys: list[Key] = [(str(k[0]), str(k[1])) for k in snapshot["old_keys"]]
            merged_profile_key = (person_partition(str(record["merged_id"])), PROFILE)
            self.repository.unmark([*old_keys, merged_profile_key], merge_id)
        self._forget(merge_id, str(record["snapshot_key"]), str(record["merged_id"]))

    def _snapshot(self, record: dict[str, Any]) -> dict[str, Any]:
        data = self.snapshots.read(str(record["snapshot_key"]), max_bytes=MAX_SNAPSHOT_BYTES)
        if data is None:
            raise Conflict("This merge's record has expired; it can no longer be undone.")
        loaded: dict[str, Any] = json.loads(data)
        return loaded

    def _finish(self, record: dict[str, Any], snapshot: dict[str, Any] | None = None) -> None:
        """Step 4: delete the merged person's items and take the marks off the moved ones."""
        snapshot = snapshot or self._snapshot(record)
        merge_id = str(record["id"])
        old_keys: list[Key] = [(str(k[0]), str(k[1])) for k in snapshot["old_keys"]]
        merged_profile_key = (person_partition(str(record["merged_id"])), PROFILE)
        self.repository.delete_marked([*old_keys, merged_profile_key], merge_id)
        self.repository.unmark([key_of(i) for i in snapshot["after"]["moved"]], merge_id)
        self.repository.mark_cleaned(merge_id)

    # ------------------------------------------------------------------ undo

    def undo(self, merge_id: str, *, actor: str) -> Merge:
        record = self.repository.get(merge_id) if _is_id(merge_id) else None
        if record is None or record.get("state") == "merging":
            raise NotFound(f"No merge with id {merge_id}.")
        if record["state"] == "undone":
            raise Conflict("This merge was undone already.")
        if iso(self.now()) > str(record["undo_until"]):
            raise Conflict(f"A merge can be undone for {UNDO_DAYS} days; this one is older.")
        snapshot = self._snapshot(record)
        if not record.get("cleaned"):
            self._finish(record, snapshot)
        survivor_id, merged_id = str(record["survivor_id"]), str(record["merged_id"])
        after = snapshot["after"]
        written = [after["profile"], *after["moved"], *after["activity"]]
        current = self.repository.items(key_of(i) for i in written)
        for item in written:
            if current.get(key_of(item)) != item:
                what = "profile" if item["sk"]["S"] == PROFILE else kind_of(item)
                raise Conflict(
                    f"The survivor's {what} changed since the merge; it cannot be undone.",
                    survivor_id=survivor_id,
                )
        if self.repository.profile(merged_id) is not None:
            raise Conflict("The merged person exists again; the merge cannot be undone.")
        before = snapshot["before"]
        restore = [self.repository.put_marked(i, merge_id) for i in before["merged"]]
        created = [key_of(i) for i in [*after["moved"], *after["activity"]]]
        staged = restore + [self.repository.mark(k, merge_id) for k in created]
        s_profile = next(i for i in before["survivor"] if i["sk"]["S"] == PROFILE)
        try:
            self.repository.write_chunks(staged, conflict="The survivor changed while undoing.")
            self.repository.write(
                [
                    self.repository.set_state(
                        merge_id, "merged", "undone", {"undone_at": iso(self.now()), "undone_by": actor}
                    ),
                    self.repository.put_if_version(s_profile, int(after["profile"]["version"]["N"])),
                    *[self.repository.put_if_candidate(g, survivor_id) for g in before["guards"]],
                    self.repository.delete_redirect(merged_id),
                ],
                conflict="The survivor changed while undoing; nothing was undone.",
            )
        except Conflict:
            self.repository.delete_marked([key_of(i) for i in before["merged"]], merge_id)
            self.repository.unmark(created, merge_id)
            raise
        self.repository.delete_marked(created, merge_id)
        self.repository.write_chunks(
            [self.repository.put(i) for i in before["merged"]], conflict="The merged person changed."
        )
        # the survivor's projections and word index as they were (the stream converges to the same)
        derived_before = [i for i in before["survivor"] if is_derived_item(str(i["sk"]["S"]))]
        now_derived = [
            key_of(i) for i in self.repository.partition(survivor_id) if is_derived_item(str(i["sk"]["S"]))
        ]
        keep = {key_of(i) for i in derived_before}
        self.repository.write_chunks(
            [self.repository.put(i) for i in derived_before]
            + [self.repository.delete(k) for k in now_derived if k not in keep],
            conflict="The survivor changed.",
        )
        self.snapshots.delete(str(record["snapshot_key"]))  # both people are back: not needed
        record.update(state="undone", undone_at=iso(self.now()), undone_by=actor)
        return self._answer(record)

    def on_erased(self, candidate_id: str) -> int:
        """A survivor was erased: the before-images of their merges (which hold both people's data)
        go too, every version; those merges can no longer be undone. How many objects."""
        return self.snapshots.delete_all_versions(f"{SNAPSHOT_PREFIX}{candidate_id}/")


def _is_id(value: str) -> bool:
    return len(value) <= 64 and re.fullmatch(ID, value) is not None


def _conflict(detail: str, field: str, **extra: Any) -> Conflict:
    return Conflict(detail, field=field, errors=[{"field": field, "message": detail}], **extra)


def _public(profile: Raw) -> dict[str, Any]:
    plain = table.from_item(profile)
    return {k: v for k, v in plain.items() if k not in {"pk", "sk", "type", "email_normalised", MARKER}}


def _version_check(candidate_id: str, version: int) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "Key": table.key(person_partition(candidate_id), PROFILE),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(version)}},
        }
    }


def _put_moved(item: Raw, merge_id: str) -> dict[str, Any]:
    return {
        "Put": {
            "Item": {**item, MARKER: {"S": merge_id}},
            "ConditionExpression": f"attribute_not_exists(pk) OR {MARKER} = :m",
            "ExpressionAttributeValues": {":m": {"S": merge_id}},
        }
    }


def _mark_if_version(key: Key, merge_id: str, version: int) -> dict[str, Any]:
    return {
        "Update": {
            "Key": table.key(*key),
            "UpdateExpression": f"SET {MARKER} = :m",
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":m": {"S": merge_id}, ":v": {"N": str(version)}},
        }
    }
