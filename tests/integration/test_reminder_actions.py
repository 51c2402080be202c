"""Acting on reminders: complete (it leaves your list and never emails), snooze (it is due again
later and emails again then), delete; only the owner or an admin may; in the API and the UI."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from crm.platform import clock
from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_engagement import HOUR, settle, tick
from tests.support.engagement import QueueDriver, sent_messages
from tests.support.stack import create_user


def at(delta: timedelta) -> str:
    return (clock.now() + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_reminder(
    env: Env, cid: str, due: str, note: str = "Call back", who: str = "recruiter"
) -> dict[str, Any]:
    response = json_post(
        env, "/v1/reminders", {"candidate_id": cid, "due_at": due, "note": note}, env.auth(who)
    )
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def patch(env: Env, r: dict[str, Any], body: Any, who: str = "recruiter") -> Any:
    return env.client.http.request(
        "PATCH",
        f"/v1/candidates/{r['candidate_id']}/reminders/{r['id']}",
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **env.auth(who)},
    )


def delete(env: Env, r: dict[str, Any], who: str = "recruiter") -> Any:
    return env.client.http.request(
        "DELETE", f"/v1/candidates/{r['candidate_id']}/reminders/{r['id']}", headers=env.auth(who)
    )


def mine(env: Env, query: str = "") -> list[dict[str, Any]]:
    return list(
        env.client.http.get(f"/v1/reminders{query}", headers=env.auth("recruiter")).json_body["items"]
    )


def test_a_done_reminder_leaves_the_list_and_never_emails(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="done")
    r = new_reminder(env, cid, at(timedelta(hours=1)))
    done = patch(env, r, {"done": True})
    assert done.status_code == 200, done.body
    assert done.json_body["state"] == "done" and done.json_body["completed_at"]
    assert patch(env, r, {"done": True}).status_code == 200  # again: the same answer
    assert mine(env) == []
    on_profile = env.client.http.get(f"/v1/candidates/{cid}/reminders", headers=env.auth("recruiter"))
    assert [x["state"] for x in on_profile.json_body["items"]] == ["done"]
    clock.advance(2 * HOUR)
    tick()
    settle(env, driver)
    assert sent_messages() == []
    # A done reminder cannot be snoozed or reworded: set a new one.
    assert patch(env, r, {"due_at": at(timedelta(days=1))}).status_code == 409
    assert patch(env, r, {"note": "Other"}).status_code == 409


def test_a_snoozed_reminder_is_due_again_later_and_emails_again(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="snooze")
    r = new_reminder(env, cid, at(timedelta(minutes=30)))
    clock.advance(HOUR)
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 1
    assert [x["state"] for x in mine(env, "?due=true")] == ["notified"]
    later = at(timedelta(days=1))
    snoozed = patch(env, r, {"due_at": later})
    assert snoozed.status_code == 200, snoozed.body
    assert snoozed.json_body["state"] == "pending" and snoozed.json_body["due_at"].startswith(later[:19])
    assert snoozed.json_body["due"] is False and mine(env, "?due=true") == []
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 1  # not before its new time
    clock.advance(25 * HOUR)
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 2 and str(sent_messages()[1]["To"]) == "recruiter@example.com"
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 2  # once per time it falls due


def test_snoozing_after_the_email_was_queued_sends_it_at_the_new_time_only(
    env: Env, driver: QueueDriver
) -> None:
    (cid,) = make_candidates(env, 1, tag="race")
    r = new_reminder(env, cid, at(timedelta(minutes=5)))
    clock.advance(10 * 60)
    tick()  # the email is queued, not yet sent
    assert patch(env, r, {"due_at": at(timedelta(hours=2))}).status_code == 200
    settle(env, driver)
    assert sent_messages() == []  # the queued job names the old time: nothing is sent
    clock.advance(3 * HOUR)
    tick()
    settle(env, driver)
    assert len(sent_messages()) == 1


def test_delete_removes_it_for_good(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="del")
    r = new_reminder(env, cid, at(timedelta(hours=1)))
    assert delete(env, r).status_code == 204
    assert delete(env, r).status_code == 404
    assert mine(env) == []
    assert env.client.http.get(
        f"/v1/candidates/{cid}/reminders", headers=env.auth("recruiter")
    ).json_body == {"items": []}
    clock.advance(2 * HOUR)
    tick()
    settle(env, driver)
    assert sent_messages() == []


def test_only_the_owner_or_an_admin_may_change_a_reminder(env: Env, local_clock: None) -> None:
    (cid,) = make_candidates(env, 1, tag="owner")
    r = new_reminder(env, cid, at(timedelta(hours=1)))
    create_user(env.stack, "other@example.com", PASSWORD, "recruiter")
    login = json_post(env, "/auth/login", {"username": "other@example.com", "password": PASSWORD})
    env.tokens["other"] = login.json_body["id_token"]
    assert patch(env, r, {"done": True}, who="other").status_code == 403
    assert delete(env, r, who="other").status_code == 403
    assert mine(env)[0]["state"] == "pending"
    assert patch(env, r, {"note": "Admin's words"}, who="admin").json_body["note"] == "Admin's words"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"done": False},
        {"done": True, "due_at": "2030-01-01T00:00:00Z"},
        {"due_at": "tomorrow"},
        {"due_at": None},
        {"note": ""},
        {"owner": "x@example.com"},
    ],
)
def test_a_bad_change_is_a_422_and_changes_nothing(env: Env, local_clock: None, body: Any) -> None:
    (cid,) = make_candidates(env, 1, tag="bad")
    r = new_reminder(env, cid, at(timedelta(hours=1)))
    response = patch(env, r, body)
    assert response.status_code == 422, response.body
    assert response.json_body["errors"]
    assert mine(env)[0] == {**r, "due": False}


def test_unknown_reminders_are_404(env: Env, local_clock: None) -> None:
    (cid,) = make_candidates(env, 1, tag="unknown")
    ghost = {"candidate_id": cid, "id": "nope"}
    assert patch(env, ghost, {"done": True}).status_code == 404
    assert delete(env, ghost).status_code == 404


# ------------------------------------------------------------------------------- the UI


def ui_session(env: Env) -> str:
    from tests.integration.test_ui import cookie_value, header, sign_in

    response = sign_in(env)
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def test_the_pages_complete_snooze_and_delete(env: Env, local_clock: None) -> None:
    from tests.integration.test_ui import csrf_of, get, header, post_form

    cookie = ui_session(env)
    (cid,) = make_candidates(env, 1, tag="ui")
    first = new_reminder(env, cid, at(timedelta(minutes=-5)), note="Send the offer")
    second = new_reminder(env, cid, at(timedelta(hours=3)), note="Ask about notice period")
    page = get(env, "/ui/reminders", cookie).body.decode()
    assert page.count(">Done<") == 2 and page.count(">Snooze<") == 2 and page.count(">Delete<") == 2
    csrf = csrf_of(page.encode())
    base = f"/ui/candidates/{cid}/reminders"
    done = post_form(
        env, f"{base}/{first['id']}", {"csrf": csrf, "action": "done", "back": "reminders"}, cookie
    )
    assert done.status_code == 303 and header(done, "location") == "/ui/reminders?done=reminder-done"
    assert "The reminder is done." in get(env, "/ui/reminders?done=reminder-done", cookie).body.decode()
    before = clock.now()
    snooze = post_form(
        env,
        f"{base}/{second['id']}",
        {"csrf": csrf, "action": "snooze", "snooze": "1w", "back": "profile"},
        cookie,
    )
    assert snooze.status_code == 303 and header(snooze, "location").endswith(
        "?done=reminder-snoozed#reminders"
    )
    (left,) = mine(env)
    assert left["id"] == second["id"] and left["due_at"] >= (before + timedelta(days=7)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    profile = get(env, f"/ui/candidates/{cid}?done=reminder-snoozed", cookie).body.decode()
    assert "The reminder is snoozed." in profile and "Done" in profile
    bad = post_form(env, f"{base}/{second['id']}", {"csrf": csrf, "action": "snooze", "snooze": "1y"}, cookie)
    assert bad.status_code == 422 and "nothing was changed" in bad.body.decode()
    assert (
        post_form(env, f"{base}/{second['id']}", {"action": "delete"}, cookie).status_code == 403
    )  # no csrf
    gone = post_form(env, f"{base}/{second['id']}", {"csrf": csrf, "action": "delete"}, cookie)
    assert gone.status_code == 303 and mine(env) == []
    # Deleting again (a double click) lands on the same page.
    assert (
        post_form(env, f"{base}/{second['id']}", {"csrf": csrf, "action": "delete"}, cookie).status_code
        == 303
    )
    assert re.search(r"No upcoming reminders", get(env, "/ui/reminders", cookie).body.decode())
