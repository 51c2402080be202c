"""The recruiter UI: pools and their pipeline boards.

The forms use what the JSON API uses: ``PoolCreate`` and ``PoolRepository`` to create a pool,
``CandidateRepository.set_pool_stage`` to add or move a member (which writes the timeline activity).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    Session,
    field_errors,
    page,
    paging,
    query_value,
    see_other,
    text,
    ui_route,
)
from crm.candidates.service import CandidateService
from crm.platform.errors import Conflict, NotFound
from crm.pools import service as pipeline
from crm.pools.models import PoolCreate, PoolPatch
from crm.pools.service import PoolService

bp = Blueprint(__name__)

PAGE_SIZE = 50
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOTICES = {
    "created": "The pool is created.",
    "added": "The candidate is added to the pool.",
    "moved": "The candidate is moved.",
    "removed": "The candidate is out of the pool (their profile is kept).",
    "renamed": "The pool is renamed.",
    "archived": "The pool is archived.",
    "unarchived": "The pool is back in the pool list.",
}


# ------------------------------------------------------------------------------- pools


def _pools_page(
    call: Call,
    session: Session,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    cursor = query_value(call, "cursor") or None
    archived = query_value(call, "archived") == "true"
    items, next_cursor = PoolService().list_page(limit=PAGE_SIZE, cursor=cursor, archived=archived)
    return page(
        "ui_pools.html",
        status=status,
        session=session,
        items=items,
        archived=archived,
        **paging("/ui/pools", cursor, next_cursor, given={"archived": "true"} if archived else None),
        form=form or {"name": "", "description": ""},
        errors=errors or {},
    )


@ui_route(
    "/ui/pools",
    "GET",
    "Recruiter UI: pools (?cursor; ?archived=true: the archived ones) and the form for a new one",
    blueprint=bp,
)
def ui_pools(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    return _pools_page(call, session)


@ui_route(
    "/ui/pools",
    "POST",
    "Recruiter UI: create a pool (form: csrf, name, description)",
    blueprint=bp,
    errors=(403, 409, 422),
)
def ui_create_pool(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    form = {"name": text(fields.get("name")), "description": text(fields.get("description"))}
    try:
        data = PoolCreate.model_validate(form)
    except ValidationError as exc:
        return _pools_page(call, session, status=422, form=form, errors=field_errors(exc))
    try:
        pool = PoolService().create(data)
    except Conflict as exc:
        return _pools_page(call, session, status=409, form=form, errors={"name": _taken(exc)})
    return see_other(f"/ui/pools/{quote(pool.id)}?done=created")


def _taken(error: Conflict) -> str:
    return error.errors[0]["message"] if error.errors else error.detail


# ------------------------------------------------------------------------------- the board


def _board_page(
    call: Call,
    session: Session,
    pool_id: str,
    *,
    status: int = 200,
    add_form: dict[str, str] | None = None,
    add_errors: dict[str, str] | None = None,
    move_errors: dict[str, str] | None = None,
    rename_form: dict[str, str] | None = None,
    rename_errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    pool = PoolService().get(pool_id)
    focus = query_value(call, "candidate")
    also = tuple(i for i in (focus, *(move_errors or {})) if ID.match(i))
    board = PoolService().board(pool_id, also=also)
    notice = NOTICES.get(query_value(call, "done")) if status == 200 else None
    return page(
        "ui_pool.html",
        status=status,
        session=session,
        pool=pool,
        board=board,
        notice=notice,
        add_form=add_form or {"email": "", "stage": "sourced"},
        add_errors=add_errors or {},
        move_errors=move_errors or {},
        rename_form=rename_form or {"name": pool.name},
        rename_errors=rename_errors or {},
        problem=problem,
    )


@ui_route(
    "/ui/pools/{pool_id}",
    "GET",
    "Recruiter UI: a pool's pipeline board (a column per stage) with add and move forms",
    blueprint=bp,
    errors=(404,),
)
def ui_pool(call: Call, session: Session, fields: dict[str, Any], pool_id: str) -> Response:
    return _board_page(call, session, pool_id)


def _board_url(pool_id: str, done: str, candidate_id: str) -> str:
    return f"/ui/pools/{quote(pool_id)}?{urlencode({'done': done, 'candidate': candidate_id})}#board"


@ui_route(
    "/ui/pools/{pool_id}/members",
    "POST",
    "Recruiter UI: add a candidate to a pool by email (form: csrf, email, stage)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_add_member(call: Call, session: Session, fields: dict[str, Any], pool_id: str) -> Response:
    pool = PoolService().get(pool_id)
    if pool.archived:
        problem = "This pool is archived: it takes no new members. Unarchive it first."
        return _board_page(call, session, pool_id, status=409, problem=problem)
    form = {"email": text(fields.get("email")), "stage": text(fields.get("stage")) or "sourced"}
    try:
        data = pipeline.MemberByEmail.model_validate(form)
    except ValidationError as exc:
        return _board_page(call, session, pool_id, status=422, add_form=form, add_errors=field_errors(exc))
    candidate_id = CandidateService().find_id_by_email(data.email)
    if candidate_id is None:
        errors = {"email": "No candidate has this email; add them as someone new with the link below."}
        return _board_page(call, session, pool_id, status=422, add_form=form, add_errors=errors)
    PoolService().add_member(pool_id, candidate_id, data.stage, actor=session.principal.actor)
    return see_other(_board_url(pool_id, "added", candidate_id))


@ui_route(
    "/ui/pools/{pool_id}/members/{candidate_id}",
    "POST",
    "Recruiter UI: move a pool member to another stage (form: csrf, stage)",
    blueprint=bp,
    errors=(403, 404, 422),
)
def ui_move_member(
    call: Call, session: Session, fields: dict[str, Any], pool_id: str, candidate_id: str
) -> Response:
    PoolService().get(pool_id)
    candidate = CandidateService().get(candidate_id)
    if pool_id not in candidate.pools:
        raise NotFound(f"Candidate {candidate_id} is not in pool {pool_id}.")
    try:
        choice = pipeline.StageChoice.model_validate({"stage": text(fields.get("stage"))})
    except ValidationError:
        error = "Choose a stage (letters, digits, spaces, - and _; at most 40)."
        return _board_page(call, session, pool_id, status=422, move_errors={candidate_id: error})
    CandidateService().set_pool_stage(candidate_id, pool_id, choice.stage, actor=session.principal.actor)
    return see_other(_board_url(pool_id, "moved", candidate_id))


@ui_route(
    "/ui/pools/{pool_id}/members/{candidate_id}/remove",
    "POST",
    "Recruiter UI: take a member out of a pool (form: csrf); their profile is kept",
    blueprint=bp,
    errors=(403, 404),
)
def ui_remove_member(
    call: Call, session: Session, fields: dict[str, Any], pool_id: str, candidate_id: str
) -> Response:
    PoolService().get(pool_id)
    candidate = CandidateService().get(candidate_id)
    if pool_id in candidate.pools:  # a second click (or a retry) lands on the same board
        CandidateService().set_pool_stage(candidate_id, pool_id, None, actor=session.principal.actor)
    return see_other(_board_url(pool_id, "removed", candidate_id))


@ui_route(
    "/ui/pools/{pool_id}/rename",
    "POST",
    "Recruiter UI: rename a pool (form: csrf, name); a name another pool has is a 409",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_rename_pool(call: Call, session: Session, fields: dict[str, Any], pool_id: str) -> Response:
    PoolService().get(pool_id)
    form = {"name": text(fields.get("name"))}
    try:
        patch = PoolPatch.model_validate(form)
    except ValidationError as exc:
        errors = field_errors(exc)
        errors = {"name": errors.get("name") or next(iter(errors.values()), "Give the pool a name.")}
        return _board_page(call, session, pool_id, status=422, rename_form=form, rename_errors=errors)
    try:
        PoolService().update(pool_id, patch)
    except Conflict as exc:
        errors = {"name": _taken(exc)}
        return _board_page(call, session, pool_id, status=409, rename_form=form, rename_errors=errors)
    return see_other(f"/ui/pools/{quote(pool_id)}?done=renamed")


@ui_route(
    "/ui/pools/{pool_id}/archive",
    "POST",
    "Recruiter UI: archive a pool, or bring it back (form: csrf, archived=true|false)",
    blueprint=bp,
    errors=(403, 404, 409, 422),
)
def ui_archive_pool(call: Call, session: Session, fields: dict[str, Any], pool_id: str) -> Response:
    PoolService().get(pool_id)
    choice = text(fields.get("archived"))
    if choice not in ("true", "false"):
        problem = "Choose whether to archive the pool or bring it back; nothing was changed."
        return _board_page(call, session, pool_id, status=422, problem=problem)
    archived = choice == "true"
    PoolService().update(pool_id, PoolPatch(archived=archived))
    return see_other(f"/ui/pools/{quote(pool_id)}?done={'archived' if archived else 'unarchived'}")
