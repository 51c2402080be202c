"""Rebuilding candidates' list projections from their profiles (after lost stream records): what is
missing or stale is fixed, a profile that moved on or was erased is left alone, and
``crm projections rebuild`` pages through a table and resumes from its checkpoint."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from crm.candidates.projections import CandidateProjections, Outcome
from crm.candidates.repository.projections import delete_orphans, plan_rebuild, projection_items
from crm.platform import table
from crm_tools import projections_rebuild
from crm_tools.cli import main
from crm_tools.devstack.moto import LocalMotoServer, install_fast_transactions
from tests.integration.conftest import Env, json_post
from tests.support.stack import TEMPLATE, _table_spec

# ---------------------------------------------------------------- one candidate, in moto


def create(env: Env, email: str, **fields: Any) -> dict[str, Any]:
    body = {"email": email, "first_name": "Ann", "last_name": "Lee", "tags": ["python"], **fields}
    response = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    assert env.pump.drain() == []  # the stream function projects it
    return dict(response.json_body)


def listed(env: Env, query: str) -> list[str]:
    response = env.client.http.get(f"/v1/candidates?{query}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return [c["id"] for c in response.json_body["items"]]


def under(env: Env, candidate_id: str) -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=env.stack.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CAND#{candidate_id}"}},
    )["Items"]
    return {i["sk"]["S"]: i for i in items}


def profile(env: Env, candidate_id: str) -> dict[str, Any]:
    return table.from_item(under(env, candidate_id)["PROFILE"])


def list_items(env: Env, candidate_id: str) -> dict[str, dict[str, Any]]:
    return {sk: i for sk, i in under(env, candidate_id).items() if sk.startswith("LIST#")}


def delete(env: Env, candidate_id: str, sk: str) -> None:
    boto3.client("dynamodb").delete_item(TableName=env.stack.table, Key=table.key(f"CAND#{candidate_id}", sk))


def put(env: Env, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=env.stack.table, Item=item)


def test_missing_projections_are_written_back(env: Env) -> None:
    ann = create(env, "ann@example.com")
    projected = list_items(env, ann["id"])
    for sk in projected:
        delete(env, ann["id"], sk)  # as if the stream records had been lost
    assert listed(env, "q=ann") == [] and listed(env, "tag=python") == [] and listed(env, "") == []

    assert CandidateProjections().rebuild(profile(env, ann["id"])) is Outcome.FIXED
    assert list_items(env, ann["id"]) == projected
    assert listed(env, "q=ann") == [ann["id"]] and listed(env, "tag=python") == [ann["id"]]
    assert listed(env, "") == [ann["id"]]


def test_stale_projections_and_a_stale_tag_item_are_fixed_and_right_ones_left_alone(env: Env) -> None:
    ann = create(env, "ann@example.com")
    bob = create(env, "bob@example.com", first_name="Bob")
    right = list_items(env, ann["id"])
    # An older summary on one dimension, and a tag she no longer has (an UPDATE whose record was lost).
    put(env, {**right["LIST#ALL"], "first_name": {"S": "Annie"}, "version": {"N": "0"}})
    put(env, {**right["LIST#TAG#python"], "sk": {"S": "LIST#TAG#cobol"}, "gsi1pk": {"S": "CANDTAG#cobol"}})
    assert listed(env, "tag=cobol") == [ann["id"]]
    bob_before = list_items(env, bob["id"])

    assert CandidateProjections().rebuild(profile(env, ann["id"])) is Outcome.FIXED
    assert list_items(env, ann["id"]) == right
    assert listed(env, "tag=cobol") == []
    assert CandidateProjections().rebuild(profile(env, bob["id"])) is Outcome.UNCHANGED
    assert list_items(env, bob["id"]) == bob_before


def test_a_profile_that_moved_on_loses_the_condition_and_writes_nothing(env: Env) -> None:
    ann = create(env, "ann@example.com")
    read = profile(env, ann["id"])  # the rebuild read this...
    patch = env.client.http.patch(
        f"/v1/candidates/{ann['id']}",
        body=json.dumps({"version": read["version"], "tags": ["rust"]}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert patch.status_code == 200, patch.body  # ...then the profile changed, its record still pending
    for sk in list_items(env, ann["id"]):
        delete(env, ann["id"], sk)

    assert CandidateProjections().rebuild(read) is Outcome.SKIPPED
    assert list_items(env, ann["id"]) == {}  # no stale tag written; the stream writes the new state
    assert env.pump.drain() == []
    assert listed(env, "tag=rust") == [ann["id"]] and listed(env, "tag=python") == []


def test_an_erased_candidate_is_not_brought_back(env: Env) -> None:
    ann = create(env, "ann@example.com")
    read = profile(env, ann["id"])
    erased = env.client.http.delete(f"/v1/candidates/{ann['id']}", headers=env.auth("admin"))
    assert erased.status_code == 204
    assert env.pump.drain() == []

    assert CandidateProjections().rebuild(read) is Outcome.SKIPPED
    assert under(env, ann["id"]) == {}
    assert listed(env, "email=ann@example.com") == []


def test_a_whole_table_plan_finds_what_differs_and_left_over_list_items(env: Env) -> None:
    ann = create(env, "ann@example.com")
    bob = create(env, "bob@example.com")
    delete(env, ann["id"], "LIST#SEARCH#first")
    leftover = {**list_items(env, bob["id"])["LIST#ALL"], "pk": {"S": "CAND#gone"}, "id": {"S": "gone"}}
    put(env, leftover)  # the list item of someone erased (no profile)
    items = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]

    plan = plan_rebuild(items)
    assert plan.candidates == 2
    assert [(p["id"], [i["sk"]["S"] for i in d.puts], d.deletes) for p, d in plan.fixes] == [
        (ann["id"], ["LIST#SEARCH#first"], [])
    ]
    assert plan.orphans == {"CAND#gone": ["LIST#ALL"]}
    assert delete_orphans("CAND#gone", plan.orphans["CAND#gone"]) is True
    assert under(env, "gone") == {}
    # A candidate that has a profile is never treated as left over.
    assert delete_orphans(f"CAND#{bob['id']}", ["LIST#ALL"]) is False
    assert "LIST#ALL" in list_items(env, bob["id"])


# ---------------------------------------------------------------- the command, against a moto server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    install_fast_transactions()
    server = LocalMotoServer(port=_free_port())
    server.start()
    yield server.endpoint_url
    server.stop()


PEOPLE = 23


def _candidate(n: int) -> dict[str, Any]:
    return {
        "id": f"c{n:03d}",
        "email": f"person{n}@example.com",
        "first_name": f"First{n}",
        "last_name": "Person",
        "tags": ["python"] if n % 2 else [],
        "source": "api",
        "sources": ["api"],
        "version": 1,
        "created_at": f"2026-01-01T00:00:{n:02d}.000000Z",
        "updated_at": f"2026-01-01T00:00:{n:02d}.000000Z",
    }


@pytest.fixture
def local_stack(endpoint: str, tmp_path: Path) -> tuple[Path, Any, str]:
    """A table like the local stack's, with profiles whose projections were never written."""
    from crm_tools.cfn import Template

    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    name = f"crm-rebuild-{tmp_path.name}"[:200]
    ddb.create_table(TableName=name, **_table_spec(Template.load(TEMPLATE)))
    for n in range(PEOPLE):
        item = table.to_item({**_candidate(n), "pk": f"CAND#c{n:03d}", "sk": "PROFILE", "type": "candidate"})
        ddb.put_item(TableName=name, Item=item)
    ddb.put_item(TableName=name, Item=table.key("JOB#1", "JOB") | {"type": {"S": "job"}})  # not a candidate
    data_dir = tmp_path / "crm"
    data_dir.mkdir()
    stack = {"endpoint_url": endpoint, "region": "us-east-1", "tables": {"CrmTable": name}}
    (data_dir / "stack.json").write_text(json.dumps(stack), encoding="utf-8")
    return data_dir, ddb, name


