"""The free-text index's items, the text of resumes, and the search that reads them.

``CAND#<id>/WORD#<bucket>#<tier>`` holds a person's words of one bucket found at one place
(``crm.candidates.words``), in ``gsi1`` under ``CANDWORD#<bucket>`` with the sort key
``<tier>#<newest first>#<id>``: a bucket's entries are read best place first, newest first.
``CAND#<id>/RESUMETEXT#<job_id>`` keeps the text extracted from one application's resume, and
``CAND#<id>/RESUMETEXT#resume-<resume_id>`` that of a resume sent with a sign-up or uploaded by a
recruiter (an application's resume item is read through its application).

Both sit in the person's partition, so erasure (which deletes the partition) removes them; the
stream keeps the entries in step with the profile, the notes and the resume texts
(:meth:`WordIndexRepository.refresh`), and ``crm projections rebuild`` (the whole-table check)
deletes any left behind by an erased person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm.candidates import words as w
from crm.candidates.models import CandidateFilter, CandidateSummary
from crm.candidates.repository.keys import LIST_PREFIX, PROFILE, RESUME_PREFIX, candidate_pk
from crm.candidates.repository.projections import summary_passes
from crm.platform import table

WORD_PREFIX = "WORD#"
RESUME_TEXT_PREFIX = "RESUMETEXT#"
#: Index entries read by one request at most: a search whose other words or filters rarely
#: match stops there and hands back a cursor (the page may then be short).
MAX_ENTRIES_READ = 1_000
#: Entries asked for per Query while filling a page.
_QUERY_PAGE = 100
_KEY_NAMES = {"pk", "sk", "gsi1pk", "gsi1sk"}


def word_source(keys: Mapping[str, Any]) -> tuple[str, str] | None:
    """What a changed item is to the index: ``(candidate_id, "profile" | "text" | "application" |
    "resume")`` for a profile, a note or resume text, an application, or a resume item; None for
    anything else."""
    pk, sk = str(keys.get("pk", "")), str(keys.get("sk", ""))
    if not pk.startswith("CAND#"):
        return None
    candidate_id = pk.removeprefix("CAND#")
    if sk == PROFILE:
        return candidate_id, "profile"
    if sk.startswith(("NOTE#", RESUME_TEXT_PREFIX)):
        return candidate_id, "text"
    if sk.startswith("APP#"):
        return candidate_id, "application"
    if sk.startswith(RESUME_PREFIX):
        return candidate_id, "resume"
    return None


def resume_text_slot(resume_id: str) -> str:
    """Where the text of a resume sent with no application is kept (beside applications' job ids)."""
    return f"resume-{resume_id}"


def word_sk(bucket: str, tier: int) -> str:
    return f"{WORD_PREFIX}{bucket}#{tier}"


def word_items(
    profile: Mapping[str, Any], notes: Sequence[str], resumes: Sequence[str]
) -> list[dict[str, Any]]:
    """The plain index items of a person (serialise with ``table.to_item``)."""
    cid = str(profile["id"])
    order = w.newest_first(str(profile.get("created_at") or ""))
    out = []
    for (bucket, tier), entry in w.word_entries(w.all_words(profile, notes, resumes)).items():
        item: dict[str, Any] = {
            "pk": candidate_pk(cid),
            "sk": word_sk(bucket, tier),
            "type": "candidate_word",
            "id": cid,
            "words": entry["words"],
            "gsi1pk": f"CANDWORD#{bucket}",
            "gsi1sk": f"{tier}#{order}#{cid}",
        }
        if entry["above"]:
            item["above"] = entry["above"]
        out.append(item)
    return out


def is_free_text(flt: CandidateFilter) -> bool:
    """Whether a list is answered by the free-text index: ``q`` has a word of three letters or
    more (shorter words alone keep the name index of the projections, which matches them as the
    start of a name, email, tag or location word)."""
    return bool(flt.q) and not flt.email and w.lead_word(w.query_words(flt.q)) is not None


def stale_word_index(items: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Over a whole table (DynamoDB form): the people whose index entries differ from what their
    profile, notes and resume texts want, and the people without a profile who left entries or
    resume texts behind (ids of both)."""
    profiles: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[str]] = {}
    resumes: dict[str, list[str]] = {}
    found: dict[str, dict[str, tuple[Any, Any, Any]]] = {}
    for item in items:
        pk, sk = item.get("pk", {}).get("S"), item.get("sk", {}).get("S")
        if not isinstance(pk, str) or not isinstance(sk, str) or not pk.startswith("CAND#"):
            continue
        cid = pk.removeprefix("CAND#")
        if sk == PROFILE:
            profiles[cid] = table.from_item(item)
        elif sk.startswith("NOTE#"):
            notes.setdefault(cid, []).append(str(item.get("body", {}).get("S", "")))
        elif sk.startswith(RESUME_TEXT_PREFIX):
            resumes.setdefault(cid, []).append(str(item.get("text", {}).get("S", "")))
            found.setdefault(cid, {})
        elif sk.startswith(WORD_PREFIX):
            plain = table.from_item(item)
            found.setdefault(cid, {})[sk] = (
                plain.get("words"),
                plain.get("above") or [],
                plain.get("gsi1sk"),
            )
    stale = []
    for cid, profile in profiles.items():
        wanted = {
            i["sk"]: (i["words"], i.get("above", []), i["gsi1sk"])
            for i in word_items(profile, notes.get(cid, []), resumes.get(cid, []))
        }
        if wanted != found.get(cid, {}):
            stale.append(cid)
    return stale, [cid for cid in found if cid not in profiles]


@dataclass
class SearchPage:
    """One page of a search: the people, the cursor of the next page, and what it cost."""

    people: list[CandidateSummary] = field(default_factory=list)
    cursor: str | None = None
    #: Items read: index entries, summaries and the entries checked for the other words.
    items_read: int = 0


class WordIndexRepository:
    """Writes a person's index entries and resume texts, and answers searches over them."""

    # ------------------------------------------------------------------ writes

    def put_resume_text(
        self, candidate_id: str, job_id: str, *, resume_key: str, text: str, outcome: str
    ) -> bool:
        """Keep one application's resume text, or (``job_id`` a :func:`resume_text_slot`) that of
        a resume sent with no application (False: the person is gone, nothing written)."""
        item = {
            "pk": candidate_pk(candidate_id),
            "sk": f"{RESUME_TEXT_PREFIX}{job_id}",
            "type": "resume_text",
            "candidate_id": candidate_id,
            "job_id": job_id,
            "resume_key": resume_key,
            "text": text,
            "outcome": outcome,
        }
        try:
            table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": table.key(candidate_pk(candidate_id), PROFILE),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {"Put": {"Item": table.to_item(item)}},
                ]
            )
        except table.TransactionCancelled:
            return False
        return True

    def resume_text_key(self, candidate_id: str, job_id: str) -> str | None:
        """The resume whose text is kept for one application (None: none kept)."""
        item = table.get_item(candidate_pk(candidate_id), f"{RESUME_TEXT_PREFIX}{job_id}")
        return str(item["resume_key"]["S"]) if item and "resume_key" in item else None

    def refresh(self, candidate_id: str) -> int:
        """Bring the person's entries in line with their profile, notes and resume texts: only
        what differs is written. A person without a profile (erased) keeps no entries. Returns
        how many items were written or deleted.

        The stream calls this for every change to these items; records of one partition arrive
        in order, so the last call sees the last state. A person erased while this ran is
        checked for after the writes, and anything written for them is deleted again.
        """
        pk = candidate_pk(candidate_id)
        existing = {
            str(i["sk"]["S"]): table.from_item(i)
            for i in self._items(pk, WORD_PREFIX, "pk, sk, words, above, gsi1sk")
        }
        profile_item = table.get_item(pk, PROFILE)
        if profile_item is None:
            table.batch_delete([table.key(pk, sk) for sk in existing])
            return len(existing)
        profile = table.from_item(profile_item)
        notes = [str(i.get("body", {}).get("S", "")) for i in self._items(pk, "NOTE#", "body")]
        resumes = [
            str(i.get("text", {}).get("S", ""))
            for i in self._items(pk, RESUME_TEXT_PREFIX, "#text", {"#text": "text"})
        ]
        wanted = {i["sk"]: i for i in word_items(profile, notes, resumes)}
        puts = [
            table.to_item(item)
            for sk, item in wanted.items()
            if sk not in existing
            or existing[sk].get("words") != item["words"]
            or (existing[sk].get("above") or []) != item.get("above", [])
            or existing[sk].get("gsi1sk") != item["gsi1sk"]
        ]
        deletes = [table.key(pk, sk) for sk in existing if sk not in wanted]
        table.batch_put(puts)
        table.batch_delete(deletes)
        if (puts or deletes) and table.get_item(pk, PROFILE) is None:
            self.refresh(candidate_id)  # erased meanwhile: take back what was written
        return len(puts) + len(deletes)

    def remove_orphans(self, candidate_id: str) -> int:
        """Delete the entries and resume texts of a person who has no profile; how many."""
        pk = candidate_pk(candidate_id)
        if table.get_item(pk, PROFILE) is not None:
            return 0
        keys = [
            {"pk": i["pk"], "sk": i["sk"]}
            for prefix in (WORD_PREFIX, RESUME_TEXT_PREFIX)
            for i in self._items(pk, prefix, "pk, sk")
        ]
        table.batch_delete(keys)
        return len(keys)

    @staticmethod
    def _items(
        pk: str, prefix: str, projection: str, names: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        return list(
            table.query_all(
                key_condition="pk = :pk AND begins_with(sk, :prefix)",
                values={":pk": {"S": pk}, ":prefix": {"S": prefix}},
                projection=projection,
                names=names,
            )
        )

    # ------------------------------------------------------------------ the search

    def search(self, flt: CandidateFilter, *, limit: int, cursor: str | None) -> SearchPage:
        """One page of the people every word of ``flt.q`` matches (and every other filter),
        ranked by where the longest word matched (name, email, tags, location, notes, resume),
        newest first within a place.

        Reads the longest word's bucket in pages; for each person listed there, their summary
        (one BatchGet per page: the list's columns and the filters) and, for a word their
        profile does not match, their note and resume entries of that word's bucket.
        """
        typed = w.query_words(flt.q)
        lead = w.lead_word(typed)
        if lead is None:
            raise ValueError("a free-text search needs a word of three letters or more")
        others = [x for x in typed if x != lead]
        partition = f"CANDWORD#{w.bucket(lead)}"
        start = table.decode_cursor(cursor, _KEY_NAMES)
        if start and start["gsi1pk"]["S"] != partition:
            raise table.InvalidCursor("The cursor does not belong to this search.")
        page = SearchPage()
        read, ask = 0, limit + 1
        while True:
            params: dict[str, Any] = {
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "Limit": min(ask, MAX_ENTRIES_READ - read),
            }
            if start:
                params["ExclusiveStartKey"] = start
            response = table.query(**params)
            entries = response.get("Items", [])
            start = response.get("LastEvaluatedKey")
            read += len(entries)
            page.items_read += len(entries)
            listed = [e for e in entries if w.is_listed(table.from_item(e), lead)]
            found = self._matching(listed, others, flt, page)
            listed_sks = {(e["pk"]["S"], e["sk"]["S"]) for e in listed}
            for n, entry in enumerate(entries):
                person = found.get(str(entry["id"]["S"]))
                if person is not None and (entry["pk"]["S"], entry["sk"]["S"]) in listed_sks:
                    page.people.append(person)
                if len(page.people) >= limit:
                    more = n < len(entries) - 1 or start is not None
                    page.cursor = table.cursor_from_item(entry, _KEY_NAMES) if more else None
                    return page
            if not start:
                return page
            if read >= MAX_ENTRIES_READ:
                page.cursor = table.encode_cursor(start)
                return page
            ask = max(ask, min(ask * 2, _QUERY_PAGE))

    def _matching(
        self, entries: list[dict[str, Any]], others: list[str], flt: CandidateFilter, page: SearchPage
    ) -> dict[str, CandidateSummary]:
        """Of the people of ``entries``, those every other word and filter matches, by id."""
        ids = list(dict.fromkeys(str(e["id"]["S"]) for e in entries))
        if not ids:
            return {}
        summaries = table.batch_get(
            [(candidate_pk(cid), f"{LIST_PREFIX}ALL") for cid in ids], consistent=False
        )
        page.items_read += len(summaries)
        people = {}
        for (pk, _), item in summaries.items():
            plain = table.from_item(item)
            if summary_passes(plain, flt):
                people[pk.removeprefix("CAND#")] = plain
        # Words the profile does not match: look in the person's notes and resumes.
        unmatched = {cid: [x for x in others if not w.matches_profile(p, x)] for cid, p in people.items()}
        keys = [
            (candidate_pk(cid), word_sk(w.bucket(word), tier))
            for cid, words in unmatched.items()
            for word in words
            for tier in w.TEXT_TIERS
        ]
        text_entries = table.batch_get(keys, consistent=False) if keys else {}
        page.items_read += len(text_entries)
        out = {}
        for cid, person in people.items():
            pk = candidate_pk(cid)
            if all(
                any(
                    w.starts_any(_words(text_entries.get((pk, word_sk(w.bucket(word), tier)))), word)
                    for tier in w.TEXT_TIERS
                )
                for word in unmatched[cid]
            ):
                out[cid] = CandidateSummary.model_validate(person)
        return out


def _words(item: Mapping[str, Any] | None) -> list[str]:
    if not item:
        return []
    return [str(v["S"]) for v in item.get("words", {}).get("L", [])]
