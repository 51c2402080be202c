"""A job's pipeline: applications at stages, moves with versions, rejections with reasons, stage
filters and pages, sourcing a known person, and the time spent in each stage."""

from __future__ import annotations

import json
import threading
from typing import Any

from crm.candidates.service import CandidateService
from crm.hiring.models import ApplicationMove
from crm.hiring.service import HiringService
from crm.platform import table
from crm.platform.errors import VersionConflict
from tests.integration.conftest import Env, json_post
from tests.integration.test_ui import make_candidate
from tests.support.engagement import serialise_moto

FORM = {"Content-Type": "application/json"}


def make_job(env: Env, **fields: Any) -> dict[str, Any]:
    response = json_post(env, "/v1/jobs", {"title": "Platform engineer", **fields}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def apply(env: Env, job_id: str, email: str, **fields: Any) -> None:
    body = {"email": email, "first_name": "Ada", "last_name": "Apply", **fields}
    response = json_post(env, f"/public/jobs/{job_id}/applications", body)
    assert response.status_code == 202, response.body


def applications(env: Env, job_id: str, query: str = "") -> Any:
    return env.client.http.get(f"/v1/jobs/{job_id}/applications{query}", headers=env.auth("recruiter"))


def patch(env: Env, application_id: str, body: dict[str, Any], who: str = "recruiter") -> Any:
    return env.client.http.patch(
        f"/v1/applications/{application_id}", body=json.dumps(body), headers={**FORM, **env.auth(who)}
    )


def only_application(env: Env, job_id: str) -> dict[str, Any]:
    items = applications(env, job_id).json_body["items"]
    assert len(items) == 1, items
    return dict(items[0])


def test_an_application_moves_through_the_stages_and_keeps_its_history(env: Env) -> None:
    job = make_job(env)
    assert [s["key"] for s in job["stages"]] == ["applied", "screen", "interview", "offer", "hired"]
    apply(env, job["id"], "ada@example.com")
    app = only_application(env, job["id"])
    assert app["stage"] == "applied" and app["version"] == 1
    assert app["id"] == f"{app['candidate_id']}_{job['id']}"

    moved = patch(env, app["id"], {"stage": "screen", "version": 1})
    assert moved.status_code == 200, moved.body
    assert moved.json_body["stage"] == "screen" and moved.json_body["version"] == 2
    moved = patch(env, app["id"], {"stage": "interview", "version": 2}).json_body
    history = moved["history"]
    assert [h["stage"] for h in history] == ["applied", "screen", "interview"]
    assert history[0]["left_at"] == history[1]["entered_at"] and history[-1].get("left_at") is None
    assert all(h["by"].startswith(("user:", "career-site")) for h in history)
    assert set(moved["seconds_in_stages"]) == {"applied", "screen"}

    # The same move again is nothing new (no version spent); a stale version is a 409.
    same = patch(env, app["id"], {"stage": "interview", "version": 3})
    assert same.status_code == 200 and same.json_body["version"] == 3
    stale = patch(env, app["id"], {"stage": "offer", "version": 2})
    assert stale.status_code == 409, stale.body
    assert stale.json_body["type"].endswith("version-conflict") and stale.json_body["current_version"] == 3

    # The stage filter, and the timeline of the person.
    at_interview = applications(env, job["id"], "?stage=interview").json_body["items"]
    assert [a["id"] for a in at_interview] == [app["id"]]
    assert applications(env, job["id"], "?stage=applied").json_body["items"] == []
    timeline = env.client.http.get(
        f"/v1/candidates/{app['candidate_id']}/timeline", headers=env.auth("recruiter")
    ).json_body["items"]
    moves = [e["detail"] for e in timeline if e["kind"] == "stage_changed"]
    assert {
        "from": "screen",
        "to": "interview",
        "from_name": "Screen",
        "to_name": "Interview",
        "job_id": job["id"],
    } in moves

    # Applying again to the same job keeps the application where it is.
    apply(env, job["id"], "ada@example.com")
    again = only_application(env, job["id"])
    assert again["stage"] == "interview" and again["version"] == 3


def test_rejection_needs_a_reason_from_the_admins_list_and_bad_moves_name_the_field(env: Env) -> None:
    job = make_job(env)
    apply(env, job["id"], "rex@example.com")
    app = only_application(env, job["id"])

    def refused(body: dict[str, Any], field: str, status: int = 422) -> None:
        response = patch(env, app["id"], body)
        assert response.status_code == status, (body, response.body)
        assert field in [e["field"] for e in response.json_body.get("errors", [])], response.body

    refused({"stage": "rejected", "version": 1}, "reason")
    refused({"stage": "rejected", "reason": "Because", "version": 1}, "reason")
    refused({"stage": "nowhere", "version": 1}, "stage")
    refused({"stage": "screen", "reason": "Other", "version": 1}, "reason")
    refused({"stage": "Screen!", "version": 1}, "stage")
    refused({"stage": "screen", "version": 0}, "version")
    refused({"stage": "screen"}, "version")
    assert only_application(env, job["id"])["version"] == 1  # nothing was written

    reasons = env.client.http.get("/v1/rejection-reasons", headers=env.auth("recruiter")).json_body["reasons"]
    assert "Position filled" in reasons
    put = env.client.http.put(
        "/v1/rejection-reasons",
        body=json.dumps({"reasons": ["Not a fit", "Role closed"]}),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert put.status_code == 403
    put = env.client.http.put(
        "/v1/rejection-reasons",
        body=json.dumps({"reasons": ["Not a fit", "Role closed"]}),
        headers={**FORM, **env.auth("admin")},
    )
    assert put.status_code == 200, put.body
    refused({"stage": "rejected", "reason": "Position filled", "version": 1}, "reason")
    rejected = patch(env, app["id"], {"stage": "rejected", "reason": "Not a fit", "version": 1})
    assert rejected.status_code == 200 and rejected.json_body["reason"] == "Not a fit"
    # Back from a rejection (a mistake undone): the reason goes.
    back = patch(env, app["id"], {"stage": "screen", "version": 2}).json_body
    assert back["stage"] == "screen" and back.get("reason") is None
    assert back["history"][1]["reason"] == "Not a fit"

    assert patch(env, "nobody_nothing", {"stage": "screen", "version": 1}).status_code == 404
    assert patch(env, "not-an-id", {"stage": "screen", "version": 1}).status_code == 404
    assert applications(env, job["id"], "?stage=nowhere").status_code == 422
    assert applications(env, "nojob", "").status_code == 404


def test_two_recruiters_moving_one_application_one_wins_and_one_gets_409(env: Env) -> None:
    """Both read version 1 and pass every check; their writes race: the store's condition on the
    version lets one through and refuses the other, which nothing of its move leaves behind."""
    job = make_job(env)
    apply(env, job["id"], "race@example.com")
    app = only_application(env, job["id"])
    barrier = threading.Barrier(2, timeout=10)

    class BothReadFirst(CandidateService):
        def move_application(self, moved: Any, **kwargs: Any) -> Any:
            barrier.wait()  # both have read version 1 and checked their move
            return super().move_application(moved, **kwargs)

    outcomes: list[str] = []

    def move(stage: str, who: str) -> None:
        try:
            HiringService(BothReadFirst()).move(app["id"], ApplicationMove(stage=stage, version=1), actor=who)
            outcomes.append("moved")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=move, args=a) for a in (("screen", "user:a"), ("withdrawn", "user:b"))]
    undo = serialise_moto()  # each AWS call alone, as DynamoDB applies each request atomically
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        undo()
    assert sorted(outcomes) == ["conflict", "moved"], outcomes
    final = only_application(env, job["id"])
    assert final["version"] == 2 and final["stage"] in {"screen", "withdrawn"}
    assert len(final["history"]) == 2
    timeline = env.client.http.get(
        f"/v1/candidates/{app['candidate_id']}/timeline", headers=env.auth("recruiter")
    ).json_body["items"]
    assert len([e for e in timeline if e["kind"] == "stage_changed"]) == 1
    # Through the API, the loser's retry with the version it read is a 409 naming the new one.
    stale = patch(env, app["id"], {"stage": "offer", "version": 1})
    assert stale.status_code == 409 and stale.json_body["current_version"] == 2