def test_the_command_resumes_from_its_checkpoint(
    local_stack: tuple[Path, Any, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, ddb, name = local_stack
    pages = 0
    real_page = projections_rebuild.rebuild_page

    def interrupted_on_the_third_page(items: list[dict[str, Any]]) -> projections_rebuild.Counts:
        nonlocal pages
        pages += 1
        if pages == 3:
            raise KeyboardInterrupt
        return real_page(items)

    monkeypatch.setattr(projections_rebuild, "rebuild_page", interrupted_on_the_third_page)
    command = ["projections", "rebuild", "--data-dir", str(data_dir), "--limit-per-page", "5"]
    assert main(command) == 130
    checkpoint = json.loads((data_dir / f"projections-rebuild-{name}.json").read_text())
    # Two pages of five scanned items (profiles, and the index entries the first page wrote).
    assert 0 < checkpoint["counts"]["fixed"] <= 10
    assert "--resume" in capsys.readouterr().err

    monkeypatch.setattr(projections_rebuild, "rebuild_page", real_page)
    assert main([*command, "--resume"]) == 0
    out = capsys.readouterr().out
    assert f"{PEOPLE} candidate(s): {PEOPLE} fixed, 0 already right" in out  # each one once
    assert not (data_dir / f"projections-rebuild-{name}.json").exists()
    for n in range(PEOPLE):
        found = ddb.query(
            TableName=name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :list)",
            ExpressionAttributeValues={":pk": {"S": f"CAND#c{n:03d}"}, ":list": {"S": "LIST#"}},
        )["Items"]
        assert {i["sk"]["S"] for i in found} == {i["sk"] for i in projection_items(_candidate(n))}

    assert main(command) == 0  # a second run finds everything right
    assert f"{PEOPLE} candidate(s): 0 fixed, {PEOPLE} already right" in capsys.readouterr().out


def test_the_command_without_a_stack_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["projections", "rebuild", "--data-dir", str(tmp_path)]) == 2
    assert "crm dev" in capsys.readouterr().err


def test_the_whole_table_check_restores_lost_index_entries_and_removes_an_erased_persons(env: Env) -> None:
    ann = create(env, "ann@example.com", first_name="Annika")
    words = {sk: i for sk, i in under(env, ann["id"]).items() if sk.startswith("WORD#")}
    assert words and listed(env, "q=annika") == [ann["id"]]
    for sk in words:
        delete(env, ann["id"], sk)  # as if the stream records had been lost
    assert listed(env, "q=annika") == []
    put(env, {**next(iter(words.values())), "pk": {"S": "CAND#gone"}, "id": {"S": "gone"}})  # erased

    items = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
    counts = projections_rebuild.rebuild_page(items)
    assert (counts.seen, counts.fixed, counts.orphans) == (1, 1, 1)
    assert {sk for sk in under(env, ann["id"]) if sk.startswith("WORD#")} == set(words)
    assert listed(env, "q=annika") == [ann["id"]]
    assert under(env, "gone") == {}
