"""A pool's pipeline board: its members grouped by stage, read as the JSON API reads them.

A stage is free text on the member (``Candidate.pools``: pool id -> stage, see ``PoolMemberAdd``);
a board shows the usual stages in pipeline order, then any other stage a member is in. The member
list comes from the pool's list projection (eventually consistent), and each member's stage from
their profile (strongly consistent), so a move shows on the board at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.repository import CandidateRepository
from crm.platform.fields import Email, Stage
from crm.platform.models import Input
from crm.pools.models import Pool, PoolCreate
from crm.pools.repository import PoolRepository

#: The columns every board shows, in pipeline order (``sourced`` is the API's default stage).
STAGES: tuple[str, ...] = ("sourced", "contacted", "interview", "offer", "hired")
#: At most this many members are read for one board.
BOARD_LIMIT = 500
_PAGE = 100


class MemberByEmail(Input):
    """The board's "add a candidate" form: who (by email) and the stage they start in."""

    email: Email
    stage: Stage = "sourced"


class StageChoice(Input):
    """The board's "move" form."""

    stage: Stage


@dataclass
class Column:
    stage: str
    members: list[Candidate] = field(default_factory=list)


@dataclass
class Board:
    columns: list[Column]
    truncated: bool

    @property
    def stages(self) -> list[str]:
        return [c.stage for c in self.columns]

    @property
    def size(self) -> int:
        return sum(len(c.members) for c in self.columns)


def columns_for(members: list[Candidate], pool_id: str) -> list[Column]:
    """Members grouped by their stage in ``pool_id``: the usual stages first, then others by name."""
    extra = sorted({m.pools[pool_id] for m in members} - set(STAGES), key=str.casefold)
    columns = {stage: Column(stage) for stage in (*STAGES, *extra)}
    for member in sorted(members, key=lambda m: (m.first_name.casefold(), m.last_name.casefold(), m.id)):
        columns[member.pools[pool_id]].members.append(member)
    return list(columns.values())


def board(pool_id: str, *, also: tuple[str, ...] = ()) -> Board:
    """The board of a pool that exists. ``also``: candidates just added or moved, read even when the
    list projection has not caught up with them yet."""
    repository = CandidateRepository()
    ids: list[str] = []
    cursor: str | None = None
    while len(ids) < BOARD_LIMIT:
        items, cursor = repository.list_page(CandidateFilter(pool=pool_id), limit=_PAGE, cursor=cursor)
        ids.extend(i.id for i in items)
        if cursor is None:
            break
    truncated = cursor is not None
    ids = list(dict.fromkeys([*ids[:BOARD_LIMIT], *also]))
    profiles = repository.get_many(ids)
    members = [profiles[i] for i in ids if i in profiles and pool_id in profiles[i].pools]
    return Board(columns=columns_for(members, pool_id), truncated=truncated)


class PoolService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: PoolRepository | None = None) -> None:
        self.repository = repository or PoolRepository()

    def create(self, data: PoolCreate) -> Pool:
        return self.repository.create(data)

    def get(self, pool_id: str) -> Pool:
        return self.repository.get(pool_id)

    def list_page(self, *, limit: int, cursor: str | None) -> tuple[list[Pool], str | None]:
        return self.repository.list_page(limit=limit, cursor=cursor)