def test_stages_pages_sourcing_and_stage_edits(env: Env) -> None:
    stages = [
        {"key": "new", "name": "New"},
        {"key": "phone_screen", "name": "Phone screen", "public_name": "Talking to us"},
        {"key": "onsite", "name": "On-site"},
    ]
    job = make_job(env, stages=stages)
    for n in range(5):
        apply(env, job["id"], f"p{n}@example.com")
    first = applications(env, job["id"], "?stage=new&limit=2").json_body
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = applications(env, job["id"], f"?stage=new&limit=10&cursor={first['next_cursor']}").json_body
    assert len(rest["items"]) == 3 and not rest.get("next_cursor")
    assert len({a["id"] for a in first["items"] + rest["items"]}) == 5

    # A known person sourced into the job starts at its first stage, once.
    person = make_candidate(env, email="sourced@example.com")
    added = json_post(
        env, f"/v1/jobs/{job['id']}/applications", {"candidate_id": person["id"]}, env.auth("recruiter")
    )
    assert added.status_code == 201, added.body
    assert added.json_body["source"] == "sourced" and added.json_body["stage"] == "new"
    twice = json_post(
        env, f"/v1/jobs/{job['id']}/applications", {"candidate_id": person["id"]}, env.auth("recruiter")
    )
    assert twice.status_code == 409
    nobody = json_post(
        env, f"/v1/jobs/{job['id']}/applications", {"candidate_id": "nobody"}, env.auth("recruiter")
    )
    assert nobody.status_code == 404
    # The person applying afterwards keeps the sourced application's place and source.
    apply(env, job["id"], "sourced@example.com")
    mine = env.client.http.get(
        f"/v1/applications/{added.json_body['id']}", headers=env.auth("recruiter")
    ).json_body
    assert mine["source"] == "sourced" and mine["stage"] == "new"

    # A stage that holds applications cannot be removed; an empty one can.
    edit = env.client.http.patch(
        f"/v1/jobs/{job['id']}",
        body=json.dumps({"stages": stages[1:]}),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert edit.status_code == 409 and edit.json_body["errors"][0]["field"] == "stages", edit.body
    edit = env.client.http.patch(
        f"/v1/jobs/{job['id']}",
        body=json.dumps({"stages": [*stages[:2], {"key": "final", "name": "Final"}]}),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert edit.status_code == 200, edit.body
    assert [s["key"] for s in edit.json_body["stages"]] == ["new", "phone_screen", "final"]
    bad = env.client.http.patch(
        f"/v1/jobs/{job['id']}",
        body=json.dumps({"stages": [{"key": "new", "name": "A"}, {"key": "new", "name": "B"}]}),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"].startswith("stages")
    reserved = env.client.http.patch(
        f"/v1/jobs/{job['id']}",
        body=json.dumps({"stages": [{"key": "rejected", "name": "No"}]}),
        headers={**FORM, **env.auth("recruiter")},
    )
    assert reserved.status_code == 422

    # Erasure takes the applications with the person (and out of the job's stage index).
    erase = env.client.http.delete(f"/v1/candidates/{person['id']}", headers=env.auth("admin"))
    assert erase.status_code == 204
    left = [
        i for i in table.query_all(key_condition="pk = :pk", values={":pk": {"S": f"CAND#{person['id']}"}})
    ]
    assert left == []
    assert person["id"] not in {
        a["candidate_id"] for a in applications(env, job["id"], "?stage=new&limit=100").json_body["items"]
    }
