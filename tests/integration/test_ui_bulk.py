"""The candidates list's bulk actions in the UI: tick people (or take all who match), choose an
action, follow its progress page, download an export; a form with nothing ticked or a missing
field starts nothing and says what to fix."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from crm.candidates.service import CandidateService
from tests.integration.conftest import Env
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_ui import FORM, cookie_value, csrf_of, get, header, sign_in
from tests.support.engagement import QueueDriver


@pytest.fixture
def session(env: Env) -> str:
    return f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"


def submit(env: Env, cookie: str, pairs: list[tuple[str, str]]) -> object:
    token = csrf_of(get(env, "/ui/candidates", cookie).body)
    return env.client.http.post(
        "/ui/bulk", body=urlencode([("csrf", token), *pairs]).encode(), headers={**FORM, "Cookie": cookie}
    )


def test_tick_two_and_tag_them(env: Env, session: str, driver: QueueDriver) -> None:
    ids = make_candidates(env, 3, tag="uibulk")
    page = get(env, "/ui/candidates?tag=uibulk", session).body.decode()
    assert 'form="bulk" name="candidate_ids"' in page and "all 3 who match" in page
    response = submit(
        env,
        session,
        [
            ("scope", "selected"),
            ("action", "add_tags"),
            ("tags", "python, berlin"),
            *(("candidate_ids", c) for c in ids[:2]),
        ],
    )
    assert response.status_code == 303, response.body
    location = header(response, "location")
    assert location.startswith("/ui/bulk/")
    waiting = get(env, location, session).body.decode()
    assert 'http-equiv="refresh"' in waiting
    driver.run(only="dispatch")
    done = get(env, location, session).body.decode()
    assert "Done" in done and 'http-equiv="refresh"' not in done
    assert CandidateService().get(ids[0]).tags == ["berlin", "python", "uibulk"]
    assert CandidateService().get(ids[2]).tags == ["uibulk"]


def test_all_who_match_then_export(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 2, tag="uiexp")
    make_candidates(env, 1, tag="elsewhere", prefix="x")
    response = submit(env, session, [("scope", "all"), ("tag", "uiexp"), ("action", "export")])
    assert response.status_code == 303, response.body
    location = header(response, "location")
    driver.run(only="dispatch")
    done = get(env, location, session).body.decode()
    assert "Download the CSV (2 people)" in done
    csv_text = get(env, f"{location}/export", session).body.decode()
    assert csv_text.count("@example.com") == 2 and "elsewhere" not in csv_text


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("scope", "selected"), ("action", "add_tags"), ("tags", "x")], "Tick at least one person"),
        ([("scope", "all"), ("action", "add_to_pool")], "pool"),
        ([("scope", "all"), ("action", "enrol"), ("sequence_id", "")], "sequence"),
        ([("scope", "all"), ("action", "add_tags"), ("tags", "no!way")], "Tags may use"),
    ],
)
def test_a_form_that_cannot_run_starts_nothing(
    env: Env, session: str, pairs: list[tuple[str, str]], message: str
) -> None:
    make_candidates(env, 1, tag="uibad")
    response = submit(env, session, pairs)
    assert response.status_code == 422
    assert message in response.body.decode()
    listed = env.client.http.get("/v1/bulk-actions", headers=env.auth("recruiter")).json_body
    assert listed["items"] == []
