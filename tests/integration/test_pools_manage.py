"""Pools: unique names (a guard item in the pool's transaction), rename, archive and unarchive, in
the API and on the pool board."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3

from tests.integration.conftest import Env, json_post
from tests.integration.test_ui import csrf_of, get, header, make_candidate, post_form, session

__all__ = ["session"]  # the fixture, imported for its name

PROBLEM = "application/problem+json"


def create_pool(env: Env, name: str, expect: int = 201) -> dict[str, Any]:
    response = json_post(env, "/v1/pools", {"name": name}, env.auth("recruiter"))
    assert response.status_code == expect, response.body
    return dict(response.json_body)


def patch(env: Env, pool_id: str, body: Any, who: str = "recruiter") -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return env.client.http.patch(
        f"/v1/pools/{pool_id}", body=raw, headers={"Content-Type": "application/json", **env.auth(who)}
    )


def listed(env: Env, query: str = "") -> list[str]:
    env.pump.drain()
    response = env.client.http.get(f"/v1/pools{query}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return [p["name"] for p in response.json_body["items"]]


def guard(env: Env, name: str) -> dict[str, Any] | None:
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=env.stack.table, Key={"pk": {"S": f"POOLNAME#{name}"}, "sk": {"S": "POOLNAME"}}
    )
    return item.get("Item")


def assert_name_conflict(response: Any) -> None:
    assert response.status_code == 409, response.body
    assert header(response, "content-type").startswith(PROBLEM)
    body = json.loads(response.body)
    assert body["status"] == 409 and body["detail"]
    assert [e["field"] for e in body["errors"]] == ["name"]


def legacy_pool(env: Env, pool_id: str, name: str) -> None:
    """A pool as it was stored before pools had a name guard."""
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=env.stack.table,
        Item={
            "pk": {"S": f"POOL#{pool_id}"},
            "sk": {"S": "POOL"},
            "type": {"S": "pool"},
            "gsi1pk": {"S": "POOLS"},
            "gsi1sk": {"S": f"{name.lower()}#{pool_id}"},
            "id": {"S": pool_id},
            "name": {"S": name},
            "description": {"S": ""},
            "created_at": {"S": "2026-01-01T00:00:00Z"},
        },
    )


# ------------------------------------------------------------------------------- unique names


def test_a_pool_name_is_unique_ignoring_case_and_spaces(env: Env) -> None:
    first = create_pool(env, "Backend")
    assert guard(env, "backend") == {
        "pk": {"S": "POOLNAME#backend"},
        "sk": {"S": "POOLNAME"},
        "type": {"S": "pool_name"},
        "pool_id": {"S": first["id"]},
    }
    assert_name_conflict(json_post(env, "/v1/pools", {"name": "  BACKEND "}, env.auth("recruiter")))
    assert listed(env) == ["Backend"]


def test_rename_moves_the_guard(env: Env) -> None:
    pool = create_pool(env, "Backend")
    create_pool(env, "Frontend")
    assert_name_conflict(patch(env, pool["id"], {"name": "frontend"}))
    renamed = patch(env, pool["id"], {"name": " Platform "})
    assert renamed.status_code == 200, renamed.body
    assert renamed.json_body["name"] == "Platform" and renamed.json_body["id"] == pool["id"]
    assert guard(env, "backend") is None and guard(env, "platform") is not None
    create_pool(env, "backend")  # the old name is free again
    assert_name_conflict(json_post(env, "/v1/pools", {"name": "PLATFORM"}, env.auth("recruiter")))
    # A change of case keeps the pool's own guard.
    recased = patch(env, pool["id"], {"name": "PLATFORM"})
    assert recased.status_code == 200 and recased.json_body["name"] == "PLATFORM"
    assert guard(env, "platform")["pool_id"] == {"S": pool["id"]}  # type: ignore[index]
    assert listed(env) == ["backend", "Frontend", "PLATFORM"]  # by name, any case


def test_a_pool_from_before_the_guard_is_renamed_and_its_name_stays_taken(env: Env) -> None:
    legacy_pool(env, "oldpool1", "Legacy")
    assert_name_conflict(json_post(env, "/v1/pools", {"name": "legacy"}, env.auth("recruiter")))
    assert patch(env, "oldpool1", {"name": "Legacy talent"}).status_code == 200
    assert guard(env, "legacy talent")["pool_id"] == {"S": "oldpool1"}  # type: ignore[index]
    assert_name_conflict(json_post(env, "/v1/pools", {"name": "Legacy Talent"}, env.auth("recruiter")))
    create_pool(env, "Legacy")
    legacy_pool(env, "oldpool2", "Second")
    recased = patch(env, "oldpool2", {"name": "SECOND"})  # the same name: the guard is written
    assert recased.status_code == 200 and guard(env, "second")["pool_id"] == {"S": "oldpool2"}  # type: ignore[index]


def test_bad_patches_are_refused(env: Env) -> None:
    pool = create_pool(env, "Backend")
    for body in (
        {},
        {"colour": "red"},
        {"name": None},
        {"archived": None},
        {"name": " "},
        {"archived": "maybe"},
    ):
        response = patch(env, pool["id"], body)
        assert response.status_code == 422, (body, response.body)
        assert header(response, "content-type").startswith(PROBLEM)
        assert json.loads(response.body)["errors"]
    assert patch(env, pool["id"], "{not json").status_code == 400
    missing = patch(env, "nosuchpool", {"name": "X"})
    assert missing.status_code == 404 and header(missing, "content-type").startswith(PROBLEM)
    anonymous = env.client.http.patch(
        f"/v1/pools/{pool['id']}", body='{"name": "X"}', headers={"Content-Type": "application/json"}
    )
    assert anonymous.status_code == 401
    unchanged = patch(env, pool["id"], {"name": "Backend", "archived": False})
    assert unchanged.status_code == 200 and unchanged.json_body["name"] == "Backend"


# ------------------------------------------------------------------------------- archive


def test_an_archived_pool_is_hidden_kept_and_closed_to_new_members(env: Env) -> None:
    pool = create_pool(env, "Backend")
    create_pool(env, "Data")
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    bob = make_candidate(env, email="bob@example.com", first_name="Bob")
    body = {"candidate_id": ann["id"], "stage": "interview"}
    assert json_post(env, f"/v1/pools/{pool['id']}/members", body, env.auth("recruiter")).status_code == 201
    archived = patch(env, pool["id"], {"archived": True})
    assert archived.status_code == 200, archived.body
    assert archived.json_body["archived"] is True and archived.json_body["archived_at"]
    assert listed(env) == ["Data"]
    assert listed(env, "?archived=true") == ["Backend"]
    assert listed(env, "?archived=false") == ["Data"]
    got = env.client.http.get(f"/v1/pools/{pool['id']}", headers=env.auth("recruiter"))
    assert got.status_code == 200 and got.json_body["archived"] is True
    members = env.client.http.get(f"/v1/pools/{pool['id']}/members", headers=env.auth("recruiter"))
    assert [(m["candidate"]["id"], m["stage"]) for m in members.json_body["items"]] == [
        (ann["id"], "interview")
    ]
    # No one new; a member can still be moved.
    refused = json_post(
        env, f"/v1/pools/{pool['id']}/members", {"candidate_id": bob["id"]}, env.auth("recruiter")
    )
    assert refused.status_code == 409 and header(refused, "content-type").startswith(PROBLEM)
    assert "archived" in json.loads(refused.body)["detail"]
    moved = json_post(
        env,
        f"/v1/pools/{pool['id']}/members",
        {"candidate_id": ann["id"], "stage": "offer"},
        env.auth("recruiter"),
    )
    assert moved.status_code == 201 and moved.json_body["pools"] == {pool["id"]: "offer"}
    # The name of an archived pool stays taken.
    assert_name_conflict(json_post(env, "/v1/pools", {"name": "backend"}, env.auth("recruiter")))
    back = patch(env, pool["id"], {"archived": False})
    assert (
        back.status_code == 200
        and back.json_body["archived"] is False
        and back.json_body["archived_at"] is None
    )
    assert listed(env) == ["Backend", "Data"] and listed(env, "?archived=true") == []
    again = json_post(
        env, f"/v1/pools/{pool['id']}/members", {"candidate_id": bob["id"]}, env.auth("recruiter")
    )
    assert again.status_code == 201


def test_rename_and_archive_in_one_patch(env: Env) -> None:
    pool = create_pool(env, "Backend")
    both = patch(env, pool["id"], {"name": "Backend 2025", "archived": True})
    assert both.status_code == 200
    assert both.json_body["name"] == "Backend 2025" and both.json_body["archived"] is True
    assert listed(env, "?archived=true") == ["Backend 2025"]


# ------------------------------------------------------------------------------- the UI


def test_the_board_renames_archives_and_unarchives(env: Env, session: str) -> None:
    pool = create_pool(env, "Backend")
    create_pool(env, "Frontend")
    url = f"/ui/pools/{pool['id']}"
    page = get(env, url, session).body.decode()
    assert f'action="{url}/rename"' in page and f'action="{url}/archive"' in page
    assert '<input type="hidden" name="archived" value="true">' in page and ">Archive</button>" in page
    csrf = csrf_of(page.encode())
    taken = post_form(env, f"{url}/rename", {"csrf": csrf, "name": "FRONTEND"}, session)
    assert taken.status_code == 409
    assert 'id="e-r-name"' in taken.body.decode() and 'value="FRONTEND"' in taken.body.decode()
    empty = post_form(env, f"{url}/rename", {"csrf": csrf, "name": "  "}, session)
    assert empty.status_code == 422 and 'id="e-r-name"' in empty.body.decode()
    renamed = post_form(env, f"{url}/rename", {"csrf": csrf, "name": "Platform"}, session)
    assert renamed.status_code == 303 and header(renamed, "location") == f"{url}?done=renamed"
    shown = get(env, f"{url}?done=renamed", session).body.decode()
    assert "The pool is renamed." in shown and "<h1>Platform" in shown
    bad = post_form(env, f"{url}/archive", {"csrf": csrf, "archived": "perhaps"}, session)
    assert bad.status_code == 422
    archived = post_form(env, f"{url}/archive", {"csrf": csrf, "archived": "true"}, session)
    assert archived.status_code == 303 and header(archived, "location") == f"{url}?done=archived"
    board = get(env, f"{url}?done=archived", session).body.decode()
    assert "The pool is archived" in board and ">Unarchive</button>" in board
    assert 'id="a-email"' not in board  # no add form on an archived pool
    env.pump.drain()
    pools = get(env, "/ui/pools", session).body.decode()
    assert "Platform" not in pools and 'href="/ui/pools?archived=true">Show archived</a>' in pools
    shelf = get(env, "/ui/pools?archived=true", session).body.decode()
    assert f'href="/ui/pools/{pool["id"]}">Platform</a>' in shelf and "Frontend" not in shelf
    make_candidate(env, email="ann@example.com", first_name="Ann")
    refused = post_form(env, f"{url}/members", {"csrf": csrf, "email": "ann@example.com"}, session)
    assert refused.status_code == 409 and "takes no new members" in refused.body.decode()
    new_page = get(env, f"/ui/candidates/new?pool={pool['id']}", session)
    assert new_page.status_code == 409
    back = post_form(env, f"{url}/archive", {"csrf": csrf, "archived": "false"}, session)
    assert back.status_code == 303 and header(back, "location") == f"{url}?done=unarchived"
    env.pump.drain()
    assert "Platform" in get(env, "/ui/pools", session).body.decode()


def test_the_pools_form_refuses_a_taken_name(env: Env, session: str) -> None:
    create_pool(env, "Backend")
    csrf = csrf_of(get(env, "/ui/pools", session).body)
    response = post_form(env, "/ui/pools", {"csrf": csrf, "name": "backend"}, session)
    assert response.status_code == 409
    body = response.body.decode()
    assert 'id="e-name"' in body and "another pool already has this name" in body
    assert re.findall(r"<td><a href=\"/ui/pools/[^\"]+\">([^<]*)</a>", body) == ["Backend"]


def test_the_candidate_page_cannot_put_someone_in_an_archived_pool(env: Env, session: str) -> None:
    pool = create_pool(env, "Backend")
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    assert patch(env, pool["id"], {"archived": True}).status_code == 200
    url = f"/ui/candidates/{ann['id']}"
    csrf = csrf_of(get(env, url, session).body)
    response = post_form(env, f"{url}/pools", {"csrf": csrf, "pool": pool["id"], "stage": "sourced"}, session)
    assert response.status_code == 409 and "archived" in response.body.decode()
    got = env.client.http.get(f"/v1/candidates/{ann['id']}", headers=env.auth("admin")).json_body
    assert got["pools"] == {}
