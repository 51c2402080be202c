"""The recruiter UI of a job's pipeline: the board, moving with a plain form (no JavaScript), a
stale move, a rejection without a reason, editing the stages, and the stage on the profile."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.conftest import Env, json_post
from tests.integration.test_hiring_pipeline import apply, make_job, only_application
from tests.integration.test_ui import csrf_of, get, header, make_candidate, post_form, session

__all__ = ["session"]  # the fixture, imported for its name


def columns(body: str) -> dict[str, list[str]]:
    """Stage key -> the names on its cards, read from the board's markup."""
    found: dict[str, list[str]] = {}
    for chunk in body.split('<li class="column" data-stage="')[1:]:
        key = chunk.split('"', 1)[0]
        found[key] = re.findall(
            r'<a class="who" href="/ui/candidates/[^"]+">([^<]*)</a>', chunk.split("</ul>\n  </li>", 1)[0]
        )
    return found


def move_form(env: Env, session: str, app: dict[str, Any], **fields: str) -> Any:
    page = get(env, f"/ui/jobs/{app['job_id']}", session)
    values = {"csrf": csrf_of(page.body), "version": str(app["version"]), "reason": "", **fields}
    return post_form(env, f"/ui/applications/{app['id']}/move", values, session)


def test_the_board_moves_an_application_with_a_plain_form(env: Env, session: str) -> None:
    job = make_job(env, title="Data engineer")
    apply(env, job["id"], "bo@example.com", first_name="Bo", last_name="Board")
    app = only_application(env, job["id"])
    page = get(env, f"/ui/jobs/{job['id']}", session)
    assert page.status_code == 200
    board = columns(page.body.decode())
    assert list(board) == ["applied", "screen", "interview", "offer", "hired", "rejected", "withdrawn"]
    assert board["applied"] == ["Bo Board"]

    moved = move_form(env, session, app, stage="interview")
    assert moved.status_code == 303 and "done=moved" in header(moved, "location")
    after = get(env, f"/ui/jobs/{job['id']}", session).body.decode()
    assert columns(after)["interview"] == ["Bo Board"] and columns(after)["applied"] == []
    assert "The application is moved." in get(env, header(moved, "location"), session).body.decode()

    # The same form again (its version is now stale): a 409 page that shows where it is now.
    stale = move_form(env, session, app, stage="offer")
    assert stale.status_code == 409
    assert "Someone moved this application meanwhile" in stale.body.decode()
    assert columns(stale.body.decode())["interview"] == ["Bo Board"]

    # A rejection without a reason: a 422 with the error on the card, nothing moved.
    current = only_application(env, job["id"])
    refused = move_form(env, session, current, stage="rejected")
    assert refused.status_code == 422
    body = refused.body.decode()
    assert 'aria-invalid="true"' in body and "a rejection needs a reason" in body
    assert only_application(env, job["id"])["stage"] == "interview"
    rejected = move_form(env, session, current, stage="rejected", reason="Position filled")
    assert rejected.status_code == 303
    assert columns(get(env, f"/ui/jobs/{job['id']}", session).body.decode())["rejected"] == ["Bo Board"]

    # A form that was not made by this session's page is refused.
    forged = post_form(
        env, f"/ui/applications/{app['id']}/move", {"csrf": "x", "stage": "offer", "version": "3"}, session
    )
    assert forged.status_code == 403
    assert only_application(env, job["id"])["stage"] == "rejected"


def test_editing_the_pipeline_and_the_team_with_the_form(env: Env, session: str) -> None:
    job = make_job(env)
    apply(env, job["id"], "ed@example.com", first_name="Ed", last_name="Edit")
    page = get(env, f"/ui/jobs/{job['id']}", session)
    assert "applied: Applied | Application received" in page.body.decode()
    fields = {
        "csrf": csrf_of(page.body),
        "stages": "applied: New | We have it\nPhone screen\nTake-home task | Task\nonsite: On-site",
        "hiring_managers": "Hm@Example.com, other@example.com",
        "interviewers": "",
        "scorecard": "Python\nSystem design\nCommunication",
        "interviews": "Phone screen\nOn-site",
    }
    saved = post_form(env, f"/ui/jobs/{job['id']}/pipeline", fields, session)
    assert saved.status_code == 303, saved.body
    stored = env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("recruiter")).json_body
    assert [(s["key"], s["name"]) for s in stored["stages"]] == [
        ("applied", "New"),
        ("phone_screen", "Phone screen"),
        ("take_home_task", "Take-home task"),
        ("onsite", "On-site"),
    ]
    assert stored["stages"][0]["public_name"] == "We have it"
    assert stored["hiring_managers"] == ["hm@example.com", "other@example.com"]
    assert stored["scorecard"] == ["Python", "System design", "Communication"]
    board = columns(get(env, f"/ui/jobs/{job['id']}", session).body.decode())
    assert list(board)[:4] == ["applied", "phone_screen", "take_home_task", "onsite"]

    # Removing the stage that holds Ed: refused, with what was typed kept.
    fields["stages"] = "Phone screen\nonsite: On-site"
    refused = post_form(env, f"/ui/jobs/{job['id']}/pipeline", fields, session)
    assert refused.status_code == 409
    assert (
        "still has applications" in refused.body.decode()
        and "Phone screen\nonsite: On-site" in refused.body.decode()
    )
    # A bad address names its field.
    fields["stages"] = "applied: New"
    fields["hiring_managers"] = "not-an-address"
    bad = post_form(env, f"/ui/jobs/{job['id']}/pipeline", fields, session)
    assert bad.status_code == 422 and 'id="e-p-hiring_managers"' in bad.body.decode()


