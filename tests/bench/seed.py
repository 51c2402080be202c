"""Realistic candidates, written straight into moto's DynamoDB back end (in this process).

Each candidate becomes exactly the items the product would hold for it: the profile as
``CandidateRepository`` writes it (``Candidate.model_dump()`` plus keys) and the list projections
the stream worker would write (``crm.candidates.projections.projection_items``), serialised with
``crm.platform.table.to_item``. Only moto's own bookkeeping is skipped: its ``put_item`` re-measures
the whole item for every attribute it adds (quadratic) and appends a stream record, which would
make 100,000 candidates take over an hour. Items go into the table's key map directly, in key
order, which is what ``put_item`` would leave behind; moto's Query reads the same map.

The list-scaling table's people (:func:`load_people`) also carry words for the free-text search:
a location from a fixed mix (:data:`SEARCH_CITIES`), for a share a short recruiter's note
(:data:`NOTE_SENTENCES`), and the word index items the stream worker would write for them
(``crm.candidates.repository.words.word_items``); of the list projections they carry only those
figure 4 reads (:data:`READ_PROJECTIONS`). Each person's draws repeat every ``period``
numbers, so a table of 100,000 is the table of 1,000 a hundred times over (new ids, emails and
creation times): the same proportions exactly, and the newest 1,000 people of the large table are
drawn as the 1,000 of the small one, so a page read newest first meets the same mix in both.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

from crm.candidates.models import Candidate, Note
from crm.candidates.repository.projections import projection_items
from crm.candidates.repository.words import word_items
from crm.platform.table import to_item


def _words(text: str) -> list[str]:
    return text.split()


# Tag popularity in a talent pool (weights): people carry one to three tags, two on average, and
# about 18% of them carry "python"; about 6% are in a pool.
TAGS = [
    (name, int(weight))
    for name, weight in (
        pair.split(":")
        for pair in _words(
            "python:12 java:12 javascript:14 aws:9 sql:10 react:8 go:4 rust:2 kubernetes:5 data:6 design:5"
            " sales:7 marketing:6 support:5 finance:4 hr:3 devops:5 mobile:4 security:3 ml:4"
        )
    )
]
SOURCES = [("talent-network", 50), ("job-application", 35), ("referral", 8), ("import", 7)]
FIRST = _words(
    "Ann Bob Chloé Dara Emil Fatima Goran Hana Ivan Jia Kofi Lena Mateo Nora Omar Priya Quinn Rosa Sven Tomás"
    " Uma Vera Wei Yusuf"
)
LAST = _words(
    "Lee Smith García Müller Nguyen Okafor Rossi Kowalski Tanaka Silva Haddad Novak Jensen Dubois Ivanova"
    " Khan Olsen Costa Popescu Meyer"
)
CITIES = ["Berlin", "Lisbon", "London", "Madrid", "Paris", "Warsaw", "Remote", None]
# Where the list-scaling table's people live (weights, in %): the pool of a Berlin recruiter, so
# that "python berlin" fills two pages of 25 in a table of 1,000 (about 18% x 35% = 6% match).
SEARCH_CITIES = [
    (name or None, int(weight))
    for name, weight in (
        pair.split(":")
        for pair in _words(
            "Berlin:35 Remote:15 London:10 Munich:8 Hamburg:7 Lisbon:6 Paris:5 Warsaw:5 Madrid:4 :5"
        )
    )
]
# Share of those people with a recruiter's note, and its sentences (one or two, weighted). The
# last two are rare words: "elixir" alone in its bucket, "pytest" in the bucket of "python".
NOTE_SHARE = 0.3
NOTE_SENTENCES = [
    ("Strong Python and Django background.", 14),
    ("Open to relocating to Berlin next year.", 12),
    ("Ran Kubernetes clusters in production with kubectl and Helm.", 9),
    ("Prefers remote work, available from March.", 12),
    ("Met at the Lisbon meetup; follow up after the summer.", 10),
    ("Asked about salary bands and equity.", 12),
    ("Senior engineer who leads a team of five.", 12),
    ("Looking for a product role in fintech.", 11),
    ("Wrote Elixir services for a payments startup.", 1),
    ("Maintains pytest plugins in their spare time.", 1),
]
NOTE_AUTHOR = "recruiter@example.com"
POOLS = [f"{n:032x}" for n in range(1, 9)]
STAGES = ["sourced", "contacted", "interested", "interviewing"]


def _weighted(rng: random.Random, table: list[tuple[str, int]], k: int) -> list[str]:
    names = [n for n, _ in table]
    weights = [w for _, w in table]
    out: set[str] = set()
    while len(out) < k:
        out.add(rng.choices(names, weights)[0])
    return sorted(out)


def candidate(
    n: int,
    rng: random.Random,
    extra_tag: str | None = None,
    *,
    cities: list[tuple[str | None, int]] | None = None,
) -> dict[str, Any]:
    """Candidate number ``n``: ids and creation times grow with ``n`` (uuid4-hex shaped ids).
    ``cities``: weighted locations (default: one of :data:`CITIES`, evenly)."""
    cid = f"{n:012x}{rng.getrandbits(80):020x}"
    second = 1_700_000_000 + n * 37
    created = _iso(second)
    updated = _iso(second + rng.randrange(0, 90 * 86400))
    sources = _weighted(rng, SOURCES, 1 + (rng.random() < 0.15))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    pools = {p: rng.choice(STAGES) for p in rng.sample(POOLS, 1)} if rng.random() < 0.06 else {}
    consents = (
        {"marketing": {"topic": "marketing", "granted": True, "at": created, "source": sources[0]}}
        if rng.random() < 0.4
        else {}
    )
    model = Candidate(
        id=cid,
        email=f"{first.lower()}.{last.lower()}.{n}@example.com",
        first_name=first,
        last_name=last,
        phone=f"+4930{rng.randrange(10**7, 10**8)}" if rng.random() < 0.5 else None,
        location=rng.choices([c for c, _ in cities], [w for _, w in cities])[0]
        if cities
        else rng.choice(CITIES),
        linkedin_url=f"https://www.linkedin.com/in/c{n}" if rng.random() < 0.3 else None,
        tags=sorted({*_weighted(rng, TAGS, rng.choice((1, 2, 2, 3))), *([extra_tag] if extra_tag else [])}),
        source=sources[0],
        sources=sources,
        pools=pools,
        consents=consents,
        version=rng.choice((1, 1, 2, 3)),
        created_at=created,
        updated_at=updated,
    )
    return model.model_dump()


def _iso(second: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def candidate_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """DynamoDB items for one candidate: profile and list projections, in key order."""
    items = [_profile_item(data), *(to_item(i) for i in projection_items(data))]
    return sorted(items, key=lambda i: i["sk"]["S"])


def _profile_item(data: dict[str, Any]) -> dict[str, Any]:
    profile = dict(data)
    profile.update(pk=f"CAND#{data['id']}", sk="PROFILE", type="candidate", email_normalised=data["email"])
    return to_item(profile)


def note(rng: random.Random) -> str | None:
    """A recruiter's note for :data:`NOTE_SHARE` of people: one or two sentences."""
    if rng.random() >= NOTE_SHARE:
        return None
    texts = [t for t, _ in NOTE_SENTENCES]
    weights = [w for _, w in NOTE_SENTENCES]
    chosen: list[str] = []
    for _ in range(rng.choice((1, 2))):
        text = rng.choices(texts, weights)[0]
        if text not in chosen:
            chosen.append(text)
    return " ".join(chosen)


