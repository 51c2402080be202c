"""The audit log: reads of a profile, erasures, role and key changes are recorded with who, what,
when and where; admins search it by person, actor, action and time and export it as CSV; entries
outlive the person's erasure without their data; nobody can change them through the API."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import boto3

from tests.integration.conftest import Env, json_post


def create_candidate(env: Env, email: str = "ada@example.com") -> str:
    body = {"email": email, "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0000"}
    response = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def search(env: Env, query: str = "", who: str = "admin") -> Any:
    return env.client.http.get(f"/v1/audit{query}", headers=env.auth(who))


def entries(env: Env, query: str = "") -> list[dict[str, Any]]:
    response = search(env, query)
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def recruiter_actor(env: Env) -> str:
    payload = env.tokens["recruiter"].split(".")[1]
    claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"user:{claims['sub']}"


def test_reading_a_profile_is_recorded_with_who_when_and_where(env: Env) -> None:
    cid = create_candidate(env)
    read = env.client.http.get(
        f"/v1/candidates/{cid}", headers={**env.auth("recruiter"), "User-Agent": "ats-sync/1.0"}
    )
    assert read.status_code == 200
    found = entries(env, f"?person={cid}")
    assert [e["action"] for e in found] == ["candidate.read"]
    entry = found[0]
    assert entry["actor"] == recruiter_actor(env)
    assert entry["subject"] == f"candidate:{cid}" and entry["person_id"] == cid
    assert entry["user_agent"] == "ats-sync/1.0" and entry["source_ip"]
    assert entry["at"].endswith("Z")


def test_search_by_actor_action_and_time_newest_first(env: Env) -> None:
    first, second = create_candidate(env, "one@example.com"), create_candidate(env, "two@example.com")
    for cid in (first, second, first):
        assert env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter")).status_code == 200
    actor = recruiter_actor(env)
    by_actor = entries(env, f"?actor={actor}")
    assert [e["person_id"] for e in by_actor] == [first, second, first]  # newest first
    assert entries(env, f"?person={first}&actor={actor}&action=candidate.read")[0]["person_id"] == first
    assert entries(env, "?action=candidate.erased") == []
    assert entries(env, "?to=2001-01-01T00:00:00Z") == []
    assert len(entries(env, "?from=2001-01-01T00:00:00%2B02:00&action=candidate.read")) == 3
    paged = search(env, "?action=candidate.read&limit=2").json_body
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    rest = entries(env, f"?action=candidate.read&limit=2&cursor={paged['next_cursor']}")
    assert len(rest) == 1 and rest[0]["id"] not in {e["id"] for e in paged["items"]}


def test_bad_searches_are_422_naming_the_field(env: Env) -> None:
    for query, field in (
        ("?from=2026-01-01T00:00:00", "from"),
        ("?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ("?action=candidate.stolen", "action"),
        ("?actor=robert'); drop", "actor"),
        ("?limit=0", "limit"),
    ):
        response = search(env, query)
        assert response.status_code == 422, (query, response.body)
        assert field in {e["field"] for e in response.json_body["errors"]}, (query, response.body)
    assert search(env, "?cursor=not-a-cursor").status_code == 400


def test_only_admins_read_it(env: Env) -> None:
    assert search(env, who="recruiter").status_code == 403
    assert env.client.http.get("/v1/audit").status_code == 401
    assert env.client.http.delete("/v1/audit", headers=env.auth("admin")).status_code in (403, 404, 405)


def test_an_erased_persons_entries_stay_without_their_data(env: Env) -> None:
    cid = create_candidate(env, "grace@example.com")
    env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter"))
    assert env.client.http.delete(f"/v1/candidates/{cid}", headers=env.auth("admin")).status_code == 204
    env.pump.drain()
    found = entries(env, f"?person={cid}")
    assert [e["action"] for e in found] == ["candidate.erased", "candidate.read"]
    table = boto3.client("dynamodb", region_name="us-east-1")
    items = table.query(
        TableName=env.stack.table,
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDITPERSON#{cid}"}},
    )["Items"]
    assert len(items) == 2
    text = json.dumps(items).lower()
    for personal in ("grace", "lovelace", "7946"):
        assert personal not in text
    assert all(int(i["ttl"]["N"]) > 0 for i in items)


def test_role_and_key_changes_are_recorded_and_the_export_is_spreadsheet_safe(env: Env) -> None:
    created = json_post(env, "/v1/api-keys", {"name": "=HYPERLINK(1)", "scope": "read"}, env.auth("admin"))
    assert created.status_code == 201
    key_id = created.json_body["id"]
    assert env.client.http.delete(f"/v1/api-keys/{key_id}", headers=env.auth("admin")).status_code == 204
    actions = [e["action"] for e in entries(env)]
    assert actions[:2] == ["api_key.revoked", "api_key.created"]
    export = env.client.http.get("/v1/audit/export?action=api_key.created", headers=env.auth("admin"))
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.body.decode())))
    assert [r["action"] for r in rows] == ["api_key.created"]
    assert rows[0]["subject"] == f"api-key:{key_id}" and rows[0]["details"] == "scope=read"
    for row in rows:
        assert not any(str(v).startswith(("=", "+", "-", "@")) for v in row.values())
    assert entries(env, "?action=audit.exported")[0]["actor"].startswith("user:")


def test_a_range_from_centuries_ago_reads_only_the_months_that_can_hold_entries(env: Env) -> None:
    cid = create_candidate(env, "old@example.com")
    assert env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter")).status_code == 200
    found = entries(env, "?from=0488-01-04T00:39:49Z&limit=199")
    assert cid in {e["person_id"] for e in found}
    exported = env.client.http.get("/v1/audit/export?from=0488-01-04T00:39:49Z", headers=env.auth("admin"))
    assert exported.status_code == 200 and cid in exported.body.decode()
    # A range wholly in the future holds nothing (and is not an error).
    assert entries(env, "?from=2999-01-01T00:00:00Z") == []
