"""The recruiter web UI: pools with their pipeline boards, and jobs with their applicants."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import Env, json_post
from tests.integration.test_ui import csrf_of, get, header, make_candidate, post_form, session

__all__ = ["session"]  # the fixture, imported for its name

HOSTILE = "<script>alert(1)</script>"


def make_pool(env: Env, name: str = "Backend") -> dict[str, Any]:
    response = json_post(env, "/v1/pools", {"name": name}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def add_member(env: Env, pool_id: str, candidate_id: str, stage: str) -> None:
    body = {"candidate_id": candidate_id, "stage": stage}
    response = json_post(env, f"/v1/pools/{pool_id}/members", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body


def stage_of(env: Env, pool_id: str, candidate_id: str) -> str | None:
    response = env.client.http.get(f"/v1/candidates/{candidate_id}", headers=env.auth("admin"))
    return dict(response.json_body["pools"]).get(pool_id)


def columns(body: str) -> dict[str, list[str]]:
    """Stage -> the names on its cards, read from the board's markup."""
    found: dict[str, list[str]] = {}
    for chunk in body.split('<li class="column">')[1:]:
        stage = re.search(r"<h3>([^<]*?) <span", chunk)
        assert stage
        found[stage.group(1)] = re.findall(r'<a class="who" href="/ui/candidates/[^"]+">([^<]*)</a>', chunk)
    return found


