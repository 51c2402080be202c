"""The list projections' items: how each is keyed, the list query over them, and their writes.

A candidate ``CAND#<id>/PROFILE`` is projected into items ``CAND#<id>/LIST#<dimension>`` that
sit in index ``gsi1`` under ``gsi1pk = <dimension>``, each carrying the summary a list shows. A
filtered page is then one Query that reads only the page (plus one item to know whether there is
a next page), whatever the size of the table.

The functions at the top are pure (what a profile projects to, the Query a filter reads, the
difference between wanted and found items): unit-testable without a table.
:class:`ProjectionRepository` writes them, every write in a transaction conditioned on the profile
(its version, or its absence for an erased candidate's left-overs), so a replayed or out-of-order
stream record never writes stale data and an erased candidate is never resurrected.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm.candidates.models import SUMMARY_FIELDS, CandidateFilter
from crm.candidates.repository.keys import LIST_PREFIX, PROFILE, candidate_pk
from crm.custom_fields.models import index_terms
from crm.platform import table
from crm.platform.fields import search_term

#: A transaction holds at most 100 actions: the version check and 99 writes.
_WRITES_PER_TRANSACTION = 99


# ---------------------------------------------------------------------------------- what to write


#: Separates the terms of the summary's ``search`` attribute (no term holds a control character).
TERM_SEPARATOR = "\x1f"


def query_term(q: str) -> str:
    """What a search for ``q`` looks for: lower-cased, accents stripped, control characters and
    runs of spaces as one space."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in search_term(q))
    return " ".join(cleaned.split())


def query_words(q: str | None) -> list[str]:
    """The words of a search: each must start a term of the person (:func:`search_terms`)."""
    return query_term(q or "").split()


def lead_word(words: list[str]) -> str:
    """The word a name-index Query leads with: the longest (the fewest entries to read)."""
    return max(words, key=len) if words else ""


def _word_starts(text: str) -> list[str]:
    """``"de wit"`` -> ``["de wit", "wit"]``: the text from the start of each of its words."""
    words = text.split()
    return [" ".join(words[i:]) for i in range(len(words))]


