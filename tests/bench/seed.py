"""Realistic candidates, written straight into moto's DynamoDB back end (in this process).

Each candidate becomes exactly the items the product would hold for it: the profile as
``CandidateRepository`` writes it (``Candidate.model_dump()`` plus keys) and the list projections
the stream worker would write (``crm.candidates.projections.projection_items``), serialised with
``crm.platform.table.to_item``. Only moto's own bookkeeping is skipped: its ``put_item`` re-measures
the whole item for every attribute it adds (quadratic) and appends a stream record, which would
make 100,000 candidates take over an hour. Items go into the table's key map directly, in key
order, which is what ``put_item`` would leave behind; moto's Query reads the same map.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from crm.candidates.models import Candidate
from crm.candidates.repository.projections import projection_items
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
POOLS = [f"{n:032x}" for n in range(1, 9)]
STAGES = ["sourced", "contacted", "interested", "interviewing"]


def _weighted(rng: random.Random, table: list[tuple[str, int]], k: int) -> list[str]:
    names = [n for n, _ in table]
    weights = [w for _, w in table]
    out: set[str] = set()
    while len(out) < k:
        out.add(rng.choices(names, weights)[0])
    return sorted(out)


def candidate(n: int, rng: random.Random, extra_tag: str | None = None) -> dict[str, Any]:
    """Candidate number ``n``: ids and creation times grow with ``n`` (uuid4-hex shaped ids)."""
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
        location=rng.choice(CITIES),
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
    profile = dict(data)
    profile.update(pk=f"CAND#{data['id']}", sk="PROFILE", type="candidate", email_normalised=data["email"])
    items = [to_item(profile), *(to_item(i) for i in projection_items(data))]
    return sorted(items, key=lambda i: i["sk"]["S"])


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

        table = self.table
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
    """Write candidates ``start .. start+count-1``; returns the number of items written.

    The cyclic garbage collector is paused while loading (each pass would walk every item already
    loaded, which made loading five times slower) and the loaded items are then frozen out of its
    reach, so later collections in this process (moto serving requests) do not walk them either.
    """
    import gc

    before = loader.count
    stream = candidates(start, count, extra_tag=extra_tag)
    if progress:
        from tqdm import tqdm

        stream = tqdm(stream, total=count, desc=progress, unit="cand", mininterval=2.0, leave=True)
    gc.disable()
    try:
        for data in stream:
            loader.put(candidate_items(data))
    finally:
        gc.freeze()
        gc.enable()
    return loader.count - before
