"""Merging two people and undoing it: possible duplicates, the preview, everything moving to the
survivor (the stricter consent, the unsubscribe kept), no reactions as if new, the exact undo
compared item by item, the 409s, a concurrent edit, and a retried merge."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from crm.candidates.service import CandidateService
from crm.mailing.suppression import SuppressionList
from crm.merges.repository import MergeRepository
from crm.platform import clock
from crm.platform.events import InMemoryPublisher
from tests.integration.conftest import Env, json_post
from tests.integration.test_hiring_feedback import feedback
from tests.integration.test_hiring_pipeline import apply, make_job, only_application

JSON = {"Content-Type": "application/json"}


def create(env: Env, email: str, **fields: Any) -> dict[str, Any]:
    body = {"email": email, "first_name": "Ada", "last_name": "Lovelace", **fields}
    response = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def get(env: Env, cid: str) -> Any:
    return env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter"))


def patch(env: Env, cid: str, body: dict[str, Any]) -> dict[str, Any]:
    response = env.client.http.patch(
        f"/v1/candidates/{cid}", body=json.dumps(body), headers={**JSON, **env.auth("recruiter")}
    )
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def preview(env: Env, survivor: str, merged: str) -> Any:
    return json_post(
        env, "/v1/merges/preview", {"survivor_id": survivor, "merged_id": merged}, env.auth("recruiter")
    )


def merge(env: Env, survivor: dict[str, Any], merged: dict[str, Any], **body: Any) -> Any:
    sent = {
        "survivor_id": survivor["id"],
        "merged_id": merged["id"],
        "survivor_version": survivor["version"],
        "merged_version": merged["version"],
        **body,
    }
    return json_post(env, "/v1/merges", sent, env.auth("recruiter"))


def undo(env: Env, merge_id: str) -> Any:
    return json_post(env, f"/v1/merges/{merge_id}/undo", {}, env.auth("recruiter"))


def person_items(env: Env, *ids: str) -> dict[tuple[str, str], Any]:
    """Every item of the people's partitions, their email guards and duplicate lookups, as stored."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    out: dict[tuple[str, str], Any] = {}
    for cid in ids:
        for item in ddb.query(
            TableName=env.stack.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CAND#{cid}"}},
        )["Items"]:
            out[(item["pk"]["S"], item["sk"]["S"])] = item
            for email in [item.get("email", {}).get("S")] if item["sk"]["S"] == "PROFILE" else []:
                guard = ddb.get_item(
                    TableName=env.stack.table, Key={"pk": {"S": f"EMAIL#{email}"}, "sk": {"S": "EMAIL"}}
                )
                out[(f"EMAIL#{email}", "EMAIL")] = guard.get("Item")
    return out


@pytest.fixture
def events(env: Env) -> Any:
    publisher = InMemoryPublisher()
    env.pump.use_publisher(publisher)
    yield publisher
    env.pump.use_publisher(None)