def make_job(env: Env, **fields: Any) -> dict[str, Any]:
    body = {"title": "Platform engineer", "location": "Berlin", **fields}
    response = json_post(env, "/v1/jobs", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


# ------------------------------------------------------------------------------- pools


def test_create_a_pool_with_the_form(env: Env, session: str) -> None:
    page = get(env, "/ui/pools", session)
    assert page.status_code == 200 and "No pools yet." in page.body.decode()
    fields = {"csrf": csrf_of(page.body), "name": "Data engineers", "description": "Spark & friends"}
    response = post_form(env, "/ui/pools", fields, session)
    assert response.status_code == 303
    location = header(response, "location")
    match = re.fullmatch(r"/ui/pools/([A-Za-z0-9_-]+)\?done=created", location)
    assert match
    pool = env.client.http.get(f"/v1/pools/{match.group(1)}", headers=env.auth("admin")).json_body
    assert pool["name"] == "Data engineers" and pool["description"] == "Spark & friends"
    board = get(env, location, session)
    assert board.status_code == 200
    assert "The pool is created." in board.body.decode()
    env.pump.drain()
    listed = get(env, "/ui/pools", session).body.decode()
    assert f'href="/ui/pools/{pool["id"]}">Data engineers</a>' in listed


def test_an_invalid_pool_is_422_keeping_the_values(env: Env, session: str) -> None:
    csrf = csrf_of(get(env, "/ui/pools", session).body)
    response = post_form(env, "/ui/pools", {"csrf": csrf, "name": "  ", "description": "kept"}, session)
    assert response.status_code == 422
    body = response.body.decode()
    assert 'aria-invalid="true" aria-describedby="e-name"' in body and 'id="e-name"' in body
    assert ">kept</textarea>" in body
    assert env.client.http.get("/v1/pools", headers=env.auth("admin")).json_body["items"] == []


def test_the_board_shows_members_by_stage_and_a_move_form_on_each_card(env: Env, session: str) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    bob = make_candidate(env, email="bob@example.com", first_name="Bob")
    cy = make_candidate(env, email="cy@example.com", first_name="Cy")
    make_candidate(env, email="dee@example.com", first_name="Dee")  # not in the pool
    add_member(env, pool["id"], ann["id"], "sourced")
    add_member(env, pool["id"], bob["id"], "interview")
    add_member(env, pool["id"], cy["id"], "on hold")  # a stage of its own (the API allows any)
    env.pump.drain()
    page = get(env, f"/ui/pools/{pool['id']}", session)
    assert page.status_code == 200
    body = page.body.decode()
    board = columns(body)
    assert list(board) == ["sourced", "contacted", "interview", "offer", "hired", "on hold"]
    assert (
        board["sourced"] == ["Ann Ui"] and board["interview"] == ["Bob Ui"] and board["on hold"] == ["Cy Ui"]
    )
    assert "Dee" not in body
    assert f'<label for="move-{ann["id"]}">Move Ann Ui to</label>' in body
    assert f'action="/ui/pools/{pool["id"]}/members/{ann["id"]}"' in body
    assert f'href="/ui/candidates/{ann["id"]}"' in body


def test_moving_a_member_changes_the_stage_and_writes_the_timeline(env: Env, session: str) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    add_member(env, pool["id"], ann["id"], "sourced")
    env.pump.drain()
    url = f"/ui/pools/{pool['id']}"
    csrf = csrf_of(get(env, url, session).body)
    response = post_form(env, f"{url}/members/{ann['id']}", {"csrf": csrf, "stage": "offer"}, session)
    assert response.status_code == 303
    location = header(response, "location")
    assert location.startswith(f"{url}?done=moved")
    assert stage_of(env, pool["id"], ann["id"]) == "offer"
    # the board shows the move at once, before the list projection has caught up
    board = get(env, location, session).body.decode()
    assert columns(board)["offer"] == ["Ann Ui"] and columns(board)["sourced"] == []
    assert "The candidate is moved." in board
    timeline = env.client.http.get(f"/v1/candidates/{ann['id']}/timeline", headers=env.auth("admin"))
    moves = [a for a in timeline.json_body["items"] if a["kind"] == "pool_stage_set"]
    assert moves[0]["detail"] == {"pool_id": pool["id"], "stage": "offer"}
    assert moves[0]["actor"] != ""


@pytest.mark.parametrize("stage", ["", "<b>x</b>", "x" * 41])
def test_an_invalid_stage_is_422_and_changes_nothing(env: Env, session: str, stage: str) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    add_member(env, pool["id"], ann["id"], "contacted")
    env.pump.drain()
    url = f"/ui/pools/{pool['id']}"
    csrf = csrf_of(get(env, url, session).body)
    response = post_form(env, f"{url}/members/{ann['id']}", {"csrf": csrf, "stage": stage}, session)
    assert response.status_code == 422
    body = response.body.decode()
    assert f'aria-invalid="true" aria-describedby="e-move-{ann["id"]}"' in body
    assert f'id="e-move-{ann["id"]}"' in body
    assert "<b>x</b>" not in body
    assert stage_of(env, pool["id"], ann["id"]) == "contacted"


def test_moving_someone_not_in_the_pool_or_in_an_unknown_pool_is_404(env: Env, session: str) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    csrf = csrf_of(get(env, "/ui/pools", session).body)
    for path in (f"/ui/pools/{pool['id']}/members/{ann['id']}", f"/ui/pools/nope/members/{ann['id']}"):
        response = post_form(env, path, {"csrf": csrf, "stage": "offer"}, session)
        assert response.status_code == 404 and "<h1>" in response.body.decode()
    assert stage_of(env, pool["id"], ann["id"]) is None


def test_add_a_member_by_email(env: Env, session: str) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    url = f"/ui/pools/{pool['id']}"
    csrf = csrf_of(get(env, url, session).body)
    fields = {"csrf": csrf, "email": " ANN@example.com ", "stage": "contacted"}
    response = post_form(env, f"{url}/members", fields, session)
    assert response.status_code == 303
    assert stage_of(env, pool["id"], ann["id"]) == "contacted"
    board = get(env, header(response, "location"), session).body.decode()
    assert columns(board)["contacted"] == ["Ann Ui"]
    assert "The candidate is added to the pool." in board


@pytest.mark.parametrize("email", ["nobody@example.com", "not-an-email", ""])
def test_adding_an_unknown_or_invalid_email_is_422_next_to_the_field(
    env: Env, session: str, email: str
) -> None:
    pool = make_pool(env)
    make_candidate(env, email="ann@example.com", first_name="Ann")
    url = f"/ui/pools/{pool['id']}"
    csrf = csrf_of(get(env, url, session).body)
    response = post_form(env, f"{url}/members", {"csrf": csrf, "email": email, "stage": "sourced"}, session)
    assert response.status_code == 422
    body = response.body.decode()
    assert 'id="a-email" name="email" type="email" value="' + email + '" aria-invalid="true"' in body
    assert 'id="e-email"' in body
    env.pump.drain()
    members = env.client.http.get(f"/v1/pools/{pool['id']}/members", headers=env.auth("admin"))
    assert members.json_body["items"] == []


@pytest.mark.parametrize("token", [None, "forged"])
def test_pool_posts_without_the_csrf_token_are_403_and_change_nothing(
    env: Env, session: str, token: str | None
) -> None:
    pool = make_pool(env)
    ann = make_candidate(env, email="ann@example.com", first_name="Ann")
    bob = make_candidate(env, email="bob@example.com", first_name="Bob")
    add_member(env, pool["id"], ann["id"], "sourced")
    base = {} if token is None else {"csrf": token}
    cases = [
        ("/ui/pools", {**base, "name": "Sneaky"}),
        (f"/ui/pools/{pool['id']}/members", {**base, "email": "bob@example.com"}),
        (f"/ui/pools/{pool['id']}/members/{ann['id']}", {**base, "stage": "hired"}),
    ]
    for path, fields in cases:
        response = post_form(env, path, fields, session)
        assert response.status_code == 403, path
    assert stage_of(env, pool["id"], ann["id"]) == "sourced"
    assert stage_of(env, pool["id"], bob["id"]) is None
    env.pump.drain()
    pools = env.client.http.get("/v1/pools", headers=env.auth("admin")).json_body["items"]
    assert [p["name"] for p in pools] == ["Backend"]


def test_hostile_names_render_as_text(env: Env, session: str) -> None:
    pool = make_pool(env, name=HOSTILE)
    json_post(env, "/v1/pools", {"name": "x", "description": HOSTILE}, env.auth("recruiter"))
    ann = make_candidate(env, email="ann@example.com", first_name=HOSTILE)
    add_member(env, pool["id"], ann["id"], "sourced")
    env.pump.drain()
    for path in ("/ui/pools", f"/ui/pools/{pool['id']}"):
        body = get(env, path, session).body.decode()
        assert "<script>alert" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_unknown_pool_is_a_404_page(env: Env, session: str) -> None:
    response = get(env, "/ui/pools/no-such-pool", session)
    assert response.status_code == 404
    assert header(response, "content-type").startswith("text/html")
    assert "<h1>" in response.body.decode()


# ------------------------------------------------------------------------------- jobs


def test_create_a_job_with_the_form(env: Env, session: str) -> None:
    page = get(env, "/ui/jobs", session)
    assert page.status_code == 200
    fields = {
        "csrf": csrf_of(page.body),
        "title": "Data engineer",
        "department": "",
        "location": "Lisbon",
        "tags": "python, spark",
        "description": "Pipelines.",
        "status": "closed",
    }
    response = post_form(env, "/ui/jobs", fields, session)
    assert response.status_code == 303
    match = re.fullmatch(r"/ui/jobs/([A-Za-z0-9_-]+)\?done=created", header(response, "location"))
    assert match
    job = env.client.http.get(f"/v1/jobs/{match.group(1)}", headers=env.auth("admin")).json_body
    assert job["title"] == "Data engineer" and job["location"] == "Lisbon" and job["department"] is None
    assert job["tags"] == ["python", "spark"] and job["status"] == "closed"
    listed = get(env, "/ui/jobs", session).body.decode()
    assert f'href="/ui/jobs/{job["id"]}">Data engineer</a>' in listed and "Lisbon" in listed


def test_an_invalid_job_is_422_keeping_the_values(env: Env, session: str) -> None:
    csrf = csrf_of(get(env, "/ui/jobs", session).body)
    fields = {"csrf": csrf, "title": "", "location": "Porto", "status": "maybe"}
    response = post_form(env, "/ui/jobs", fields, session)
    assert response.status_code == 422
    body = response.body.decode()
    assert 'id="e-title"' in body and 'id="e-status"' in body and 'value="Porto"' in body
    assert env.client.http.get("/v1/jobs", headers=env.auth("admin")).json_body["items"] == []


def test_close_and_open_a_job(env: Env, session: str) -> None:
    job = make_job(env)
    url = f"/ui/jobs/{job['id']}"
    page = get(env, url, session)
    body = page.body.decode()
    assert page.status_code == 200 and "Close job" in body and "Open job" not in body
    response = post_form(env, f"{url}/status", {"csrf": csrf_of(page.body), "status": "closed"}, session)
    assert response.status_code == 303 and header(response, "location") == f"{url}?done=closed"
    assert (
        env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("admin")).json_body["status"]
        == "closed"
    )
    page = get(env, f"{url}?done=closed", session)
    assert "Open job" in page.body.decode() and "The job is closed" in page.body.decode()
    response = post_form(env, f"{url}/status", {"csrf": csrf_of(page.body), "status": "open"}, session)
    assert response.status_code == 303
    assert (
        env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("admin")).json_body["status"] == "open"
    )
    bad = post_form(env, f"{url}/status", {"csrf": csrf_of(page.body), "status": "deleted"}, session)
    assert bad.status_code == 422 and "Choose to open or to close the job." in bad.body.decode()
    missing = post_form(env, "/ui/jobs/nope/status", {"csrf": csrf_of(page.body), "status": "open"}, session)
    assert missing.status_code == 404


