"""Email templates through the API: save-time checks, versions, previews for a real candidate."""

import json

from tests.integration.conftest import json_post

TEMPLATE = {
    "name": "Welcome",
    "subject": "Welcome, {{ first_name }}",
    "html": "<p>Hello {{ first_name }} in {{ location }}</p>",
    "text": "Hello {{ first_name }}",
}


def test_create_preview_and_update(env):
    h = env.auth("recruiter")
    created = json_post(env, "/v1/templates", TEMPLATE, h)
    assert created.status_code == 201, created.body
    template = created.json_body
    candidate = json_post(
        env,
        "/v1/candidates",
        {"email": "h@example.com", "first_name": "<b>Eve</b>", "last_name": "X", "location": "Oslo"},
        h,
    ).json_body
    preview = json_post(env, f"/v1/templates/{template['id']}/preview", {"candidate_id": candidate["id"]}, h)
    assert preview.status_code == 200, preview.body
    assert preview.json_body == {
        "subject": "Welcome, <b>Eve</b>",
        "html": "<p>Hello &lt;b&gt;Eve&lt;/b&gt; in Oslo</p>",
        "text": "Hello <b>Eve</b>",
    }
    patched = env.client.http.patch(
        f"/v1/templates/{template['id']}",
        body=json.dumps({"version": 1, "subject": "Hi {{ first_name }}"}),
        headers={"Content-Type": "application/json", **h},
    )
    assert patched.status_code == 200 and patched.json_body["version"] == 2
    stale = env.client.http.patch(
        f"/v1/templates/{template['id']}",
        body=json.dumps({"version": 1, "subject": "Old"}),
        headers={"Content-Type": "application/json", **h},
    )
    assert stale.status_code == 409 and stale.json_body["current"]["subject"] == "Hi {{ first_name }}"
    listed = env.client.http.get("/v1/templates", headers=h).json_body
    assert [t["id"] for t in listed["items"]] == [template["id"]]


def test_bad_templates_are_refused_at_save_and_nothing_is_stored(env):
    h = env.auth("recruiter")
    broken = json_post(env, "/v1/templates", {**TEMPLATE, "html": "<p>\n{% if first_name %}\n</p>"}, h)
    assert broken.status_code == 422
    assert broken.headers["Content-Type"] == "application/problem+json"
    assert broken.json_body["errors"][0]["field"] == "html"
    assert "line" in broken.json_body["errors"][0]["message"]
    unknown = json_post(env, "/v1/templates", {**TEMPLATE, "subject": "{{ salary }}"}, h)
    assert unknown.status_code == 422 and "salary" in unknown.json_body["errors"][0]["message"]
    escape = json_post(env, "/v1/templates", {**TEMPLATE, "text": "{{ first_name.__class__.__mro__ }}"}, h)
    assert escape.status_code == 422
    assert env.client.http.get("/v1/templates", headers=h).json_body["items"] == []


def test_preview_of_missing_template_or_candidate_is_404(env):
    h = env.auth("recruiter")
    template = json_post(env, "/v1/templates", TEMPLATE, h).json_body
    missing_candidate = json_post(
        env, f"/v1/templates/{template['id']}/preview", {"candidate_id": "nobody"}, h
    )
    assert missing_candidate.status_code == 404
    missing_template = json_post(env, "/v1/templates/nope/preview", {"candidate_id": "x"}, h)
    assert missing_template.status_code == 404