def test_the_profile_shows_the_stage_moves_it_and_adds_the_person_to_a_job(env: Env, session: str) -> None:
    job = make_job(env, title="Site reliability engineer")
    person = make_candidate(env, email="pro@example.com", first_name="Pro", last_name="File")
    profile = get(env, f"/ui/candidates/{person['id']}", session).body.decode()
    assert "Add to a job's pipeline" in profile and "Site reliability engineer" in profile
    added = post_form(
        env,
        f"/ui/candidates/{person['id']}/applications",
        {"csrf": csrf_of(profile.encode()), "job_id": job["id"]},
        session,
    )
    assert added.status_code == 303, added.body
    profile = get(env, f"/ui/candidates/{person['id']}", session).body.decode()
    assert '<strong class="stage">Applied</strong>' in profile and "via sourced" in profile
    app = only_application(env, job["id"])
    moved = post_form(
        env,
        f"/ui/applications/{app['id']}/move",
        {"csrf": csrf_of(profile.encode()), "stage": "screen", "version": "1", "back": "profile"},
        session,
    )
    assert moved.status_code == 303 and header(moved, "location").startswith(f"/ui/candidates/{person['id']}")
    profile = get(env, header(moved, "location"), session).body.decode()
    assert '<strong class="stage">Screen</strong>' in profile
    assert "Moved from “Applied” to “Screen”" in profile  # the timeline, in the job's words
    # Added twice (a second tab): a 409 page that says so.
    twice = post_form(
        env,
        f"/ui/candidates/{person['id']}/applications",
        {"csrf": csrf_of(profile.encode()), "job_id": job["id"]},
        session,
    )
    assert twice.status_code == 409 and "pipeline already" in twice.body.decode()
    closed = json_post(env, "/v1/jobs", {"title": "Old", "status": "closed"}, env.auth("recruiter")).json_body
    shut = post_form(
        env,
        f"/ui/candidates/{person['id']}/applications",
        {"csrf": csrf_of(profile.encode()), "job_id": closed["id"]},
        session,
    )
    assert shut.status_code == 409 and "The job is closed" in shut.body.decode()


def test_status_emails_are_chosen_per_stage_in_the_pipeline_form(env: Env, session: str) -> None:
    def template(name: str) -> str:
        body = {"name": name, "subject": "About {{ job.title }}", "html": "<p>Hi</p>", "text": "Hi"}
        response = json_post(env, "/v1/templates", body, env.auth("recruiter"))
        assert response.status_code == 201, response.body
        return str(response.json_body["id"])

    received, declined = template("Application received"), template("Not this time")
    job = make_job(env, title="Status mail engineer")

    def stored() -> dict[str, Any]:
        return dict(env.client.http.get(f"/v1/jobs/{job['id']}", headers=env.auth("recruiter")).json_body)

    def form(**templates: str) -> dict[str, str]:
        page = get(env, f"/ui/jobs/{job['id']}", session)
        body = page.body.decode()
        assert "Status emails" in body and "Application received" in body
        values = {
            "csrf": csrf_of(page.body),
            "stages": "applied: Applied\nscreen: Screen\nnew_stage: Call",
            "hiring_managers": "",
            "interviewers": "",
            "scorecard": "Python",
            "interviews": "Interview",
        }
        return {**values, **templates}

    saved = post_form(
        env,
        f"/ui/jobs/{job['id']}/pipeline",
        form(**{"template-applied": received, "template-screen": "", "template-rejected": declined}),
        session,
    )
    assert saved.status_code == 303, saved.body
    job_now = stored()
    assert [s.get("template_id") for s in job_now["stages"]] == [received, None, None]
    assert job_now["rejection_template_id"] == declined
    page = get(env, f"/ui/jobs/{job['id']}", session).body.decode()
    assert f'<option value="{received}" selected>' in page and f'<option value="{declined}" selected>' in page

    # A form without the choices (a page from before them) keeps what the stages have.
    kept = post_form(env, f"/ui/jobs/{job['id']}/pipeline", form(), session)
    assert kept.status_code == 303, kept.body
    assert [s.get("template_id") for s in stored()["stages"]] == [received, None, None]
    assert stored()["rejection_template_id"] == declined

    # A template that does not exist: a 422 on its select, nothing saved.
    bad = post_form(env, f"/ui/jobs/{job['id']}/pipeline", form(**{"template-screen": "0" * 32}), session)
    assert bad.status_code == 422
    assert 'id="e-p-template-screen"' in bad.body.decode() and "no such template" in bad.body.decode()
    assert [s.get("template_id") for s in stored()["stages"]] == [received, None, None]

    # "No email" clears a choice.
    cleared = post_form(
        env,
        f"/ui/jobs/{job['id']}/pipeline",
        form(**{"template-applied": "", "template-rejected": ""}),
        session,
    )
    assert cleared.status_code == 303, cleared.body
    assert [s.get("template_id") for s in stored()["stages"]] == [None, None, None]
    assert stored()["rejection_template_id"] is None
