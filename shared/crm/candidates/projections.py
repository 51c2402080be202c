"""List projections of candidates: one small item per way a recruiter can list them.

A candidate ``CAND#<id>/PROFILE`` is projected into items ``CAND#<id>/LIST#<dimension>``
that sit in index ``gsi1`` under ``gsi1pk = <dimension>``, each carrying the summary a list
shows. A filtered page is then one Query that reads only the page (plus one item to know
whether there is a next page), whatever the size of the table.

Projections are written by the stream function from the profile's stream images, in a
transaction conditioned on the profile still having the image's version, so a replayed or
out-of-order record never writes stale data and an erased candidate is never resurrected.

When stream records were lost (the stream's failure queue in AWS, a local stack killed before
its stream was delivered), :meth:`CandidateProjections.rebuild` brings one candidate's
projections up to date from the profile itself: it compares what the profile wants with the
``LIST#`` items that are there (found by Query, not from an old image) and writes only the
difference, with the same version condition. :func:`plan_rebuild` does the comparison for a
whole table read at once (the local stack's start-up pass); ``crm projections rebuild`` pages
through a table with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crm.candidates.models import CandidateFilter
from crm.platform import table
from crm.platform.fields import search_term

SUMMARY_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "location",
    "tags",
    "source",
    "sources",
    "pools",
    "version",
    "created_at",
    "updated_at",
)


def dimensions(candidate: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The projection items of a candidate: ``sk suffix -> (gsi1pk, gsi1sk)``."""
    cid = candidate["id"]
    newest = f"{candidate['created_at']}#{cid}"
    dims: dict[str, tuple[str, str]] = {"ALL": ("CANDS", newest)}
    dims[f"EMAIL#{candidate['email']}"] = (f"CANDEMAIL#{candidate['email']}", cid)
    for source in candidate.get("sources") or [candidate["source"]]:
        dims[f"SOURCE#{source}"] = (f"CANDSOURCE#{source}", newest)
    for tag in candidate.get("tags") or []:
        dims[f"TAG#{tag}"] = (f"CANDTAG#{tag}", newest)
    for pool in candidate.get("pools") or {}:
        dims[f"POOL#{pool}"] = (f"CANDPOOL#{pool}", newest)
    terms = {
        "first": search_term(candidate["first_name"]),
        "last": search_term(candidate["last_name"]),
        "email": candidate["email"],
    }
    for kind, term in terms.items():
        dims[f"SEARCH#{kind}"] = ("CANDSEARCH", f"{term}#{cid}")
    return dims


