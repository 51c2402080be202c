"""A hiring manager in the UI: their jobs and nothing else. The pages hide what they may not do
(no move, edit, pipeline, notes or mail forms; no recruiters' pages in the menu) and the server
refuses it anyway; an applicant to another job is a 404, another job a 403; feedback stays hidden
until they give their own; taking them off the team takes the job away at once."""

from __future__ import annotations

import json

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_hiring_feedback import feedback
from tests.integration.test_hiring_pipeline import apply, make_job, only_application
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.support.stack import create_user

HM = "hm@example.com"


def hm_session(env: Env) -> str:
    create_user(env.stack, HM, PASSWORD, "hiring_manager")
    response = sign_in(env, HM)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def candidate_id_of(env: Env, job_id: str) -> str:
    return str(only_application(env, job_id)["candidate_id"])


def test_a_hiring_manager_sees_their_job_and_gives_feedback_and_nothing_more(env: Env) -> None:
    mine = make_job(
        env, title="Data engineer", hiring_managers=[HM], scorecard=["Python"], interviews=["Interview"]
    )
    other = make_job(env, title="Office manager")
    apply(env, mine["id"], "ada@example.com", first_name="Ada", last_name="Mine")
    apply(env, other["id"], "bo@example.com", first_name="Bo", last_name="Other")
    ada, bo = candidate_id_of(env, mine["id"]), candidate_id_of(env, other["id"])
    app = only_application(env, mine["id"])
    cookie = hm_session(env)

    # The start page and the recruiters' pages send them to their jobs; the menu has only those.
    for path in ("/ui/", "/ui/candidates", "/ui/pools", "/ui/campaigns", "/ui/reminders", "/ui/admin/users"):
        response = get(env, path, cookie)
        assert (response.status_code, header(response, "location")) == (303, "/ui/jobs"), path
    jobs = get(env, "/ui/jobs", cookie).body.decode()
    assert "Your jobs" in jobs and "Data engineer" in jobs and "Office manager" not in jobs
    assert 'action="/ui/jobs"' not in jobs  # no "New job" form
    assert 'href="/ui/candidates"' not in jobs and 'href="/ui/campaigns"' not in jobs

    # Their job's board: the applicant, no forms to move, edit, close or change the pipeline.
    board = get(env, f"/ui/jobs/{mine['id']}", cookie)
    assert board.status_code == 200
    body = board.body.decode()
    assert "Ada Mine" in body
    for action in ("/move", f"/ui/jobs/{mine['id']}/status", f"/ui/jobs/{mine['id']}/pipeline"):
        assert f'action="{action}' not in body and action not in body.split('<h2 id="applicants">')[0]
    assert get(env, f"/ui/jobs/{other['id']}", cookie).status_code == 403

    # The applicant's page: the application to their job and its feedback, nothing else.
    profile = get(env, f"/ui/candidates/{ada}", cookie)
    assert profile.status_code == 200
    text = profile.body.decode()
    assert "Applications to your jobs" in text and "Data engineer" in text
    for absent in ("/notes", "/emails", "/reminders", "/pools", "/erase", "Timeline"):
        assert absent not in text, absent
    assert get(env, f"/ui/candidates/{bo}", cookie).status_code == 404

    # A recruiter's feedback stays hidden until the hiring manager gives their own.
    assert (
        feedback(env, app["id"], "recruiter", interview="Interview", ratings={"Python": 2}).status_code == 201
    )
    hidden = get(env, f"/ui/candidates/{ada}", cookie).body.decode()
    assert "1 feedback hidden until you give your own" in hidden and "Python: 2 of 4" not in hidden
    fields = {
        "csrf": csrf_of(profile.body),
        "interview": "Interview",
        "rating-0": "4",
        "recommendation": "strong_yes",
        "notes": "Clear thinker.",
    }
    given = post_form(env, f"/ui/applications/{app['id']}/feedback", fields, cookie)
    assert given.status_code == 303, given.body
    after = get(env, header(given, "location"), cookie).body.decode()
    assert "Your feedback is saved." in after and "Clear thinker." in after and "Python: 2 of 4" in after
    assert only_application(env, mine["id"])["feedback_count"] == 2

    # What the pages do not offer, the server refuses: a move, a note, feedback on another job.
    csrf = csrf_of(profile.body)
    move = {"csrf": csrf, "version": str(app["version"]), "stage": "offer", "reason": ""}
    assert post_form(env, f"/ui/applications/{app['id']}/move", move, cookie).status_code == 403
    assert (
        post_form(env, f"/ui/candidates/{ada}/notes", {"csrf": csrf, "body": "x"}, cookie).status_code == 403
    )
    bo_app = only_application(env, other["id"])
    assert post_form(env, f"/ui/applications/{bo_app['id']}/feedback", fields, cookie).status_code == 404
    assert only_application(env, mine["id"])["stage"] == "applied"
    assert only_application(env, other["id"])["feedback_count"] == 0

    # Off the team, the job is gone from their list and its pages at once.
    patched = env.client.http.patch(
        f"/v1/jobs/{mine['id']}",
        body=json.dumps({"hiring_managers": []}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert patched.status_code == 200, patched.body
    assert "Data engineer" not in get(env, "/ui/jobs", cookie).body.decode()
    assert get(env, f"/ui/jobs/{mine['id']}", cookie).status_code == 403
    assert get(env, f"/ui/candidates/{ada}", cookie).status_code == 404


def test_the_team_index_follows_the_job(env: Env) -> None:
    """GET /v1/jobs for a hiring manager is their jobs, as the job's team says now."""
    create_user(env.stack, HM, PASSWORD, "hiring_manager")
    token = json_post(env, "/auth/login", {"username": HM, "password": PASSWORD}).json_body["id_token"]
    auth = {"Authorization": f"Bearer {token}"}

    def listed() -> list[str]:
        response = env.client.http.get("/v1/jobs", headers=auth)
        assert response.status_code == 200, response.body
        return [j["title"] for j in response.json_body["items"]]

    make_job(env, title="Not theirs")
    first = make_job(env, title="First", interviewers=[HM.upper()])
    assert listed() == ["First"]
    second = make_job(env, title="Second", hiring_managers=[HM], interviewers=[HM])
    assert listed() == ["Second", "First"]
    for job, body in (
        (first, {"interviewers": ["someone@example.com"]}),
        (second, {"title": "Second, renamed"}),
    ):
        response = env.client.http.patch(
            f"/v1/jobs/{job['id']}",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **env.auth("recruiter")},
        )
        assert response.status_code == 200, response.body
    assert listed() == ["Second, renamed"]
    assert env.client.http.get(f"/v1/jobs/{first['id']}", headers=auth).status_code == 403
