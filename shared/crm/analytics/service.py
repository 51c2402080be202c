"""What the recruiter dashboard counts: members per pipeline stage across pools, candidates by
source, the newest campaigns, reminders by when they fall due. Every ``read_*`` is bounded work
(Query only, a cap on pools, members and pages, which the page says when reached); drawing the
charts is the UI's (``chalicelib.ui.charts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crm.campaigns.models import Campaign
from crm.campaigns.service import CampaignService
from crm.candidates.models import CandidateCreate
from crm.candidates.service import JOB_APPLICATION, TALENT_NETWORK, CandidateService
from crm.pools.models import Pool
from crm.pools.service import PoolService

# ------------------------------------------------------------------------------ what is read

POOL_CAP = 50  # pools read for the pipeline chart (the first by name)
MEMBER_CAP = 2_000  # members counted per pool
SOURCE_PAGES = 5  # Query pages (1 MB each) counted per source
CAMPAIGNS = 5  # the newest campaigns in the engagement chart

API_SOURCE = str(CandidateCreate.model_fields["source"].default)
KNOWN_SOURCES: tuple[str, ...] = (
    API_SOURCE,
    TALENT_NETWORK,
    JOB_APPLICATION,
    "career-site",
    "linkedin",
    "referral",
    "github",
    "event",
    "agency",
    "import",
)
STAGE_ORDER = ("sourced", "contacted", "screening", "interview", "offer", "hired", "rejected")
ENGAGEMENT = ("sent", "delivered", "opened", "clicked", "bounced")


@dataclass(frozen=True)
class PoolStages:
    pool_id: str
    name: str
    counts: dict[str, int]
    truncated: bool = False  # more members than MEMBER_CAP: only the first were counted

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Pipeline:
    pools: list[PoolStages]
    more_pools: bool  # there are pools beyond the first POOL_CAP

    @property
    def stages(self) -> list[str]:
        return order_stages(s for p in self.pools for s in p.counts)

    @property
    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(self.stages, 0)
        for pool in self.pools:
            for stage, count in pool.counts.items():
                totals[stage] += count
        return totals

    @property
    def truncated(self) -> bool:
        return self.more_pools or any(p.truncated for p in self.pools)


@dataclass(frozen=True)
class SourceCount:
    source: str
    count: int
    at_least: bool = False  # the count stopped at SOURCE_PAGES pages


def order_stages(stages: Iterable[str]) -> list[str]:
    """The usual pipeline order first (sourced ... hired, rejected), any other stage after, A-Z."""
    found = set(stages)
    known = [s for s in STAGE_ORDER if s in found]
    return known + sorted(found - set(STAGE_ORDER), key=str.lower)


def count_stages(pool_id: str, members: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Members per stage of one pool, from member summaries carrying the ``pools`` map."""
    counts: dict[str, int] = {}
    for member in members:
        stage = str((member.get("pools") or {}).get(pool_id) or "").strip() or "(no stage)"
        counts[stage] = counts.get(stage, 0) + 1
    return counts


def _pool_members(pool_id: str) -> tuple[dict[str, int], bool]:
    """Stage counts of one pool's members (its list projection, only the stage read)."""
    members, truncated = CandidateService().pool_member_stages(pool_id, cap=MEMBER_CAP)
    return count_stages(pool_id, members), truncated


def read_pipeline() -> Pipeline:
    pools: list[Pool]
    pools, more = PoolService().list_page(limit=POOL_CAP, cursor=None)
    stages = []
    for pool in pools:
        counts, truncated = _pool_members(pool.id)
        stages.append(PoolStages(pool_id=pool.id, name=pool.name, counts=counts, truncated=truncated))
    return Pipeline(pools=stages, more_pools=more is not None)


def _source_count(source: str) -> SourceCount:
    count, at_least = CandidateService().count_by_source(source, max_pages=SOURCE_PAGES)
    return SourceCount(source, count, at_least=at_least)


def read_sources(sources: Sequence[str] = KNOWN_SOURCES) -> list[SourceCount]:
    """Candidates per known source, most first (sources with none left out)."""
    counts = [_source_count(s) for s in sources]
    return sorted((c for c in counts if c.count), key=lambda c: (-c.count, c.source))


def read_campaigns(limit: int = CAMPAIGNS) -> list[Campaign]:
    campaigns, _ = CampaignService().list_page(limit=limit, cursor=None)
    return campaigns


# ------------------------------------------------------------------------------ reminders

REMINDER_CAP = 100  # the signed-in recruiter's reminders read for the reminders chart
REMINDER_BUCKETS = ("Due now", "In the next 24 hours", "In the next 7 days", "Later")


def reminder_buckets(due_at: Iterable[str], now: datetime) -> list[tuple[str, int]]:
    """How many reminders fall due when: (bucket, count) in REMINDER_BUCKETS order.

    ``due_at``: ISO times (a ``Z`` or offset; none means UTC); unreadable ones count as due."""
    counts = dict.fromkeys(REMINDER_BUCKETS, 0)
    for value in due_at:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            counts["Due now"] += 1
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        ahead = when - now
        if ahead <= timedelta(0):
            bucket = "Due now"
        elif ahead <= timedelta(days=1):
            bucket = "In the next 24 hours"
        elif ahead <= timedelta(days=7):
            bucket = "In the next 7 days"
        else:
            bucket = "Later"
        counts[bucket] += 1
    return list(counts.items())
