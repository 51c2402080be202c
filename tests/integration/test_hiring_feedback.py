"""Interview feedback (scorecards): every attribute rated 1-4, an overall recommendation, once per
interview and person; a member of the job's hiring team sees others' feedback only after giving
their own; the counts on the application; erased with the person; the profile's form."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.integration.conftest import Env, json_post
from tests.integration.test_hiring_pipeline import apply, make_job, only_application
from tests.integration.test_ui import csrf_of, get, header, post_form, session

__all__ = ["session"]  # the fixture, imported for its name

SCORECARD = ["Python", "Communication"]
INTERVIEWS = ["Phone screen", "On-site"]


def feedback(env: Env, app_id: str, who: str, **body: Any) -> Any:
    sent = {
        "interview": "Phone screen",
        "ratings": {"Python": 3, "Communication": 4},
        "recommendation": "yes",
        **body,
    }
    return json_post(env, f"/v1/applications/{app_id}/feedback", sent, env.auth(who))


def read(env: Env, app_id: str, who: str) -> dict[str, Any]:
    response = env.client.http.get(f"/v1/applications/{app_id}/feedback", headers=env.auth(who))
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def hired_team_job(env: Env) -> tuple[dict[str, Any], dict[str, Any]]:
    job = make_job(env, scorecard=SCORECARD, interviews=INTERVIEWS, interviewers=["recruiter@example.com"])
    apply(env, job["id"], "fay@example.com", first_name="Fay", last_name="Feedback")
    return job, only_application(env, job["id"])


def test_feedback_is_hidden_from_the_team_until_they_give_their_own(env: Env) -> None:
    job, app = hired_team_job(env)
    given = feedback(env, app["id"], "admin", recommendation="strong_yes", notes="Sharp on asyncio.")
    assert given.status_code == 201, given.body
    assert given.json_body["author_email"] == "admin@example.com"
    assert given.json_body["interview"] == "Phone screen"

    # The recruiter is an interviewer on this job: the admin's feedback stays hidden for now.
    before = read(env, app["id"], "recruiter")
    assert before["items"] == [] and before["hidden"] == 1 and before["mine_submitted"] is False
    mine = feedback(env, app["id"], "recruiter", interview="phone SCREEN", recommendation="no")
    assert mine.status_code == 201, mine.body
    after = read(env, app["id"], "recruiter")
    assert [f["recommendation"] for f in after["items"]] == ["strong_yes", "no"] and after["hidden"] == 0
    # The admin (not on the team) saw everything all along.
    assert len(read(env, app["id"], "admin")["items"]) == 2

    counted = only_application(env, job["id"])
    assert counted["feedback_count"] == 2
    assert counted["feedback_strong_yes"] == 1 and counted["feedback_no"] == 1
    timeline = env.client.http.get(
        f"/v1/candidates/{app['candidate_id']}/timeline", headers=env.auth("admin")
    ).json_body["items"]
    assert len([e for e in timeline if e["kind"] == "feedback_given"]) == 2

    # The other interview is feedback of its own; the same one twice is a 422 naming it.
    assert feedback(env, app["id"], "recruiter", interview="On-site").status_code == 201
    twice = feedback(env, app["id"], "recruiter", interview="On-site", recommendation="strong_no")
    assert twice.status_code == 422 and twice.json_body["errors"][0]["field"] == "interview"
    assert only_application(env, job["id"])["feedback_count"] == 3


def test_bad_feedback_names_the_field_and_stores_nothing(env: Env) -> None:
    job, app = hired_team_job(env)

    def refused(field: str, **body: Any) -> None:
        response = feedback(env, app["id"], "admin", **body)
        assert response.status_code == 422, (body, response.body)
        assert field in [e["field"] for e in response.json_body["errors"]], response.body

    refused("ratings.Python", ratings={"Python": 5, "Communication": 4})
    refused("ratings.Python", ratings={"Python": 0, "Communication": 4})
    refused("ratings.Charm", ratings={"Python": 3, "Communication": 4, "Charm": 2})
    refused("ratings", ratings={"Python": 3})
    refused("interview", interview="Coffee chat")
    refused("recommendation", recommendation="maybe")
    refused("notes", notes="x" * 10_001)
    assert read(env, app["id"], "admin")["items"] == []
    assert only_application(env, job["id"])["feedback_count"] == 0

    # An integration's key is no interviewer; an unknown application is a 404.
    key = json_post(env, "/v1/api-keys", {"name": "ats", "scope": "read-write"}, env.auth("admin")).json_body
    by_key = env.client.http.post(
        f"/v1/applications/{app['id']}/feedback",
        body=json.dumps(
            {
                "interview": "Phone screen",
                "ratings": {"Python": 3, "Communication": 3},
                "recommendation": "yes",
            }
        ),
        headers={"Content-Type": "application/json", "X-Api-Key": key["key"]},
    )
    assert by_key.status_code == 403
    assert feedback(env, "nobody_nothing", "admin").status_code == 404


def test_feedback_goes_with_the_person(env: Env) -> None:
    _, app = hired_team_job(env)
    assert feedback(env, app["id"], "admin", notes="Private words about Fay").status_code == 201
    erased = env.client.http.delete(f"/v1/candidates/{app['candidate_id']}", headers=env.auth("admin"))
    assert erased.status_code == 204
    items = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
    assert not [i for i in items if "Private words" in json.dumps(i)]
    assert not [i for i in items if i["pk"]["S"] == f"CAND#{app['candidate_id']}"]


def test_the_profile_form_gives_feedback_and_hides_others_until_then(env: Env, session: str) -> None:
    job, app = hired_team_job(env)
    assert (
        feedback(env, app["id"], "admin", recommendation="strong_yes", notes="Admin's view").status_code
        == 201
    )
    url = f"/ui/candidates/{app['candidate_id']}"
    profile = get(env, url, session).body.decode()
    assert "1 feedback hidden until you give your own" in profile and "Admin&#39;s view" not in profile

    fields = {
        "csrf": csrf_of(profile.encode()),
        "interview": "Phone screen",
        "rating-0": "4",
        "recommendation": "yes",
        "notes": "Good",
    }
    missing = post_form(env, f"/ui/applications/{app['id']}/feedback", fields, session)
    assert missing.status_code == 422
    body = missing.body.decode()
    assert "Rate every attribute of the scorecard; missing: Communication" in body
    assert ">Good</textarea>" in body  # what was typed is kept

    saved = post_form(env, f"/ui/applications/{app['id']}/feedback", {**fields, "rating-1": "3"}, session)
    assert saved.status_code == 303, saved.body
    profile = get(env, header(saved, "location"), session).body.decode()
    assert (
        "Your feedback is saved." in profile and "Admin&#39;s view" in profile and "Python: 4 of 4" in profile
    )
    board = get(env, f"/ui/jobs/{job['id']}", session).body.decode()
    assert "Feedback: 2" in board and "strong yes" not in board  # a team member sees no tally
