"""Pools and their pipeline boards: create and list pools, add, move and remove members, and a
pool's members grouped by stage.

A stage is free text on the member (``Candidate.pools``: pool id -> stage, see ``PoolMemberAdd``);
a board shows the usual stages in pipeline order, then any other stage a member is in. The member
list comes from the pool's list projection (eventually consistent), and each member's stage from
their profile (strongly consistent), so a move shows on the board at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.service import CandidateService
from crm.platform.errors import Conflict, NotFound
from crm.platform.fields import Email, Stage
from crm.platform.ids import new_id, utcnow
from crm.platform.models import Input
from crm.pools.models import Pool, PoolCreate, PoolMember, PoolPatch
from crm.pools.repository import PoolRepository, name_taken

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
    """Members grouped by their stage in ``pool_id``: the usual stages first, then others by name;
    within a column by first name, last name, id."""
    extra = sorted({m.pools[pool_id] for m in members} - set(STAGES), key=str.casefold)
    columns = {stage: Column(stage) for stage in (*STAGES, *extra)}
    for member in sorted(members, key=lambda m: (m.first_name.casefold(), m.last_name.casefold(), m.id)):
        columns[member.pools[pool_id]].members.append(member)
    return list(columns.values())


class PoolService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it.
    Members are written through ``candidates`` (the stage lives on the candidate)."""

    def __init__(
        self,
        repository: PoolRepository | None = None,
        *,
        candidates: CandidateService | None = None,
        now: Callable[[], str] = utcnow,
    ) -> None:
        self.repository = repository if repository is not None else PoolRepository()
        self.candidates = candidates if candidates is not None else CandidateService()
        self.now = now

    def create(self, data: PoolCreate) -> Pool:
        """A new pool; a name another pool has (trimmed, any case) is a ``Conflict`` on ``name``."""
        if self.repository.holders_of(data.name):
            raise name_taken(data.name)
        return self.repository.insert(
            Pool(id=new_id(), name=data.name, description=data.description, created_at=self.now())
        )

    def get(self, pool_id: str) -> Pool:
        return self.repository.get(pool_id)

    def list_page(
        self, *, limit: int, cursor: str | None, archived: bool = False
    ) -> tuple[list[Pool], str | None]:
        """The active pools by name, or (``archived``) only the archived ones."""
        return self.repository.list_page(limit=limit, cursor=cursor, archived=archived)

    def update(self, pool_id: str, patch: PoolPatch) -> Pool:
        """Rename and/or archive or unarchive a pool (``NotFound``; ``Conflict`` on ``name`` for a
        name another pool has). Archiving keeps every member and their stage."""
        current = self.repository.get(pool_id)
        changes = patch.changes()
        name: str | None = changes.get("name")
        archived: bool | None = changes.get("archived")
        if name == current.name:
            name = None
        if archived == current.archived:
            archived = None
        if name is None and archived is None:
            return current
        if name is not None and any(i != pool_id for i in self.repository.holders_of(name)):
            raise name_taken(name)
        return self.repository.update(current, name=name, archived=archived, now=self.now())

    def open_pool(self, pool_id: str, candidate_id: str | None = None) -> Pool:
        """The pool, when ``candidate_id`` may be put in it (or moved in it): an archived pool takes
        no new members (``Conflict``); its members can still be moved or removed."""
        pool = self.repository.get(pool_id)
        if pool.archived and (candidate_id is None or pool_id not in self.candidates.get(candidate_id).pools):
            raise Conflict(
                f"The pool {pool.name} is archived: it takes no new members. Unarchive it first.",
                field="pool",
            )
        return pool

    # ------------------------------------------------------------------ members

    def members_page(
        self, pool_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[PoolMember], str | None]:
        """One page of a pool's members with their stage (``NotFound`` for no such pool)."""
        self.repository.get(pool_id)
        items, next_cursor = self.candidates.list_page(
            CandidateFilter(pool=pool_id), limit=limit, cursor=cursor
        )
        return [PoolMember(candidate=c, stage=c.pools.get(pool_id, "")) for c in items], next_cursor

    def add_member(self, pool_id: str, candidate_id: str, stage: str, *, actor: str) -> Candidate:
        """Add a candidate to a pool that exists and is not archived, or move them to ``stage``."""
        self.open_pool(pool_id, candidate_id)
        return self.candidates.set_pool_stage(candidate_id, pool_id, stage, actor=actor)

    def remove_member(self, pool_id: str, candidate_id: str, *, actor: str) -> None:
        """Take a member out of a pool that exists (``NotFound`` when they are not in it)."""
        self.repository.get(pool_id)
        self.candidates.set_pool_stage(candidate_id, pool_id, None, actor=actor)

    def add_member_by_email(self, pool: Pool, email: str, stage: str, *, actor: str) -> str | None:
        """Add the candidate with this email to ``pool``; their id, or None when nobody has it."""
        candidate_id = self.candidates.find_id_by_email(email)
        if candidate_id is not None:
            self.open_pool(pool.id, candidate_id)
            self.candidates.set_pool_stage(candidate_id, pool.id, stage, actor=actor)
        return candidate_id

    def member(self, pool: Pool, candidate_id: str) -> Candidate:
        """A member of ``pool`` (``NotFound`` for no such candidate, or one not in the pool)."""
        candidate = self.candidates.get(candidate_id)
        if pool.id not in candidate.pools:
            raise NotFound(f"Candidate {candidate_id} is not in pool {pool.id}.")
        return candidate

    def move_member(self, pool: Pool, candidate_id: str, stage: str, *, actor: str) -> Candidate:
        """Move a member of ``pool`` (see :meth:`member`) to ``stage``."""
        return self.candidates.set_pool_stage(candidate_id, pool.id, stage, actor=actor)

    def board(self, pool_id: str, *, also: tuple[str, ...] = ()) -> Board:
        """The board of a pool that exists. ``also``: candidates just added or moved, read even when
        the list projection has not caught up with them yet."""
        ids: list[str] = []
        cursor: str | None = None
        while len(ids) < BOARD_LIMIT:
            items, cursor = self.candidates.list_page(
                CandidateFilter(pool=pool_id), limit=_PAGE, cursor=cursor
            )
            ids.extend(i.id for i in items)
            if cursor is None:
                break
        truncated = cursor is not None
        ids = list(dict.fromkeys([*ids[:BOARD_LIMIT], *also]))
        profiles = self.candidates.get_many(ids)
        members = [profiles[i] for i in ids if i in profiles and pool_id in profiles[i].pools]
        return Board(columns=columns_for(members, pool_id), truncated=truncated)