def projection_items(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain-python projection items (serialise with ``table.to_item``)."""
    summary = {k: candidate.get(k) for k in SUMMARY_FIELDS}
    summary["search"] = " ".join(
        [search_term(candidate["first_name"]), search_term(candidate["last_name"]), candidate["email"]]
    )
    out = []
    for suffix, (gsi1pk, gsi1sk) in dimensions(candidate).items():
        item = dict(summary)
        item.update(
            pk=f"CAND#{candidate['id']}",
            sk=f"LIST#{suffix}",
            type="candidate_list",
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
        )
        out.append(item)
    return out


def candidate_list_query(flt: CandidateFilter) -> dict[str, Any]:
    """Key condition on ``gsi1`` for the most selective filter, the rest as a filter expression.

    Priority: email, pool, tag, source, q, then all candidates newest first. A single filter
    reads exactly the page; a combination reads on until the page is full.
    """
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    filters: list[str] = []
    used: str | None = None
    forward = False
    if flt.email:
        key_condition, used = "gsi1pk = :pk", "email"
        values[":pk"] = {"S": f"CANDEMAIL#{flt.email}"}
    elif flt.pool:
        key_condition, used = "gsi1pk = :pk", "pool"
        values[":pk"] = {"S": f"CANDPOOL#{flt.pool}"}
    elif flt.tag:
        key_condition, used = "gsi1pk = :pk", "tag"
        values[":pk"] = {"S": f"CANDTAG#{flt.tag}"}
    elif flt.source:
        key_condition, used = "gsi1pk = :pk", "source"
        values[":pk"] = {"S": f"CANDSOURCE#{flt.source}"}
    elif flt.q:
        key_condition, used = "gsi1pk = :pk AND begins_with(gsi1sk, :q)", "q"
        values[":pk"] = {"S": "CANDSEARCH"}
        values[":q"] = {"S": search_term(flt.q)}
        forward = True
    else:
        key_condition = "gsi1pk = :pk"
        values[":pk"] = {"S": "CANDS"}
    if flt.pool and used != "pool":
        names["#pools"] = "pools"
        names["#fpool"] = flt.pool
        filters.append("attribute_exists(#pools.#fpool)")
    if flt.tag and used != "tag":
        filters.append("contains(tags, :ftag)")
        values[":ftag"] = {"S": flt.tag}
    if flt.source and used != "source":
        filters.append("contains(sources, :fsource)")
        values[":fsource"] = {"S": flt.source}
    if flt.q and used != "q":
        names["#search"] = "search"  # a DynamoDB reserved word
        filters.append("contains(#search, :fq)")
        values[":fq"] = {"S": search_term(flt.q)}
    query: dict[str, Any] = {"key_condition": key_condition, "values": values, "forward": forward}
    if filters:
        query["filter_expression"] = " AND ".join(filters)
    if names:
        query["names"] = names
    return query


PROFILE_SK = "PROFILE"
LIST_PREFIX = "LIST#"
#: A transaction holds at most 100 actions: the version check and 99 writes.
_WRITES_PER_TRANSACTION = 99


class Outcome(StrEnum):
    """What bringing one candidate's projections up to date did."""

    FIXED = "fixed"  # some projection items were written or deleted
    UNCHANGED = "unchanged"  # they were already right
    SKIPPED = "skipped"  # the profile moved on (or was erased) meanwhile: the stream writes it


@dataclass
class ProjectionDiff:
    """What to write so that a candidate's ``LIST#`` items match a profile."""

    puts: list[dict[str, Any]] = field(default_factory=list)  # whole items, DynamoDB form
    deletes: list[str] = field(default_factory=list)  # sort keys of stale items

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes)


def is_candidate_profile(item: Mapping[str, Any]) -> bool:
    """A profile item (DynamoDB form) of a candidate."""
    return bool(item.get("sk") == {"S": PROFILE_SK} and item.get("type") == {"S": "candidate"})


def projection_diff(profile: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]) -> ProjectionDiff:
    """Compare the projections ``profile`` (plain values) wants with the ``LIST#`` items found
    (DynamoDB form, e.g. from a Query): items missing or different are put, others deleted."""
    found = {str(item["sk"]["S"]): table.from_item(item) for item in existing}
    diff = ProjectionDiff()
    wanted_sks: set[str] = set()
    for wanted in projection_items(dict(profile)):
        item = table.to_item(wanted)
        wanted_sks.add(wanted["sk"])
        if found.get(wanted["sk"]) != table.from_item(item):
            diff.puts.append(item)
    diff.deletes = sorted(sk for sk in found if sk.startswith(LIST_PREFIX) and sk not in wanted_sks)
    return diff


def _write_conditioned(pk: str, condition: dict[str, Any], operations: list[dict[str, Any]]) -> bool:
    """Write ``operations`` in transactions that each re-check ``condition`` on the profile;
    False when the condition no longer holds (nothing of that transaction was written)."""
    try:
        for start in range(0, len(operations), _WRITES_PER_TRANSACTION):
            check = {"ConditionCheck": {"Key": table.key(pk, PROFILE_SK), **condition}}
            table.transact([check, *operations[start : start + _WRITES_PER_TRANSACTION]])
    except table.TransactionCancelled as cancelled:
        if cancelled.only_first_failed:
            return False
        raise
    return True


def _version_condition(version: Any) -> dict[str, Any]:
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": {"N": str(version)}},
    }


def write_diff(profile: Mapping[str, Any], diff: ProjectionDiff) -> bool:
    """Write ``diff`` for ``profile``, conditioned on the profile still having its version; False
    when it has moved on or is gone (then nothing is written: a later stream record carries it)."""
    pk = f"CAND#{profile['id']}"
    operations: list[dict[str, Any]] = [{"Put": {"Item": item}} for item in diff.puts]
    operations += [{"Delete": {"Key": table.key(pk, sk)}} for sk in diff.deletes]
    if not operations:
        return True
    return _write_conditioned(pk, _version_condition(profile["version"]), operations)


