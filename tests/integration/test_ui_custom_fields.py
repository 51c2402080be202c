"""Custom fields in the UI: an admin defines them on their page (a recruiter gets a 403 page); the
profile shows and edits the values (a wrong one is a 422 page naming it); the list filters by a
filterable one; a hiring manager's view of an applicant leaves private ones out."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_hiring_pipeline import apply, make_job, only_application
from tests.integration.test_ui import (
    FORM,
    candidate_json,
    cookie_value,
    csrf_of,
    get,
    header,
    make_candidate,
    sign_in,
)
from tests.integration.test_ui_admin import admin_session
from tests.support.stack import create_user


def post(env: Env, path: str, pairs: list[tuple[str, str]], cookie: str) -> object:
    return env.client.http.post(path, body=urlencode(pairs).encode(), headers={**FORM, "Cookie": cookie})


def test_define_edit_on_the_profile_filter_and_hide_private(env: Env) -> None:
    admin = admin_session(env)
    page = get(env, "/ui/admin/custom-fields", admin)
    assert page.status_code == 200 and "No custom fields yet" in page.body.decode()
    csrf = csrf_of(page.body)
    for key, label, kind, options, flags in (
        ("level", "Level", "choice", "Junior\nSenior", ["filterable"]),
        ("skills", "Skills", "choices", "Go\nSQL", []),
        ("salary", "Salary wish", "text", "", ["private"]),
        ("notice_days", "Notice days", "number", "", []),
    ):
        pairs = [("csrf", csrf), ("key", key), ("label", label), ("entity", "candidate"), ("type", kind)]
        pairs += [("options", options)] + [(f, "on") for f in flags]
        done = post(env, "/ui/admin/custom-fields", pairs, admin)
        assert done.status_code == 303, done.body  # type: ignore[attr-defined]
    bad = post(
        env,
        "/ui/admin/custom-fields",
        [("csrf", csrf), ("key", "Bad Key"), ("label", "X"), ("type", "text")],
        admin,
    )
    assert bad.status_code == 422 and "Key:" in bad.body.decode()  # type: ignore[attr-defined]
    listed = get(env, "/ui/admin/custom-fields", admin).body.decode()
    assert (
        "Salary wish" in listed and "Filterable" in listed and 'aria-current="page">Custom fields' in listed
    )

    recruiter = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    assert get(env, "/ui/admin/custom-fields", recruiter).status_code == 403

    hm = "hm@example.com"
    create_user(env.stack, hm, PASSWORD, "hiring_manager")
    job = make_job(env, hiring_managers=[hm])
    apply(env, job["id"], "applicant@example.com")
    cid = only_application(env, job["id"])["candidate_id"]
    other = make_candidate(env)["id"]

    profile = get(env, f"/ui/candidates/{cid}", recruiter)
    body = profile.body.decode()
    assert 'name="cf.level"' in body and 'name="cf.skills"' in body
    fields = [
        ("csrf", csrf_of(profile.body)),
        ("version", "1"),
        ("first_name", "Ada"),
        ("last_name", "Apply"),
    ]
    fields += [("email", "applicant@example.com")]
    fields += [("cf_shown", k) for k in ("level", "skills", "salary", "notice_days")]
    wrong = post(env, f"/ui/candidates/{cid}", [*fields, ("cf.notice_days", "soon")], recruiter)
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "Notice days: must be a number" in wrong.body.decode()  # type: ignore[attr-defined]
    saved = post(
        env,
        f"/ui/candidates/{cid}",
        [
            *fields,
            ("cf.level", "Senior"),
            ("cf.skills", "Go"),
            ("cf.skills", "SQL"),
            ("cf.salary", "95k"),
            ("cf.notice_days", "30"),
        ],
        recruiter,
    )
    assert saved.status_code == 303, saved.body  # type: ignore[attr-defined]
    assert candidate_json(env, cid)["custom_fields"] == {
        "level": "Senior",
        "skills": ["Go", "SQL"],
        "salary": "95k",
        "notice_days": 30,
    }
    shown = get(env, f"/ui/candidates/{cid}", recruiter).body.decode()
    assert "Go, SQL" in shown and "95k" in shown

    env.pump.drain()
    found = get(env, "/ui/candidates?cf.level=senior", recruiter).body.decode()
    assert f"/ui/candidates/{cid}" in found and f"/ui/candidates/{other}" not in found
    refused = get(env, "/ui/candidates?cf.level=Principal", recruiter)
    assert refused.status_code == 422 and "Level: must be one of" in refused.body.decode()

    new = get(env, "/ui/candidates/new", recruiter)
    assert 'name="cf.level"' in new.body.decode()
    adding = [
        ("csrf", csrf_of(new.body)),
        ("first_name", "Neu"),
        ("last_name", "N"),
        ("email", "neu@example.com"),
    ]
    adding += [("cf_shown", "level"), ("cf_shown", "notice_days"), ("cf.level", "Junior")]
    refused_new = post(env, "/ui/candidates", [*adding, ("cf.notice_days", "x")], recruiter)
    assert refused_new.status_code == 422 and "Notice days: must be a number" in refused_new.body.decode()  # type: ignore[attr-defined]
    added = post(env, "/ui/candidates", [*adding, ("cf.notice_days", "14")], recruiter)
    assert added.status_code == 303, added.body  # type: ignore[attr-defined]
    new_id = header(added, "location").split("/ui/candidates/")[1].split("?")[0]
    assert candidate_json(env, new_id)["custom_fields"] == {"level": "Junior", "notice_days": 14}

    manager = f"crm_session={cookie_value(header(sign_in(env, hm), 'set-cookie'))}"
    team = get(env, f"/ui/candidates/{cid}", manager)
    assert team.status_code == 200
    assert "Senior" in team.body.decode() and "95k" not in team.body.decode()
    assert "Salary wish" not in team.body.decode()


def test_an_applications_fields_on_the_profile(env: Env) -> None:
    define = json_post(
        env,
        "/v1/custom-fields",
        {"key": "offer", "label": "Offer", "type": "number", "entity": "application"},
        env.auth("admin"),
    )
    assert define.status_code == 201, define.body
    job = make_job(env)
    apply(env, job["id"], "applicant@example.com")
    cid = only_application(env, job["id"])["candidate_id"]
    recruiter = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    profile = get(env, f"/ui/candidates/{cid}", recruiter)
    assert f'id="acf-{job["id"]}-offer"' in profile.body.decode()
    path = f"/ui/candidates/{cid}/applications/{job['id']}/custom-fields"
    fields = [("csrf", csrf_of(profile.body)), ("version", "1"), ("cf_shown", "offer")]
    wrong = post(env, path, [*fields, ("cf.offer", "a lot")], recruiter)
    assert wrong.status_code == 422 and "Offer: must be a number" in wrong.body.decode()  # type: ignore[attr-defined]
    saved = post(env, path, [*fields, ("cf.offer", "4200")], recruiter)
    assert saved.status_code == 303, saved.body  # type: ignore[attr-defined]
    assert only_application(env, job["id"])["custom_fields"] == {"offer": 4200}
    assert post(env, path, [*fields, ("cf.offer", "1")], recruiter).status_code == 409  # type: ignore[attr-defined]