def test_a_job_lists_its_applicants(env: Env, session: str) -> None:
    job = make_job(env)
    for first in ("Ann", HOSTILE):
        body = {"first_name": first, "last_name": "Apply", "email": f"{len(first)}@example.com"}
        response = json_post(env, f"/public/jobs/{job['id']}/applications", body)
        assert response.status_code == 202, response.body
    make_candidate(env, email="other@example.com", first_name="Outsider")
    page = get(env, f"/ui/jobs/{job['id']}", session)
    body = page.body.decode()
    assert page.status_code == 200
    names = re.findall(r'<a href="/ui/candidates/[^"]+">([^<]*)</a>', body)
    assert sorted(names) == sorted(["Ann Apply", "&lt;script&gt;alert(1)&lt;/script&gt; Apply"])
    assert "Outsider" not in body and "<script>alert" not in body


@pytest.mark.parametrize("token", [None, "forged"])
def test_job_posts_without_the_csrf_token_are_403_and_change_nothing(
    env: Env, session: str, token: str | None
) -> None:
    job = make_job(env)
    base = {} if token is None else {"csrf": token}
    assert post_form(env, "/ui/jobs", {**base, "title": "Sneaky"}, session).status_code == 403
    assert (
        post_form(env, f"/ui/jobs/{job['id']}/status", {**base, "status": "closed"}, session).status_code
        == 403
    )
    jobs = env.client.http.get("/v1/jobs", headers=env.auth("admin")).json_body["items"]
    assert [(j["title"], j["status"]) for j in jobs] == [("Platform engineer", "open")]