def two_people(env: Env) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Ada (the survivor: marketing granted, tag python) and Ada again under another address who
    applied to a job, has a note, feedback, a pool, tag berlin, and withdrew marketing consent."""
    job = make_job(env, scorecard=["Python"], interviews=["Phone screen"])
    survivor = create(
        env, "ada@example.com", phone="+44 20 7946 0000", tags=["python"], marketing_consent=True
    )
    apply(
        env,
        job["id"],
        "ada.l@example.org",
        first_name="Ada",
        last_name="Lovelace",
        phone="020 7946 0000",
        location="London",
        marketing_consent=True,
    )
    app = only_application(env, job["id"])
    merged_id = app["candidate_id"]
    assert (
        feedback(env, app["id"], "admin", interview="Phone screen", ratings={"Python": 4}).status_code == 201
    )
    assert (
        json_post(
            env, f"/v1/candidates/{merged_id}/notes", {"body": "Met at PyCon"}, env.auth("recruiter")
        ).status_code
        == 201
    )
    pool = json_post(env, "/v1/pools", {"name": "Backend"}, env.auth("recruiter")).json_body
    assert (
        json_post(
            env, f"/v1/pools/{pool['id']}/members", {"candidate_id": merged_id}, env.auth("recruiter")
        ).status_code
        == 201
    )
    merged = get(env, merged_id).json_body
    merged = patch(
        env, merged_id, {"version": merged["version"], "tags": ["berlin"], "marketing_consent": False}
    )
    SuppressionList().suppress("ada.l@example.org", "unsubscribed", source="test")
    env.pump.drain()
    return survivor, merged, {"job": job, "pool": pool, "application": app}


def test_duplicates_merge_moves_everything_and_undo_restores_both_exactly(env: Env, events: Any) -> None:
    survivor, merged, context = two_people(env)
    job, pool = context["job"], context["pool"]

    found = env.client.http.get(f"/v1/candidates/{survivor['id']}/duplicates", headers=env.auth("recruiter"))
    assert found.status_code == 200, found.body
    assert [(d["candidate"]["id"], d["reason"]) for d in found.json_body["items"]] == [
        (merged["id"], "phone")
    ]

    before = person_items(env, survivor["id"], merged["id"])
    shown = preview(env, survivor["id"], merged["id"])
    assert shown.status_code == 200, shown.body
    fields = {f["field"]: f for f in shown.json_body["fields"]}
    assert (
        fields["email"]["survivor"] == "ada@example.com" and fields["email"]["merged"] == "ada.l@example.org"
    )
    assert fields["location"]["default"] == "merged"  # the survivor has none
    moves = shown.json_body["moves"]["moved"]
    assert (
        moves["application"] == 1 and moves["note"] == 1 and moves["feedback"] == 1 and moves["activity"] >= 3
    )
    assert shown.json_body["consents"]["marketing"]["granted"] is False  # the withdrawal wins

    events.published.clear()
    made = merge(env, survivor, merged, choices={"last_name": "merged"})
    assert made.status_code == 201, made.body
    record = made.json_body
    assert record["state"] == "merged" and record["can_undo"] is True
    env.pump.drain()

    # the merged person is gone; the survivor has it all
    assert get(env, merged["id"]).status_code == 404
    now = get(env, survivor["id"]).json_body
    assert set(now["tags"]) == {"python", "berlin"} and now["location"] == "London"
    assert now["pools"] == {pool["id"]: "sourced"}
    assert now["consents"]["marketing"]["granted"] is False
    assert now["other_emails"] == ["ada.l@example.org"] and now["version"] == survivor["version"] + 1
    assert CandidateService().find_id_by_email("ADA.L@example.org ") == survivor["id"]
    assert only_application(env, job["id"])["candidate_id"] == survivor["id"]
    notes = env.client.http.get(
        f"/v1/candidates/{survivor['id']}/notes", headers=env.auth("recruiter")
    ).json_body
    assert [n["body"] for n in notes["items"]] == ["Met at PyCon"]
    timeline = env.client.http.get(f"/v1/candidates/{survivor['id']}/timeline", headers=env.auth("recruiter"))
    kinds = [e["kind"] for e in timeline.json_body["items"]]
    assert kinds[0] == "merged" and "feedback_given" in kinds and "applied" in kinds
    assert SuppressionList().is_suppressed("ada@example.com")  # the unsubscribe holds for the survivor
    members = env.client.http.get(f"/v1/pools/{pool['id']}/members", headers=env.auth("recruiter")).json_body
    assert [m["candidate"]["id"] for m in members["items"]] == [survivor["id"]]
    # nothing reacted as if new: one candidate.merged, no application or erasure events
    types = [e.detail_type for e in events.published]
    assert types.count("candidate.merged") == 1
    assert not {"application.submitted", "candidate.erased", "candidate.created"} & set(types)
    merged_event = next(e for e in events.published if e.detail_type == "candidate.merged")
    assert merged_event.detail == {
        "survivor_id": survivor["id"],
        "merged_id": merged["id"],
        "merge_id": record["id"],
        "candidate_id": survivor["id"],
        "merged_candidate_id": merged["id"],
    }
    assert (
        env.client.http.get(f"/v1/merges/{record['id']}", headers=env.auth("recruiter")).json_body["state"]
        == "merged"
    )

    # undo: both people exactly as they were, every item compared
    events.published.clear()
    undone = undo(env, record["id"])
    assert undone.status_code == 200, undone.body
    assert undone.json_body["state"] == "undone" and undone.json_body["can_undo"] is False
    env.pump.drain()
    after = person_items(env, survivor["id"], merged["id"])
    assert sorted(after) == sorted(before)
    for key in before:
        assert after[key] == before[key], key
    types = [e.detail_type for e in events.published]
    assert types.count("candidate.unmerged") == 1 and "candidate.created" not in types
    assert "application.submitted" not in types
    audit = env.client.http.get(f"/v1/audit?person={survivor['id']}", headers=env.auth("admin")).json_body
    assert {"candidate.merged", "candidate.unmerged"} <= {e["action"] for e in audit["items"]}
    assert undo(env, record["id"]).status_code == 409  # once only


def test_the_conflicts_are_409(env: Env, local_clock: None) -> None:
    a, b, c = (create(env, f"{n}@example.com") for n in ("a", "b", "c"))
    same = merge(env, a, a)
    assert same.status_code == 409 and same.json_body["errors"][0]["field"] == "merged_id"
    stale = merge(env, a, {**b, "version": b["version"] + 1})
    assert stale.status_code == 409
    # erased
    assert env.client.http.delete(f"/v1/candidates/{c['id']}", headers=env.auth("admin")).status_code == 204
    assert merge(env, a, c).status_code == 409
    assert preview(env, c["id"], a["id"]).status_code == 409
    # merged already
    made = merge(env, a, b)
    assert made.status_code == 201, made.body
    d = create(env, "d@example.com")
    again = merge(env, d, b)
    assert again.status_code == 409 and again.json_body["errors"][0]["field"] == "merged_id"
    assert preview(env, b["id"], d["id"]).status_code == 409
    # the survivor changed since the merge: no undo
    current = get(env, a["id"]).json_body
    patch(env, a["id"], {"version": current["version"], "first_name": "Alice"})
    changed = undo(env, made.json_body["id"])
    assert changed.status_code == 409 and "changed" in changed.json_body["detail"]
    # after 30 days: no undo
    later = merge(env, d, create(env, "e@example.com"))
    assert later.status_code == 201
    clock.advance(31 * 86400)
    assert undo(env, later.json_body["id"]).status_code == 409
    # unknown ids and bad bodies
    assert preview(env, a["id"], "nobody").status_code == 404
    assert env.client.http.get("/v1/merges/nothing-here", headers=env.auth("recruiter")).status_code == 404
    assert undo(env, "x" * 100).status_code == 404
    bad = merge(env, a, d, choices={"salary": "merged"})
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"].startswith("choices")
    bad = merge(env, a, d, choices={"email": "both"})
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"].startswith("choices")
    missing = json_post(
        env, "/v1/merges", {"survivor_id": a["id"], "merged_id": d["id"]}, env.auth("recruiter")
    )
    assert missing.status_code == 422 and {e["field"] for e in missing.json_body["errors"]} >= {
        "survivor_version"
    }


def test_an_edit_between_preview_and_merge_or_during_it_leaves_nothing_half_written(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    survivor, merged, _ = two_people(env)
    assert preview(env, survivor["id"], merged["id"]).status_code == 200
    edited = patch(env, survivor["id"], {"version": survivor["version"], "first_name": "Augusta"})
    assert merge(env, survivor, merged).status_code == 409  # the preview's version is stale
    survivor = edited
    env.pump.drain()
    before = person_items(env, survivor["id"], merged["id"])

    # someone edits the merged person after the moves were staged, before the commit
    staged = MergeRepository.write_chunks

    def edit_meanwhile(self: MergeRepository, operations: list[dict[str, Any]], *, conflict: str) -> None:
        staged(self, operations, conflict=conflict)
        current = get(env, merged["id"]).json_body
        patch(env, merged["id"], {"version": current["version"], "first_name": "Ada-Marie"})

    monkeypatch.setattr(MergeRepository, "write_chunks", edit_meanwhile)
    refused = merge(env, survivor, merged)
    assert refused.status_code == 409, refused.body
    monkeypatch.undo()
    env.pump.drain()
    after = person_items(env, survivor["id"], merged["id"])
    profile = ("CAND#" + merged["id"], "PROFILE")
    assert after[profile]["first_name"] == {"S": "Ada-Marie"}
    # only what the edit itself wrote differs: the merged profile, its timeline entry, its lists
    edits = {
        profile,
        *[k for k in after if k[0] == profile[0] and k[1].startswith(("ACT#", "LIST#", "WORD#"))],
    }
    assert set(before) <= set(after) and set(after) - set(before) <= edits
    assert {k for k in before if after[k] != before[k]} <= edits
    assert not [k for k in after if k[0] == "CAND#" + survivor["id"] and "merge_write" in after[k]]
    assert get(env, merged["id"]).status_code == 200


def test_a_retried_merge_answers_the_same_merge(env: Env) -> None:
    survivor, merged = create(env, "x@example.com"), create(env, "y@example.com")
    first = merge(env, survivor, merged)
    second = merge(env, survivor, merged)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json_body["id"] == second.json_body["id"]
    assert MergeRepository().of_survivor(survivor["id"])[0]["id"] == first.json_body["id"]
    assert len(MergeRepository().of_survivor(survivor["id"])) == 1


def skip_stream(env: Env) -> None:
    """Move the stream pump past every record so far without handling them."""
    handler = env.pump.handler
    env.pump.handler = lambda event, context: {"batchItemFailures": []}
    try:
        env.pump.drain()
    finally:
        env.pump.handler = handler


def core_items(env: Env, *ids: str) -> dict[tuple[str, str], Any]:
    """``person_items`` without what the stream derives (list projections, the word index)."""
    return {k: v for k, v in person_items(env, *ids).items() if not k[1].startswith(("LIST#", "WORD#"))}


def test_a_large_person_moves_in_chunks_and_an_erased_survivor_leaves_no_undo_data(env: Env) -> None:
    survivor, merged = create(env, "big@example.com"), create(env, "bigger@example.com")
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for n in range(45):  # past 100 staged writes: two transactions
        ddb.put_item(
            TableName=env.stack.table,
            Item={
                "pk": {"S": f"CAND#{merged['id']}"},
                "sk": {"S": f"NOTE#2026-01-01T00:00:{n:03d}#n{n}"},
                "type": {"S": "note"},
                "id": {"S": f"n{n}"},
                "candidate_id": {"S": merged["id"]},
                "body": {"S": f"note {n}"},
                "author": {"S": "user:x"},
                "created_at": {"S": "2026-01-01T00:00:00Z"},
            },
        )
    skip_stream(env)  # the word index of 45 notes is not what this test is about (moto is slow)
    before = core_items(env, survivor["id"], merged["id"])
    made = merge(env, survivor, merged)
    assert made.status_code == 201, made.body
    assert made.json_body["moves"]["moved"]["note"] == 45
    moved = person_items(env, survivor["id"])
    assert len([k for k in moved if k[1].startswith("NOTE#")]) == 45
    assert not any("merge_write" in item for item in moved.values() if item)
    assert undo(env, made.json_body["id"]).status_code == 200
    assert core_items(env, survivor["id"], merged["id"]) == before

    again = merge(env, get(env, survivor["id"]).json_body, get(env, merged["id"]).json_body)
    assert again.status_code == 201
    s3 = boto3.client("s3", region_name="us-east-1")
    prefix = f"merges/{survivor['id']}/"
    assert s3.list_objects_v2(Bucket=env.stack.bucket, Prefix=prefix).get("KeyCount") == 1
    skip_stream(env)
    assert (
        env.client.http.delete(f"/v1/candidates/{survivor['id']}", headers=env.auth("admin")).status_code
        == 204
    )
    env.pump.drain()
    assert not s3.list_object_versions(Bucket=env.stack.bucket, Prefix=prefix).get("Versions")
    # the merged person's address went with the survivor too
    assert CandidateService().find_id_by_email("bigger@example.com") is None


def test_a_merge_interrupted_before_its_commit_is_rolled_back_by_its_retry(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.merges.models import MergeRequest
    from crm.merges.service import MergeService

    survivor, merged, _ = two_people(env)
    other = create(env, "other@example.com")
    request = MergeRequest(
        survivor_id=survivor["id"],
        merged_id=merged["id"],
        survivor_version=survivor["version"],
        merged_version=merged["version"],
    )
    write = MergeRepository.write

    def crash_at_commit(self: MergeRepository, operations: list[dict[str, Any]], *, conflict: str) -> None:
        if any(op.get("Put", {}).get("Item", {}).get("sk") == {"S": "PROFILE"} for op in operations):
            raise RuntimeError("the function timed out")  # the commit writes the survivor's profile
        write(self, operations, conflict=conflict)

    monkeypatch.setattr(MergeRepository, "write", crash_at_commit)
    with pytest.raises(RuntimeError):
        MergeService().merge(request, actor="user:test")
    monkeypatch.undo()
    # meanwhile the merged person is locked: nobody else merges them
    locked = merge(env, other, merged)
    assert locked.status_code == 409 and locked.json_body["errors"][0]["field"] == "merged_id"
    done = MergeService().merge(request, actor="user:test")
    assert done.state == "merged" and done.moves.moved["application"] == 1 and not done.moves.dropped
    assert get(env, merged["id"]).status_code == 404
    items = person_items(env, survivor["id"])
    assert not any("merge_write" in item for item in items.values() if item)
    assert len([k for k in items if k[1].startswith("APP#")]) == 1