def delete_orphans(pk: str, sks: Iterable[str]) -> bool:
    """Delete ``LIST#`` items whose candidate has no profile (erased), on that condition."""
    operations = [{"Delete": {"Key": table.key(pk, sk)}} for sk in sorted(set(sks))]
    if not operations:
        return True
    return _write_conditioned(pk, {"ConditionExpression": "attribute_not_exists(pk)"}, operations)


@dataclass
class RebuildPlan:
    """What a whole table needs (from :func:`plan_rebuild`)."""

    candidates: int = 0
    fixes: list[tuple[dict[str, Any], ProjectionDiff]] = field(default_factory=list)  # (profile, diff)
    orphans: dict[str, list[str]] = field(default_factory=dict)  # pk -> LIST# sort keys


def plan_rebuild(items: Iterable[Mapping[str, Any]]) -> RebuildPlan:
    """Compare every candidate profile among ``items`` (a whole table, DynamoDB form) with the
    ``LIST#`` items under its key; ``LIST#`` items without a profile are orphans."""
    profiles: dict[str, Mapping[str, Any]] = {}
    listed: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        pk, sk = item.get("pk", {}).get("S"), item.get("sk", {}).get("S")
        if not isinstance(pk, str) or not isinstance(sk, str) or not pk.startswith("CAND#"):
            continue
        if is_candidate_profile(item):
            profiles[pk] = item
        elif sk.startswith(LIST_PREFIX):
            listed.setdefault(pk, []).append(item)
    plan = RebuildPlan(candidates=len(profiles))
    for pk, item in profiles.items():
        profile = table.from_item(item)
        diff = projection_diff(profile, listed.get(pk, []))
        if diff:
            plan.fixes.append((profile, diff))
    for pk, found in listed.items():
        if pk not in profiles:
            plan.orphans[pk] = [str(i["sk"]["S"]) for i in found]
    return plan


class CandidateProjections:
    """Writes the list projections of one candidate: from a stream image (the stream function's
    job), or from the profile itself (:meth:`rebuild`)."""

    def apply(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
        """Bring the projections in line with ``new`` (``None``: the profile was removed).

        Returns False when the image is stale (the profile has moved on or is gone), in
        which case a later record carries the current state and nothing is written.
        """
        if new is None:
            if old:
                table.batch_delete(
                    [{"pk": i["pk"], "sk": i["sk"]} for i in self._projected(old["id"], "pk, sk")]
                )
            return True
        pk = f"CAND#{new['id']}"
        wanted = projection_items(new)
        wanted_sks = {i["sk"] for i in wanted}
        stale = [f"LIST#{s}" for s in dimensions(old)] if old else []
        operations: list[dict[str, Any]] = [{"Put": {"Item": table.to_item(i)}} for i in wanted]
        operations += [{"Delete": {"Key": table.key(pk, sk)}} for sk in stale if sk not in wanted_sks]
        return _write_conditioned(pk, _version_condition(new["version"]), operations)

    def rebuild(self, profile: Mapping[str, Any]) -> Outcome:
        """Bring the candidate's projections up to date with ``profile`` (plain values, as read):
        only what differs is written, conditioned on the profile's version."""
        diff = projection_diff(profile, self._projected(str(profile["id"])))
        if not diff:
            return Outcome.UNCHANGED
        return Outcome.FIXED if write_diff(profile, diff) else Outcome.SKIPPED

    def remove_orphans(self, candidate_id: str) -> int:
        """Delete the candidate's ``LIST#`` items if it has no profile; how many were deleted."""
        sks = [str(i["sk"]["S"]) for i in self._projected(candidate_id, "pk, sk")]
        return len(sks) if sks and delete_orphans(f"CAND#{candidate_id}", sks) else 0

    @staticmethod
    def _projected(candidate_id: str, projection: str | None = None) -> list[dict[str, Any]]:
        return list(
            table.query_all(
                key_condition="pk = :pk AND begins_with(sk, :list)",
                values={":pk": {"S": f"CAND#{candidate_id}"}, ":list": {"S": LIST_PREFIX}},
                projection=projection,
            )
        )