def test_a_hostile_job_renders_as_text(env: Env, session: str) -> None:
    job = make_job(env, title=HOSTILE, location=HOSTILE, description=HOSTILE)
    for path in ("/ui/jobs", f"/ui/jobs/{job['id']}"):
        body = get(env, path, session).body.decode()
        assert "<script>alert" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_unknown_job_is_a_404_page(env: Env, session: str) -> None:
    response = get(env, "/ui/jobs/no-such-job", session)
    assert response.status_code == 404
    assert header(response, "content-type").startswith("text/html")
    assert "<h1>" in response.body.decode()


@pytest.mark.parametrize("path", ["/ui/pools", "/ui/pools/x", "/ui/jobs", "/ui/jobs/x"])
def test_pages_without_a_session_send_to_sign_in(env: Env, path: str) -> None:
    response = env.client.http.get(path)
    assert response.status_code == 303 and header(response, "location").startswith("/ui/login?next=")


def test_edit_a_job_from_its_page(env: Env, session: str) -> None:
    job = make_job(env, title="Data engineer", location="Berlin", tags=["python"])
    page = get(env, f"/ui/jobs/{job['id']}", session).body.decode()
    assert 'action="/ui/jobs/' in page and 'value="Data engineer"' in page
    token = csrf_of(page.encode())
    fields = {
        "csrf": token,
        "title": "Senior data engineer",
        "location": "",
        "department": "Data",
        "tags": "python, spark",
        "description": "Pipelines <b>and</b> more",
    }
    saved = post_form(env, f"/ui/jobs/{job['id']}", fields, session)
    assert saved.status_code == 303 and header(saved, "location").endswith("?done=saved#details")
    after = env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("recruiter")).json_body
    assert (after["title"], after["location"], after["department"]) == ("Senior data engineer", None, "Data")
    assert after["tags"] == ["python", "spark"] and after["status"] == job["status"]
    shown = get(env, f"/ui/jobs/{job['id']}?done=saved", session).body.decode()
    assert "The job&#39;s details are saved." in shown and "Pipelines &lt;b&gt;and&lt;/b&gt; more" in shown
    bad = post_form(env, f"/ui/jobs/{job['id']}", {**fields, "title": ""}, session)
    assert bad.status_code == 422 and 'id="e-title"' in bad.body.decode()
    again = env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("recruiter")).json_body
    assert again["title"] == "Senior data engineer"
    assert post_form(env, f"/ui/jobs/{job['id']}", {**fields, "csrf": ""}, session).status_code == 403
    assert post_form(env, "/ui/jobs/nope", fields, session).status_code == 404


def test_remove_a_member_from_the_board(env: Env, session: str) -> None:
    pool = make_pool(env)
    person = make_candidate(env, email="gone@example.com", first_name="Gone")
    add_member(env, pool["id"], person["id"], "interview")
    env.pump.drain()
    board = get(env, f"/ui/pools/{pool['id']}", session)
    url = f"/ui/pools/{pool['id']}/members/{person['id']}/remove"
    assert f'action="{url}"' in board.body.decode()
    assert post_form(env, url, {}, session).status_code == 403  # no form token
    assert stage_of(env, pool["id"], person["id"]) == "interview"
    token = csrf_of(board.body)
    removed = post_form(env, url, {"csrf": token}, session)
    assert removed.status_code == 303 and "done=removed" in header(removed, "location")
    assert stage_of(env, pool["id"], person["id"]) is None
    assert post_form(env, url, {"csrf": token}, session).status_code == 303  # again: same page
    assert (
        env.client.http.get(f"/v1/candidates/{person['id']}", headers=env.auth("recruiter")).status_code
        == 200
    )
    assert (
        post_form(env, f"/ui/pools/nope/members/{person['id']}/remove", {"csrf": token}, session).status_code
        == 404
    )
