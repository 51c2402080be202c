"""Recruiter and integration API: pools (talent pools and pipelines) and their members."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.service import CandidateService
from crm.pools.models import Pool, PoolCreate, PoolMember, PoolMemberAdd, PoolPatch
from crm.pools.service import PoolService

bp = Blueprint(__name__)


class PoolListQuery(PageQuery):
    """``?limit=N&cursor=C``, and ``archived=true`` for the archived pools instead of the active ones."""

    archived: bool = Field(default=False, description="true: only the archived pools")


@endpoint(
    bp,
    "/v1/pools",
    "GET",
    summary="List the active pools by name (?archived=true: only the archived ones)",
    tag="pools",
    permission="read",
    query=PoolListQuery,
    response=Pool,
    paginated=True,
)
def list_pools(call: Call) -> dict[str, Any]:
    query: PoolListQuery = call.query
    items, next_cursor = PoolService().list_page(
        limit=query.limit, cursor=query.cursor, archived=query.archived
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/pools",
    "POST",
    summary="Create a pool (409 naming name when another pool has the name, in any case)",
    tag="pools",
    permission="write",
    body=PoolCreate,
    response=Pool,
    status=201,
    errors=(409,),
)
def create_pool(call: Call) -> Pool:
    return PoolService().create(call.body)


@endpoint(
    bp,
    "/v1/pools/{pool_id}",
    "GET",
    summary="Get a pool",
    tag="pools",
    permission="read",
    response=Pool,
    errors=(404,),
)
def get_pool(call: Call, pool_id: str) -> Pool:
    return PoolService().get(pool_id)


@endpoint(
    bp,
    "/v1/pools/{pool_id}",
    "PATCH",
    summary="Rename a pool and/or archive or unarchive it (409 naming name when another pool has it)",
    tag="pools",
    permission="write",
    body=PoolPatch,
    response=Pool,
    errors=(404, 409, 422),
)
def update_pool(call: Call, pool_id: str) -> Pool:
    return PoolService().update(pool_id, call.body)


@endpoint(
    bp,
    "/v1/pools/{pool_id}/members",
    "GET",
    summary="Members of a pool with their stage",
    tag="pools",
    permission="read",
    query=PageQuery,
    response=PoolMember,
    paginated=True,
    errors=(404,),
)
def list_members(call: Call, pool_id: str) -> dict[str, Any]:
    PoolService().get(pool_id)
    items, next_cursor = CandidateService().list_page(
        CandidateFilter(pool=pool_id), limit=call.query.limit, cursor=call.query.cursor
    )
    members = [PoolMember(candidate=c, stage=c.pools.get(pool_id, "")) for c in items]
    return page(members, next_cursor)


@endpoint(
    bp,
    "/v1/pools/{pool_id}/members",
    "POST",
    summary="Add a candidate to a pool, or move them to another stage (409: an archived pool takes "
    "no new members)",
    tag="pools",
    permission="write",
    body=PoolMemberAdd,
    response=Candidate,
    status=201,
    errors=(404, 409),
)
def add_member(call: Call, pool_id: str) -> Candidate:
    body: PoolMemberAdd = call.body
    return PoolService().add_member(pool_id, body.candidate_id, body.stage, actor=call.actor)


@endpoint(
    bp,
    "/v1/pools/{pool_id}/members/{candidate_id}",
    "DELETE",
    summary="Remove a candidate from a pool",
    tag="pools",
    permission="write",
    status=204,
    errors=(404,),
)
def remove_member(call: Call, pool_id: str, candidate_id: str) -> None:
    PoolService().get(pool_id)
    CandidateService().set_pool_stage(candidate_id, pool_id, None, actor=call.actor)
