"""A recruiter adds a candidate in the UI: from the Candidates page, or straight into a pool's
column from its board; bad input, a known email and an unknown pool change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.conftest import Env, json_post
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in

NEW = {"first_name": "Nia", "last_name": "Okafor", "email": "nia@example.com"}


@pytest.fixture
def session(env: Env) -> str:
    return f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"


def nobody_added(env: Env) -> bool:
    env.pump.drain()
    return env.client.http.get("/v1/candidates", headers=env.auth("recruiter")).json_body["items"] == []


def candidate_by_email(env: Env, email: str) -> dict[str, Any] | None:
    found = env.client.http.get(
        f"/v1/candidates?{urlencode({'email': email})}", headers=env.auth("recruiter")
    )
    items = found.json_body["items"]
    if not items:
        return None
    return dict(
        env.client.http.get(f"/v1/candidates/{items[0]['id']}", headers=env.auth("recruiter")).json_body
    )


def csrf(env: Env, cookie: str) -> str:
    return csrf_of(get(env, "/ui/candidates/new", cookie).body)


def test_the_candidates_page_links_to_the_form(env: Env, session: str) -> None:
    assert 'href="/ui/candidates/new"' in get(env, "/ui/candidates", session).body.decode()
    form = get(env, "/ui/candidates/new", session)
    assert form.status_code == 200
    body = form.body.decode()
    for name in ("first_name", "last_name", "email", "phone", "location", "linkedin_url", "tags"):
        assert f'name="{name}"' in body
    assert '<label for="n-consent">' in body


def test_adding_someone_opens_their_profile(env: Env, session: str) -> None:
    fields = {**NEW, "tags": "python, berlin", "location": "Berlin", "marketing_consent": "on"}
    response = post_form(env, "/ui/candidates", {"csrf": csrf(env, session), **fields}, session)
    assert response.status_code == 303, response.body
    location = header(response, "location")
    assert location.startswith("/ui/candidates/") and location.endswith("?done=created")
    made = candidate_by_email(env, "nia@example.com")
    assert made is not None
    assert made["source"] == "recruiter" and sorted(made["tags"]) == ["berlin", "python"]
    assert made["consents"]["marketing"]["granted"] is True
    assert "The candidate is added." in get(env, location, session).body.decode()


def test_without_the_consent_box_no_consent_is_recorded(env: Env, session: str) -> None:
    post_form(env, "/ui/candidates", {"csrf": csrf(env, session), **NEW}, session)
    made = candidate_by_email(env, "nia@example.com")
    assert made is not None and made["consents"] == {}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"email": "not-an-address"}, "email"),
        ({"tags": "%%"}, "tags"),
        ({"linkedin_url": "javascript:alert(1)"}, "linkedin_url"),
    ],
)
def test_bad_input_is_a_422_with_the_field_marked(
    env: Env, session: str, fields: dict[str, str], field: str
) -> None:
    response = post_form(env, "/ui/candidates", {"csrf": csrf(env, session), **NEW, **fields}, session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    assert f'id="e-{field}"' in body and "Nobody was added" in body
    assert 'value="Okafor"' in body  # what was typed is kept
    assert nobody_added(env)


def test_a_known_email_links_to_the_existing_profile_and_changes_nothing(env: Env, session: str) -> None:
    existing = json_post(env, "/v1/candidates", {**NEW, "first_name": "Original"}, env.auth("recruiter"))
    response = post_form(env, "/ui/candidates", {"csrf": csrf(env, session), **NEW}, session)
    assert response.status_code == 409
    assert f'href="/ui/candidates/{existing.json_body["id"]}"' in response.body.decode()
    made = candidate_by_email(env, "nia@example.com")
    assert made is not None and made["first_name"] == "Original" and made["version"] == 1


def test_from_a_pool_board_they_land_in_its_column(env: Env, session: str) -> None:
    pool = json_post(env, "/v1/pools", {"name": "Berlin Python"}, env.auth("recruiter")).json_body
    board = get(env, f"/ui/pools/{pool['id']}", session).body.decode()
    assert f"/ui/candidates/new?pool={pool['id']}" in board
    form = get(env, f"/ui/candidates/new?pool={pool['id']}&stage=interview&email=nia%40example.com", session)
    body = form.body.decode()
    assert "Berlin Python" in body and '<option value="interview" selected>' in body
    assert 'value="nia@example.com"' in body
    fields = {"csrf": csrf_of(form.body), **NEW, "pool": pool["id"], "stage": "interview"}
    response = post_form(env, "/ui/candidates", fields, session)
    assert response.status_code == 303
    assert header(response, "location").startswith(f"/ui/pools/{pool['id']}?done=added")
    made = candidate_by_email(env, "nia@example.com")
    assert made is not None and made["pools"] == {pool["id"]: "interview"}


def test_a_board_that_does_not_know_the_email_offers_to_add_them(env: Env, session: str) -> None:
    pool = json_post(env, "/v1/pools", {"name": "Shortlist"}, env.auth("recruiter")).json_body
    board = get(env, f"/ui/pools/{pool['id']}", session)
    fields = {"csrf": csrf_of(board.body), "email": "new@example.com", "stage": "contacted"}
    response = post_form(env, f"/ui/pools/{pool['id']}/members", fields, session)
    assert response.status_code == 422
    body = response.body.decode()
    assert "add them as someone new" in body
    assert f"/ui/candidates/new?pool={pool['id']}&amp;stage=contacted&amp;email=new%40example.com" in body


def test_an_unknown_pool_or_stage_adds_nobody(env: Env, session: str) -> None:
    token = csrf(env, session)
    response = post_form(env, "/ui/candidates", {"csrf": token, **NEW, "pool": "no-such-pool"}, session)
    assert response.status_code == 404
    pool = json_post(env, "/v1/pools", {"name": "P"}, env.auth("recruiter")).json_body
    bad = post_form(env, "/ui/candidates", {"csrf": token, **NEW, "pool": pool["id"], "stage": "!!"}, session)
    assert bad.status_code == 422 and 'id="e-stage"' in bad.body.decode()
    assert candidate_by_email(env, "nia@example.com") is None


def test_without_the_form_token_nothing_is_added(env: Env, session: str) -> None:
    assert post_form(env, "/ui/candidates", NEW, session).status_code == 403
    assert candidate_by_email(env, "nia@example.com") is None


def test_the_timeline_says_what_changed_and_who_did_it(env: Env, session: str) -> None:
    post_form(env, "/ui/candidates", {"csrf": csrf(env, session), **NEW, "location": "Berlin"}, session)
    made = candidate_by_email(env, "nia@example.com")
    assert made is not None
    patched = env.client.http.request(
        "PATCH",
        f"/v1/candidates/{made['id']}",
        body=f'{{"version": {made["version"]}, "location": "Munich", "tags": ["rust"]}}'.encode(),
        headers={"Content-Type": "application/json", **env.auth("admin")},
    )
    assert patched.status_code == 200, patched.body
    body = get(env, f"/ui/candidates/{made['id']}", session).body.decode()
    timeline = body[body.index('id="timeline"') :]
    assert "Added (source: recruiter)" in timeline and "by recruiter@example.com" in timeline
    assert "location: “Berlin” → “Munich”" in timeline and "tags: nothing → rust" in timeline
    assert "by admin@example.com" in timeline
    assert "user:" not in timeline


def test_only_an_admin_sees_and_may_erase_and_must_confirm(env: Env, session: str) -> None:
    made = json_post(env, "/v1/candidates", NEW, env.auth("recruiter")).json_body
    profile = get(env, f"/ui/candidates/{made['id']}", session).body.decode()
    assert "Erase this person" not in profile
    token = csrf_of(profile.encode())
    url = f"/ui/candidates/{made['id']}/erase"
    assert post_form(env, url, {"csrf": token, "confirm": NEW["email"]}, session).status_code == 403
    admin = f"crm_session={cookie_value(header(sign_in(env, 'admin@example.com'), 'set-cookie'))}"
    page = get(env, f"/ui/candidates/{made['id']}", admin).body.decode()
    assert "Erase this person" in page and "Type their email, nia@example.com, to confirm" in page
    admin_token = csrf_of(page.encode())
    wrong = post_form(env, url, {"csrf": admin_token, "confirm": "someone@else.org"}, admin)
    assert wrong.status_code == 422 and "nothing was erased" in wrong.body.decode()
    assert candidate_by_email(env, NEW["email"]) is not None
    erased = post_form(env, url, {"csrf": admin_token, "confirm": "NIA@example.com"}, admin)
    assert erased.status_code == 303 and header(erased, "location") == "/ui/candidates?done=erased"
    assert env.client.http.get(f"/v1/candidates/{made['id']}", headers=env.auth("admin")).status_code == 404
    assert "The person is erased" in get(env, "/ui/candidates?done=erased", admin).body.decode()