#: The list projections figure 4 reads: the tag list (``?tag=python``) and the summary a search
#: reads for each person it lists. A searchable person carries only these of the projections
#: (the name index, email, source and pool lists are left out: no figure-4 request reads them, and
#: with them 100,000 people were 2.26 million items and took 415 s to load instead of 234 s).
READ_PROJECTIONS = ("LIST#ALL", "LIST#TAG#")


def person_items(data: dict[str, Any], note_text: str | None) -> list[dict[str, Any]]:
    """DynamoDB items for one searchable person, in key order: the profile and the projections of
    :data:`READ_PROJECTIONS` (as :func:`candidate_items` writes them), the note (as
    ``CandidateRepository.add_note`` writes it) and the word index entries (as the stream's
    ``WordIndexRepository.refresh`` writes them)."""
    items = [_profile_item(data)]
    items += [to_item(i) for i in projection_items(data) if str(i["sk"]).startswith(READ_PROJECTIONS)]
    notes = []
    if note_text:
        at = data["updated_at"]
        written = Note(
            id=hashlib.md5(f"note {data['id']}".encode()).hexdigest(),
            candidate_id=data["id"],
            body=note_text,
            author=NOTE_AUTHOR,
            created_at=at,
        ).model_dump()
        written.update(pk=f"CAND#{data['id']}", sk=f"NOTE#{at}#{written['id']}", type="note")
        items.append(to_item(written))
        notes.append(note_text)
    items += [to_item(i) for i in word_items(data, notes, [])]
    return sorted(items, key=lambda i: i["sk"]["S"])


