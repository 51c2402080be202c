"""Custom fields: admins define them; candidates carry values checked like built-in fields (422
naming ``custom_fields.<key>``); lists filter by them through projections (``cf.<key>=``); a type
cannot change once values are stored (409); a deleted field is hidden and its values stay; private
fields are hidden from hiring managers; every change is audited."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_hiring_pipeline import apply, make_job, only_application
from tests.integration.test_portal import token_of
from tests.support.stack import create_user


def define(env: Env, body: dict[str, Any], who: str = "admin") -> Any:
    return json_post(env, "/v1/custom-fields", body, env.auth(who))


def patch(env: Env, path: str, body: dict[str, Any], who: str = "recruiter") -> Any:
    return env.client.http.patch(
        path, body=json.dumps(body), headers={"Content-Type": "application/json", **env.auth(who)}
    )


def fields_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json_body.get("errors", [])}


def define_all(env: Env) -> None:
    for body in (
        {
            "key": "level",
            "label": "Level",
            "type": "choice",
            "options": ["Junior", "Senior"],
            "filterable": True,
        },
        {
            "key": "skills",
            "label": "Skills",
            "type": "choices",
            "options": ["Go", "Rust", "SQL"],
            "filterable": True,
        },
        {"key": "notice_days", "label": "Notice (days)", "type": "number", "filterable": True},
        {"key": "available", "label": "Available from", "type": "date"},
        {"key": "portfolio", "label": "Portfolio", "type": "url"},
        {"key": "salary", "label": "Salary wish", "type": "text", "private": True},
    ):
        response = define(env, body)
        assert response.status_code == 201, response.body


def ids(env: Env, query: str) -> list[str]:
    response = env.client.http.get(f"/v1/candidates?{query}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return sorted(c["email"] for c in response.json_body["items"])


def test_define_set_validate_filter_and_audit(env: Env) -> None:
    define_all(env)
    listed = env.client.http.get("/v1/custom-fields?entity=candidate", headers=env.auth("recruiter"))
    assert listed.status_code == 200
    assert [f["key"] for f in listed.json_body["items"]][:2] == ["level", "skills"]
    assert listed.json_body["next_cursor"] is None

    values = {
        "level": "Senior",
        "skills": ["SQL", "Go"],
        "notice_days": 30.0,
        "available": "2027-01-15",
        "portfolio": " https://ada.example.com/work ",
        "salary": "90k",
    }
    created = json_post(
        env,
        "/v1/candidates",
        {"email": "ada@example.com", "first_name": "Ada", "last_name": "L", "custom_fields": values},
        env.auth("recruiter"),
    )
    assert created.status_code == 201, created.body
    stored = created.json_body["custom_fields"]
    assert stored["skills"] == ["Go", "SQL"] and stored["notice_days"] == 30
    assert stored["portfolio"] == "https://ada.example.com/work" and stored["salary"] == "90k"
    other = json_post(
        env,
        "/v1/candidates",
        {
            "email": "bo@example.com",
            "first_name": "Bo",
            "last_name": "B",
            "custom_fields": {"level": "Junior"},
        },
        env.auth("recruiter"),
    )
    assert other.status_code == 201, other.body

    # Wrong values: a 422 naming each field, nothing stored.
    wrong = {
        "level": "Principal",
        "skills": "Go",
        "notice_days": "30",
        "available": "2027-02-30",
        "portfolio": "ftp://x",
        "nope": 1,
    }
    refused = json_post(
        env,
        "/v1/candidates",
        {"email": "cy@example.com", "first_name": "Cy", "last_name": "C", "custom_fields": wrong},
        env.auth("recruiter"),
    )
    assert refused.status_code == 422, refused.body
    assert set(fields_of(refused)) == {f"custom_fields.{k}" for k in wrong}

    cid = created.json_body["id"]
    bad_patch = patch(env, f"/v1/candidates/{cid}", {"version": 1, "custom_fields": {"notice_days": True}})
    assert bad_patch.status_code == 422 and "custom_fields.notice_days" in fields_of(bad_patch)
    changed = patch(
        env, f"/v1/candidates/{cid}", {"version": 1, "custom_fields": {"notice_days": 60, "portfolio": None}}
    )
    assert changed.status_code == 200, changed.body
    after = changed.json_body["custom_fields"]
    assert after["notice_days"] == 60 and "portfolio" not in after and after["level"] == "Senior"

    # Filters, through the projections the stream maintains.
    env.pump.drain()
    assert ids(env, "cf.level=senior") == ["ada@example.com"]
    assert ids(env, "cf.level=Junior") == ["bo@example.com"]
    assert ids(env, "cf.skills=Go") == ["ada@example.com"]
    assert ids(env, "cf.notice_days=60.0&cf.level=Senior") == ["ada@example.com"]
    assert ids(env, "cf.notice_days=30") == []
    assert ids(env, "q=ada&cf.skills=SQL") == ["ada@example.com"]
    for query, field in (
        ("cf.available=2027-01-15", "cf.available"),  # not filterable
        ("cf.unknown=1", "cf.unknown"),
        ("cf.level=Principal", "cf.level"),
        ("cf.notice_days=many", "cf.notice_days"),
    ):
        response = env.client.http.get(f"/v1/candidates?{query}", headers=env.auth("recruiter"))
        assert response.status_code == 422, (query, response.body)
        assert field in fields_of(response), response.body

    document = env.client.http.get("/openapi.json").json_body
    schemas = document["components"]["schemas"]
    props = schemas["Candidate"]["properties"]["custom_fields"]["properties"]
    assert props["level"]["enum"] == ["Junior", "Senior"] and props["notice_days"]["type"] == "number"
    assert schemas["CandidateCreate"]["properties"]["custom_fields"]["additionalProperties"] is False
    params = {p["name"] for p in document["paths"]["/v1/candidates"]["get"]["parameters"]}
    assert {"cf.level", "cf.skills", "cf.notice_days"} <= params and "cf.salary" not in params
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)

    audited = env.client.http.get("/v1/audit?action=custom_field.created", headers=env.auth("admin"))
    assert len(audited.json_body["items"]) == 6


def test_type_change_in_use_is_409_delete_hides_and_keeps_values(env: Env) -> None:
    assert define(env, {"key": "team", "label": "Team", "type": "text"}).status_code == 201
    assert define(env, {"key": "team", "label": "Again", "type": "text"}).status_code == 409
    bad = define(env, {"key": "Bad-Key", "label": "X", "type": "choice"})
    assert bad.status_code == 422 and "key" in fields_of(bad)
    no_options = define(env, {"key": "band", "label": "Band", "type": "choice"})
    assert no_options.status_code == 422
    unused = patch(env, "/v1/custom-fields/team", {"version": 1, "type": "number"}, who="admin")
    assert unused.status_code == 200 and unused.json_body["type"] == "number"
    assert patch(env, "/v1/custom-fields/team", {"version": 1, "label": "x"}, who="admin").status_code == 409
    created = json_post(
        env,
        "/v1/candidates",
        {"email": "d@example.com", "first_name": "D", "last_name": "D", "custom_fields": {"team": 7}},
        env.auth("recruiter"),
    )
    assert created.status_code == 201, created.body
    in_use = patch(env, "/v1/custom-fields/team", {"version": 2, "type": "text"}, who="admin")
    assert in_use.status_code == 409, in_use.body
    relabel = patch(env, "/v1/custom-fields/team", {"version": 2, "label": "Squad"}, who="admin")
    assert relabel.status_code == 200 and relabel.json_body["in_use"] is True
    assert patch(env, "/v1/custom-fields/team", {"version": 3, "label": "x"}).status_code == 403

    assert env.client.http.delete("/v1/custom-fields/team", headers=env.auth("admin")).status_code == 204
    cid = created.json_body["id"]
    read = env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter"))
    assert read.json_body["custom_fields"] == {}
    assert env.client.http.get("/v1/custom-fields/team", headers=env.auth("recruiter")).status_code == 404
    gone = patch(env, f"/v1/candidates/{cid}", {"version": 1, "custom_fields": {"team": 1}})
    assert gone.status_code == 422 and "custom_fields.team" in fields_of(gone)
    actions = [
        e["action"]
        for e in env.client.http.get("/v1/audit", headers=env.auth("admin")).json_body.get("items", [])
    ]
    assert "custom_field.deleted" in actions and "custom_field.updated" in actions


def test_required_fields_and_private_fields_hidden_from_a_hiring_manager(env: Env) -> None:
    assert (
        define(env, {"key": "salary", "label": "Salary", "type": "text", "private": True}).status_code == 201
    )
    assert define(env, {"key": "city", "label": "City", "type": "text", "required": True}).status_code == 201
    missing = json_post(
        env,
        "/v1/candidates",
        {"email": "e@example.com", "first_name": "E", "last_name": "E"},
        env.auth("recruiter"),
    )
    assert missing.status_code == 422 and "custom_fields.city" in fields_of(missing)

    hm = "hm@example.com"
    create_user(env.stack, hm, PASSWORD, "hiring_manager")
    job = make_job(env, hiring_managers=[hm])
    apply(env, job["id"], "applicant@example.com")
    cid = only_application(env, job["id"])["candidate_id"]
    changed = patch(
        env, f"/v1/candidates/{cid}", {"version": 1, "custom_fields": {"salary": "100k", "city": "Oslo"}}
    )
    assert changed.status_code == 200, changed.body
    cleared = patch(env, f"/v1/candidates/{cid}", {"version": 2, "custom_fields": {"city": None}})
    assert cleared.status_code == 422 and "custom_fields.city" in fields_of(cleared)

    token = json_post(env, "/auth/login", {"username": hm, "password": PASSWORD}).json_body["id_token"]
    seen = env.client.http.get(f"/v1/candidates/{cid}", headers={"Authorization": f"Bearer {token}"})
    assert seen.status_code == 200, seen.body
    assert seen.json_body["custom_fields"] == {"city": "Oslo"}
    staff = env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter"))
    assert staff.json_body["custom_fields"] == {"salary": "100k", "city": "Oslo"}

    # An application's own fields: checked the same way, private ones hidden from the manager.
    assert (
        define(env, {"key": "offer", "label": "Offer", "type": "number", "entity": "application"}).status_code
        == 201
    )
    assert (
        define(
            env,
            {"key": "referee", "label": "Referee", "type": "url", "entity": "application", "private": True},
        ).status_code
        == 201
    )
    app_id = only_application(env, job["id"])["id"]
    path = f"/v1/applications/{app_id}/custom-fields"
    wrong = patch(env, path, {"version": 1, "custom_fields": {"offer": "lots", "city": "Oslo"}})
    assert wrong.status_code == 422
    assert set(fields_of(wrong)) == {"custom_fields.offer", "custom_fields.city"}  # city is a candidate's
    values = {"offer": 5000, "referee": "https://ref.example.com"}
    set_ = patch(env, path, {"version": 1, "custom_fields": values})
    assert (
        set_.status_code == 200
        and set_.json_body["custom_fields"] == values
        and set_.json_body["version"] == 2
    )
    assert patch(env, path, {"version": 1, "custom_fields": {"offer": 1}}).status_code == 409
    hm_app = env.client.http.get(f"/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token}"})
    assert hm_app.status_code == 200 and hm_app.json_body["custom_fields"] == {"offer": 5000}

    # The person's own export: the public fields, never a private value (nor in the timeline).
    exported = env.client.http.get(f"/portal/export?token={token_of(cid)}")
    assert exported.status_code == 200
    assert json.loads(exported.body)["profile"]["custom_fields"] == {"city": "Oslo"}
    assert "100k" not in exported.body.decode()