def search_terms(person: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The search index's entries of a person, in the order a search lists them by:
    ``(kind, term)`` for each name from the start of each of its words, the email, then each tag
    and the location, also from the start of each of their words ("San Francisco, CA" is
    ``san francisco ca``, ``francisco ca`` and ``ca``)."""
    out: list[tuple[str, str]] = []
    for kind in ("first_name", "last_name"):
        short = kind.split("_")[0]
        for i, term in enumerate(_word_starts(search_term(str(person.get(kind) or "")))):
            out.append((short if i == 0 else f"{short}.{i}", term))
    out.append(("email", str(person.get("email") or "")))
    tag_terms = [t for tag in person.get("tags") or [] for t in _word_starts(search_term(str(tag)))]
    out += [(f"tag.{i}", term) for i, term in enumerate(dict.fromkeys(tag_terms))]
    location = search_term(str(person.get("location") or "")).replace(",", " ")
    out += [(f"loc.{i}", term) for i, term in enumerate(_word_starts(location))]
    return out


def search_text(person: Mapping[str, Any]) -> str:
    """The summary's ``search`` attribute: every term, each after a separator, so a filter's
    ``contains(search, separator + word)`` matches the start of a term as the index does."""
    return "".join(TERM_SEPARATOR + term for _, term in search_terms(person))


def q_matches(q: str, person: Mapping[str, Any]) -> bool:
    """Whether ``q`` matches a person, as the index and the filters read it: every word of it
    starts a term (a word of a name, the email, a word of a tag or of the location)."""
    terms = [t for _, t in search_terms(person)]
    return all(any(t.startswith(word) for t in terms) for word in query_words(q))


def is_listed_search_entry(item: Mapping[str, Any], q: str) -> bool:
    """Whether an index entry (``LIST#SEARCH#<kind>``, plain values) is the one a search for
    ``q`` lists: the first of the person's terms that the lead word starts. Each person is then
    listed once however many of their terms match, across pages too."""
    word = lead_word(query_words(q))
    kind = str(item.get("sk", "")).rpartition("#")[2]
    for entry_kind, entry_term in search_terms(item):
        if entry_term.startswith(word):
            return entry_kind == kind
    return False


def list_attributes(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """What a list filters on beyond the summary: the location as search reads it (``place``),
    and the state of the marketing consent (``marketing``: granted, withdrawn or none)."""
    consent = (candidate.get("consents") or {}).get("marketing")
    if consent is None:
        marketing = "none"
    else:
        granted = consent.get("granted") if isinstance(consent, Mapping) else consent.granted
        marketing = "granted" if granted else "withdrawn"
    out: dict[str, Any] = {"place": query_term(str(candidate.get("location") or "")), "marketing": marketing}
    terms = index_terms(candidate.get("custom_fields"))
    if terms:
        out["cfv"] = terms  # custom-field values, ``<key>#<term>`` (crm.custom_fields.models)
    return out


def dimensions(candidate: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The projection items of a candidate: ``sk suffix -> (gsi1pk, gsi1sk)``."""
    cid = candidate["id"]
    newest = f"{candidate['created_at']}#{cid}"
    dims: dict[str, tuple[str, str]] = {"ALL": ("CANDS", newest)}
    name = query_term(f"{candidate.get('last_name') or ''} {candidate.get('first_name') or ''}")
    dims["BYNAME"] = ("CANDSBYNAME", f"{name}#{cid}")
    dims["BYACTIVITY"] = (
        "CANDSBYACTIVITY",
        f"{candidate.get('updated_at') or candidate['created_at']}#{cid}",
    )
    dims[f"EMAIL#{candidate['email']}"] = (f"CANDEMAIL#{candidate['email']}", cid)
    for source in candidate.get("sources") or [candidate["source"]]:
        dims[f"SOURCE#{source}"] = (f"CANDSOURCE#{source}", newest)
    for tag in candidate.get("tags") or []:
        dims[f"TAG#{tag}"] = (f"CANDTAG#{tag}", newest)
    for pool in candidate.get("pools") or {}:
        dims[f"POOL#{pool}"] = (f"CANDPOOL#{pool}", newest)
    for kind, term in search_terms(candidate):
        dims[f"SEARCH#{kind}"] = ("CANDSEARCH", f"{term}#{cid}")
    for term in index_terms(candidate.get("custom_fields")):
        dims[f"CF#{term}"] = (f"CANDCF#{term}", newest)
    # merges: lookups for possible duplicates (same phone, LinkedIn URL, name and place)
    for kind, value in duplicate_keys(candidate).items():
        dims[f"DUP#{kind}"] = (f"{DUPLICATE_PREFIXES[kind]}{value}", cid)
    return dims


#: merges: where each kind of possible-duplicate lookup sits in gsi1.
DUPLICATE_PREFIXES = {"phone": "CANDPHONE#", "linkedin": "CANDLINKEDIN#", "nameplace": "CANDNAMEPLACE#"}


def duplicate_keys(candidate: Mapping[str, Any]) -> dict[str, str]:
    """What two people who may be one share: the phone's last nine digits (of 7 or more, so a
    country code or trunk prefix does not matter), the LinkedIn URL
    without scheme, ``www.``, query or trailing slash (lower-cased), and the full name with the
    location (as search reads them)."""
    out: dict[str, str] = {}
    digits = "".join(c for c in str(candidate.get("phone") or "") if c.isdigit())
    if len(digits) >= 7:
        out["phone"] = digits[-9:]  # the last nine: +44 20 7946 0000 is 020 7946 0000
    url = str(candidate.get("linkedin_url") or "").strip().lower()
    if url:
        url = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].removeprefix("www.").rstrip("/")
        if url:
            out["linkedin"] = url[:300]
    name = query_term(f"{candidate.get('first_name') or ''} {candidate.get('last_name') or ''}")
    place = query_term(str(candidate.get("location") or ""))
    if name and place:
        out["nameplace"] = f"{name}|{place}"[:300]
    return out


def duplicate_query(kind: str, value: str) -> dict[str, Any]:
    """The gsi1 Query of the people who share one lookup (``duplicate_keys``)."""
    return {
        "key_condition": "gsi1pk = :pk",
        "values": {":pk": {"S": f"{DUPLICATE_PREFIXES[kind]}{value}"}},
    }


def projection_items(candidate: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Plain-python projection items (serialise with ``table.to_item``)."""
    summary = {k: candidate.get(k) for k in SUMMARY_FIELDS}
    summary["search"] = search_text(candidate)
    summary.update(list_attributes(candidate))
    out = []
    for suffix, (gsi1pk, gsi1sk) in dimensions(candidate).items():
        item = dict(summary)
        item.update(
            pk=candidate_pk(candidate["id"]),
            sk=f"{LIST_PREFIX}{suffix}",
            type="candidate_list",
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
        )
        out.append(item)
    return out


#: Partitions sorted by ``<created_at>#<id>`` (and ``CANDS``): a created range is part of their
#: key condition.
_BY_CREATED = ("CANDPOOL#", "CANDTAG#", "CANDSOURCE#", "CANDCF#")


def _day_range(start: date | None, end: date | None) -> tuple[str, str]:
    """Sort-key bounds of the days from ``start`` to ``end`` (both included, open when None)."""
    return (start.isoformat() if start else "0000"), (f"{end.isoformat()}~" if end else "9999~")


def candidate_list_query(flt: CandidateFilter) -> dict[str, Any]:  # noqa: C901 - one priority list
    """Key condition on ``gsi1`` for the most selective filter, the rest as a filter expression.

    The sort decides first (by name and by activity have partitions of their own); then the
    priority is email, pool, the first tag (all of them), one source, the first custom-field
    value (``cf_terms``), q, then all candidates.
    A created range on a partition sorted by creation is part of the key condition. A single
    filter reads exactly the page; a combination reads on until the page is full. Every word of
    ``q`` must start a term of the person (:func:`q_matches`): alone, the search index is read
    for the longest word and the others are filtered; with another filter, every word is
    filtered. (A ``q`` with a word of three letters or more is free text: ``words``.)
    """
    words = query_words(flt.q)
    tags, sources = flt.all_tags(), flt.all_sources()
    sort = flt.sort or "newest"
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    used: str | None = None
    forward = sort == "oldest"
    if flt.email:
        pk, used = f"CANDEMAIL#{flt.email}", "email"
    elif sort == "name":
        pk, used, forward = "CANDSBYNAME", "sort", True
    elif sort == "last_activity":
        pk, used, forward = "CANDSBYACTIVITY", "sort", False
    elif flt.pool:
        pk, used = f"CANDPOOL#{flt.pool}", "pool"
    elif tags and flt.match == "all":
        pk, used = f"CANDTAG#{tags[0]}", "tag"
    elif len(sources) == 1:
        pk, used = f"CANDSOURCE#{sources[0]}", "source"
    elif flt.cf_terms:
        pk, used = f"CANDCF#{flt.cf_terms[0]}", "cf"
    elif words:
        pk, used, forward = "CANDSEARCH", "q", True
    else:
        pk = "CANDS"
    values[":pk"] = {"S": pk}
    key_condition = "gsi1pk = :pk"
    ranged: str | None = None
    if used == "q":
        key_condition += " AND begins_with(gsi1sk, :q)"
        values[":q"] = {"S": lead_word(words)}
    elif (pk == "CANDS" or pk.startswith(_BY_CREATED)) and (flt.created_from or flt.created_to):
        ranged = "created"
        lo, hi = _day_range(flt.created_from, flt.created_to)
        key_condition += " AND gsi1sk BETWEEN :klo AND :khi"
        values[":klo"], values[":khi"] = {"S": lo}, {"S": hi}
    elif pk == "CANDSBYACTIVITY" and (flt.active_from or flt.active_to):
        ranged = "active"
        lo, hi = _day_range(flt.active_from, flt.active_to)
        key_condition += " AND gsi1sk BETWEEN :klo AND :khi"
        values[":klo"], values[":khi"] = {"S": lo}, {"S": hi}
    filters = _filters(flt, used, ranged, words, values, names)
    query: dict[str, Any] = {"key_condition": key_condition, "values": values, "forward": forward}
    if filters:
        query["filter_expression"] = " AND ".join(filters)
    if names:
        query["names"] = names
    return query


def _filters(
    flt: CandidateFilter,
    used: str | None,
    ranged: str | None,
    words: list[str],
    values: dict[str, Any],
    names: dict[str, str],
) -> list[str]:
    """The filter expression's conditions for every filter the key condition (``used``, and the
    range in it: ``ranged``) does not serve, their values and names added to ``values`` and
    ``names``."""
    filters = _membership_filters(flt, used, values, names)
    for i, word in enumerate(dict.fromkeys(query_words(flt.location))):
        names["#place"] = "place"
        filters.append(f"contains(#place, :floc{i})")
        values[f":floc{i}"] = {"S": word}
    if flt.consent:
        names["#marketing"] = "marketing"
        filters.append("#marketing = :fconsent")
        values[":fconsent"] = {"S": flt.consent}
    for attribute, start, end, kind in (
        ("created_at", flt.created_from, flt.created_to, "created"),
        ("updated_at", flt.active_from, flt.active_to, "active"),
    ):
        if (start or end) and ranged != kind:
            lo, hi = _day_range(start, end)
            filters.append(f"{attribute} BETWEEN :{kind}lo AND :{kind}hi")
            values[f":{kind}lo"], values[f":{kind}hi"] = {"S": lo}, {"S": hi}
    # Each other word: the start of a term (search_text), as the index matches the lead word.
    filtered = list(words)
    if used == "q":
        filtered.remove(lead_word(words))
    for i, word in enumerate(dict.fromkeys(filtered)):
        names["#search"] = "search"  # a DynamoDB reserved word
        filters.append(f"contains(#search, :fq{i})")
        values[f":fq{i}"] = {"S": TERM_SEPARATOR + word}
    return filters


def _membership_filters(
    flt: CandidateFilter, used: str | None, values: dict[str, Any], names: dict[str, str]
) -> list[str]:
    """Pool and stage, tags (all or any) and sources, where the key condition does not serve them."""
    filters: list[str] = []
    if flt.pool and used != "pool":
        names["#pools"] = "pools"
        names["#fpool"] = flt.pool
        filters.append("attribute_exists(#pools.#fpool)")
    if flt.pool and flt.stage:
        names["#pools"] = "pools"
        names["#fpool"] = flt.pool
        filters.append("#pools.#fpool = :fstage")
        values[":fstage"] = {"S": flt.stage}
    tags = flt.all_tags()
    if flt.match == "any" and len(tags) > 1:
        for i, tag in enumerate(tags):
            values[f":ftag{i}"] = {"S": tag}
        filters.append("(" + " OR ".join(f"contains(tags, :ftag{i})" for i in range(len(tags))) + ")")
    else:
        for i, tag in enumerate(tags):
            if i == 0 and used == "tag":
                continue
            filters.append(f"contains(tags, :ftag{i})")
            values[f":ftag{i}"] = {"S": tag}
    sources = flt.all_sources()
    if sources and used != "source":
        for i, source in enumerate(sources):
            values[f":fsource{i}"] = {"S": source}
        filters.append(
            "(" + " OR ".join(f"contains(sources, :fsource{i})" for i in range(len(sources))) + ")"
        )
    for i, term in enumerate(flt.cf_terms):
        if i == 0 and used == "cf":
            continue
        filters.append(f"contains(cfv, :fcf{i})")
        values[f":fcf{i}"] = {"S": term}
    return filters


def summary_passes(summary: Mapping[str, Any], flt: CandidateFilter) -> bool:
    """The filters other than ``q``, as the filter expression applies them, over a list item (a
    summary with :func:`list_attributes`): the brute-force form of the list query."""
    if flt.email and str(summary.get("email")) != flt.email:
        return False
    pools = summary.get("pools") or {}
    if flt.pool and (flt.pool not in pools or (flt.stage and pools[flt.pool] != flt.stage)):
        return False
    have = set(summary.get("tags") or [])
    tags = flt.all_tags()
    if tags and not (any if flt.match == "any" else all)(t in have for t in tags):
        return False
    sources = flt.all_sources()
    if sources and not set(sources) & set(summary.get("sources") or [summary.get("source")]):
        return False
    place = str(summary.get("place") or query_term(str(summary.get("location") or "")))
    if not all(word in place for word in query_words(flt.location)):
        return False
    if flt.consent and summary.get("marketing") != flt.consent:
        return False
    if flt.cf_terms and not set(flt.cf_terms) <= set(summary.get("cfv") or []):
        return False
    for attribute, start, end in (
        ("created_at", flt.created_from, flt.created_to),
        ("updated_at", flt.active_from, flt.active_to),
    ):
        lo, hi = _day_range(start, end)
        if (start or end) and not lo <= str(summary.get(attribute) or "") <= hi:
            return False
    return True


@dataclass
class ProjectionDiff:
    """What to write so that a candidate's ``LIST#`` items match a profile."""

    puts: list[dict[str, Any]] = field(default_factory=list)  # whole items, DynamoDB form
    deletes: list[str] = field(default_factory=list)  # sort keys of stale items

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes)