def people(
    start: int, count: int, *, period: int, seed: int = 11
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Searchable people ``start .. start+count-1``: a candidate (located by
    :data:`SEARCH_CITIES`) and maybe a note; person ``n`` is drawn as person ``n % period``."""
    for n in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + n % period)
        data = candidate(n, rng, cities=SEARCH_CITIES)
        yield data, note(rng)


def candidates(
    start: int, count: int, seed: int = 7, extra_tag: str | None = None
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed * 1_000_003 + start)
    for n in range(start, start + count):
        yield candidate(n, rng, extra_tag)


class DirectLoader:
    """Writes items into one moto table of this process's DynamoDB back end."""

    def __init__(self, table_name: str, account: str = "123456789012", region: str = "us-east-1") -> None:
        from moto.backends import get_backend

        self.table = get_backend("dynamodb")[account][region].get_table(table_name)
        self.count = 0

    def put(self, items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        from tests.bench import moto_speed

        table = self.table
        moto_speed.forget(table)
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        new = object.__new__

        def dynamo(value: dict[str, Any]) -> Any:
            # moto's DynamoType(value), without its per-object type checks
            out = new(DynamoType)
            ((kind, raw),) = value.items()
            if kind == "M":
                raw = {k: dynamo(v) for k, v in raw.items()}
            elif kind == "L":
                raw = [dynamo(v) for v in raw]
            out.type = kind
            out.value = raw
            return out

        bucket: dict[Any, Any] | None = None
        bucket_key = None
        for raw in items:
            attrs = {k: dynamo(v) for k, v in raw.items()}
            item = new(Item)
            item.hash_key, item.range_key = attrs[hash_attr], attrs[range_attr]
            # dict.update (what LimitedSizeDict's constructor uses) skips its per-attribute re-measure.
            item.attrs = LimitedSizeDict(attrs)
            if bucket is None or item.hash_key.value != bucket_key:
                bucket, bucket_key = table.items[item.hash_key], item.hash_key.value
            bucket[item.range_key] = item
            self.count += 1


def load(
    loader: DirectLoader, start: int, count: int, *, progress: str | None = None, extra_tag: str | None = None
) -> int:
    """Write candidates ``start .. start+count-1``; returns the number of items written."""
    stream = (candidate_items(data) for data in candidates(start, count, extra_tag=extra_tag))
    return _load(loader, stream, count, progress)


def load_people(
    loader: DirectLoader, start: int, count: int, *, period: int, progress: str | None = None
) -> int:
    """Write searchable people ``start .. start+count-1`` (:func:`people`); returns the number of
    items written."""
    stream = (person_items(data, text) for data, text in people(start, count, period=period))
    return _load(loader, stream, count, progress)


def _load(
    loader: DirectLoader, stream: Iterator[list[dict[str, Any]]], count: int, progress: str | None
) -> int:
    """Write each person's items.

    The cyclic garbage collector is paused while loading (each pass would walk every item already
    loaded, which made loading five times slower) and the loaded items are then frozen out of its
    reach, so later collections in this process (moto serving requests) do not walk them either.
    """
    import gc

    before = loader.count
    if progress:
        from tqdm import tqdm

        stream = tqdm(stream, total=count, desc=progress, unit="cand", mininterval=2.0, leave=True)
    gc.disable()
    try:
        for items in stream:
            loader.put(items)
    finally:
        gc.freeze()
        gc.enable()
    return loader.count - before