def is_candidate_profile(item: Mapping[str, Any]) -> bool:
    """A profile item (DynamoDB form) of a candidate."""
    return bool(item.get("sk") == {"S": PROFILE} and item.get("type") == {"S": "candidate"})


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


# ---------------------------------------------------------------------------------- the writes


def _write_conditioned(pk: str, condition: dict[str, Any], operations: list[dict[str, Any]]) -> bool:
    """Write ``operations`` in transactions that each re-check ``condition`` on the profile;
    False when the condition no longer holds (nothing of that transaction was written)."""
    try:
        for start in range(0, len(operations), _WRITES_PER_TRANSACTION):
            check = {"ConditionCheck": {"Key": table.key(pk, PROFILE), **condition}}
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
    pk = candidate_pk(str(profile["id"]))
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


class ProjectionRepository:
    """Reads and writes one candidate's ``LIST#`` items, and counts over the lists."""

    def pool_member_stages(self, pool_id: str, *, cap: int) -> tuple[list[dict[str, Any]], bool]:
        """The ``pools`` map of up to ``cap`` members of the pool (its gsi1 list, only the
        stage read), and whether there were more."""
        items = table.query_all(
            key_condition="gsi1pk = :pk",
            values={":pk": {"S": f"CANDPOOL#{pool_id}"}},
            index="gsi1",
            projection="#pools.#pool",
            names={"#pools": "pools", "#pool": pool_id},
        )
        members: list[dict[str, Any]] = []
        for item in items:
            if len(members) >= cap:
                return members, True
            members.append(table.from_item(item))
        return members, False

    def count_by_source(self, source: str, *, max_pages: int) -> tuple[int, bool]:
        """How many people came from ``source``, reading at most ``max_pages`` Query pages
        (Select COUNT); True when the count stopped there (at least that many)."""
        params: dict[str, Any] = {
            "TableName": table.table_name(),
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"CANDSOURCE#{source}"}},
            "Select": "COUNT",
        }
        count = 0
        for _ in range(max_pages):
            response = table.query(**params)
            count += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                return count, False
            params["ExclusiveStartKey"] = last
        return count, True

    def apply_image(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
        """Bring the projections in line with the stream image ``new`` (``None``: the profile was
        removed). False when the image is stale (the profile has moved on or is gone): nothing
        is written, and a later record carries the current state."""
        if new is None:
            if old:
                table.batch_delete(
                    [{"pk": i["pk"], "sk": i["sk"]} for i in self.projected(str(old["id"]), "pk, sk")]
                )
            return True
        pk = candidate_pk(str(new["id"]))
        wanted = projection_items(new)
        wanted_sks = {i["sk"] for i in wanted}
        stale = [f"{LIST_PREFIX}{s}" for s in dimensions(old)] if old else []
        operations: list[dict[str, Any]] = [{"Put": {"Item": table.to_item(i)}} for i in wanted]
        operations += [{"Delete": {"Key": table.key(pk, sk)}} for sk in stale if sk not in wanted_sks]
        return _write_conditioned(pk, _version_condition(new["version"]), operations)

    def diff_for(self, profile: Mapping[str, Any]) -> ProjectionDiff:
        """What the candidate's ``LIST#`` items (read by Query) lack or have too much for ``profile``."""
        return projection_diff(profile, self.projected(str(profile["id"])))

    def write_diff(self, profile: Mapping[str, Any], diff: ProjectionDiff) -> bool:
        return write_diff(profile, diff)

    def remove_orphans(self, candidate_id: str) -> int:
        """Delete the candidate's ``LIST#`` items if it has no profile; how many were deleted."""
        sks = [str(i["sk"]["S"]) for i in self.projected(candidate_id, "pk, sk")]
        return len(sks) if sks and delete_orphans(candidate_pk(candidate_id), sks) else 0

    @staticmethod
    def projected(candidate_id: str, projection: str | None = None) -> list[dict[str, Any]]:
        """The candidate's ``LIST#`` items as stored (DynamoDB form)."""
        return list(
            table.query_all(
                key_condition="pk = :pk AND begins_with(sk, :list)",
                values={":pk": {"S": candidate_pk(candidate_id)}, ":list": {"S": LIST_PREFIX}},
                projection=projection,
            )
        )
