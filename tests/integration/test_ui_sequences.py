"""The recruiter UI's sequence pages (create with steps, enrol, progress) and reminders page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from crm.platform import clock
from crm.platform.ids import iso
from crm.reminders.models import ReminderCreate
from crm.reminders.repository import ReminderRepository
from crm.sequences.repository import SequenceRepository
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import TEMPLATE, make_candidates
from tests.integration.test_engagement import tick
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.support import engagement
from tests.support.engagement import QueueDriver

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def session(env: Env) -> str:
    """The demo recruiter's session cookie (as ``tests.integration.test_ui``'s fixture)."""
    response = sign_in(env)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def template_id(env: Env, name: str = "Nurture one") -> str:
    response = json_post(env, "/v1/templates", {**TEMPLATE, "name": name}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return str(response.json_body["id"])


def sequences_json(env: Env) -> list[dict[str, Any]]:
    return list(env.client.http.get("/v1/sequences", headers=env.auth("recruiter")).json_body["items"])


def form_of(env: Env, session: str, path: str = "/ui/sequences/new") -> str:
    response = get(env, path, session)
    assert response.status_code == 200, response.body
    return csrf_of(response.body)


def create_form(csrf: str, name: str, steps: list[tuple[str, str, str]], **extra: str) -> dict[str, str]:
    fields = {"csrf": csrf, "name": name, "stop_on": "applied", **extra}
    for i, (template, delay, unit) in enumerate(steps):
        fields |= {f"step-{i}-template": template, f"step-{i}-delay": delay, f"step-{i}-unit": unit}
    return fields


def error_of(body: str, field_id: str) -> str:
    """The error text a field points at with aria-describedby (and that it is marked invalid)."""
    tag = re.search(rf'<(?:input|select|textarea) id="{field_id}"[^>]*>', body)
    assert tag, f"no field {field_id}"
    assert 'aria-invalid="true"' in tag.group(0), f"{field_id} is not marked invalid"
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    assert described
    for error_id in described.group(1).split():
        error = re.search(rf'<p class="error" id="{error_id}">([^<]*)</p>', body)
        if error:
            return html.unescape(error.group(1))
    raise AssertionError(f"no error paragraph for {field_id}")


def make_sequence(env: Env, session: str, steps: int = 2) -> str:
    csrf = form_of(env, session)
    rows = [(template_id(env, f"T{i}"), str(i), "days") for i in range(steps)]
    response = post_form(env, "/ui/sequences", create_form(csrf, "Warm-up", rows), session)
    assert response.status_code == 303, response.body
    return header(response, "location").split("?")[0].rsplit("/", 1)[1]


# ------------------------------------------------------------------------------- create


def test_create_a_two_step_sequence_with_the_form(env: Env, session: str) -> None:
    first, second = template_id(env, "Hello"), template_id(env, "Follow-up")
    new = get(env, "/ui/sequences/new", session)
    assert new.status_code == 200
    page = new.body.decode()
    assert page.count('name="step-') >= 15  # 5 rows of template, wait and unit without JavaScript
    assert 'id="stop-unsubscribed" type="checkbox" checked disabled' in page
    assert '<label for="s-name">' in page and '<label for="step-1-template">' in page
    fields = create_form(csrf_of(new.body), "Autumn nurture", [(first, "0", "days"), ("", "", "days")])
    fields |= {"step-2-template": second, "step-2-delay": "36", "step-2-unit": "hours"}
    response = post_form(env, "/ui/sequences", fields, session)
    assert response.status_code == 303, response.body
    location = header(response, "location")
    assert re.fullmatch(r"/ui/sequences/[\w-]+\?done=created", location)
    (stored,) = sequences_json(env)
    assert stored["name"] == "Autumn nurture"
    assert stored["steps"] == [
        {"template_id": first, "delay_days": 0.0},
        {"template_id": second, "delay_days": 1.5},
    ]
    assert stored["stop_on"] == ["applied", "erased", "unsubscribed"]
    shown = get(env, location, session).body.decode()
    assert "The sequence is saved." in shown
    assert "Hello" in shown and "Follow-up" in shown and "36 hours after step 1" in shown
    listed = get(env, "/ui/sequences", session).body.decode()
    assert "Autumn nurture" in listed and f'href="/ui/sequences/{stored["id"]}"' in listed


def test_without_applied_only_the_always_rules_stop(env: Env, session: str) -> None:
    csrf = form_of(env, session)
    fields = create_form(csrf, "No stop", [(template_id(env), "1", "days")])
    del fields["stop_on"]
    assert post_form(env, "/ui/sequences", fields, session).status_code == 303
    assert sequences_json(env)[0]["stop_on"] == ["erased", "unsubscribed"]


def test_no_steps_is_a_422_keeping_what_was_typed(env: Env, session: str) -> None:
    csrf = form_of(env, session)
    response = post_form(env, "/ui/sequences", create_form(csrf, "Kept name", []), session)
    assert response.status_code == 422
    body = response.body.decode()
    assert 'value="Kept name"' in body
    assert 'id="e-steps"' in body and "Add at least one step" in body
    assert sequences_json(env) == []


def test_unknown_template_and_negative_delay_are_marked_on_their_row(env: Env, session: str) -> None:
    good = template_id(env, "Good one")
    csrf = form_of(env, session)
    rows = [(good, "1", "days"), ("", "", "days"), ("no-such-template", "2", "days"), (good, "-3", "days")]
    response = post_form(env, "/ui/sequences", create_form(csrf, "Bad steps", rows), session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    # The negative wait is caught by the model first: the fourth row's wait is marked, values kept.
    assert "Step 4: Enter a wait" in error_of(body, "step-3-delay")
    assert re.search(r'id="step-3-delay" name="step-3-delay" [^>]*value="-3"', body)
    assert 'value="Bad steps"' in body
    # With the wait fixed, the unknown template is named on the third row (the API's steps.1).
    rows[3] = (good, "3", "days")
    response = post_form(env, "/ui/sequences", create_form(csrf, "Bad steps", rows), session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    assert "Choose a template that exists." in error_of(body, "step-2-template")
    assert 'value="no-such-template" selected' in body
    assert f'value="{good}" selected' in body
    assert sequences_json(env) == []


def test_bad_name_stop_rule_and_wait_are_422(env: Env, session: str) -> None:
    good = template_id(env)
    csrf = form_of(env, session)
    cases = [
        (create_form(csrf, "", [(good, "1", "days")]), "s-name"),
        (create_form(csrf, "x", [(good, "soon", "days")]), "step-0-delay"),
        (create_form(csrf, "x", [(good, "400", "days")]), "step-0-delay"),
        (create_form(csrf, "x", [(good, "1", "fortnights")]), "step-0-delay"),
        (create_form(csrf, "x", [(good, "", "days")]), "step-0-delay"),
    ]
    for fields, field_id in cases:
        response = post_form(env, "/ui/sequences", fields, session)
        assert response.status_code == 422, (fields, response.body)
        error_of(response.body.decode(), field_id)
    bad_rule = post_form(
        env, "/ui/sequences", create_form(csrf, "x", [(good, "1", "days")], stop_on="never"), session
    )
    assert bad_rule.status_code == 422 and 'id="e-stop_on"' in bad_rule.body.decode()
    assert sequences_json(env) == []


def test_hostile_names_are_text(env: Env, session: str) -> None:
    template = template_id(env, HOSTILE)
    csrf = form_of(env, session)
    new = get(env, "/ui/sequences/new", session).body.decode()
    assert HOSTILE not in new and html.escape(HOSTILE, quote=False) in new
    response = post_form(env, "/ui/sequences", create_form(csrf, HOSTILE, [(template, "1", "days")]), session)
    assert response.status_code == 303
    for path in ("/ui/sequences", header(response, "location")):
        body = get(env, path, session).body.decode()
        assert HOSTILE not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    invalid = post_form(env, "/ui/sequences", create_form(csrf, HOSTILE, [("", "-1", "days")]), session)
    assert invalid.status_code == 422 and HOSTILE not in invalid.body.decode()


def test_csrf_is_required_and_nothing_changes(env: Env, session: str) -> None:
    template = template_id(env)
    for csrf in ("", "forged"):
        response = post_form(
            env, "/ui/sequences", create_form(csrf, "Sneaky", [(template, "1", "days")]), session
        )
        assert response.status_code == 403
    assert sequences_json(env) == []
    sid = make_sequence(env, session, steps=1)
    make_candidates(env, 1, tag="csrf")
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"emails": "c0-csrf@example.com"}, session)
    assert response.status_code == 403
    progress = env.client.http.get(f"/v1/sequences/{sid}", headers=env.auth("recruiter")).json_body
    assert progress["enrollments"] == {}


def test_unknown_sequence_is_a_404_page(env: Env, session: str) -> None:
    assert get(env, "/ui/sequences/nope", session).status_code == 404
    csrf = form_of(env, session)
    response = post_form(env, "/ui/sequences/nope/enrollments", {"csrf": csrf, "pool": "x"}, session)
    assert response.status_code == 404


# ------------------------------------------------------------------------------- enrol and progress


def test_enrol_a_pool_and_see_progress(env: Env, session: str, driver: QueueDriver) -> None:
    ids = make_candidates(env, 3, tag="pooled")
    pool = json_post(env, "/v1/pools", {"name": "Warm <b>leads</b>"}, env.auth("recruiter")).json_body
    for cid in ids[:2]:
        added = json_post(
            env, f"/v1/pools/{pool['id']}/members", {"candidate_id": cid}, env.auth("recruiter")
        )
        assert added.status_code == 201
    env.pump.drain()
    sid = make_sequence(env, session, steps=2)
    page = get(env, f"/ui/sequences/{sid}", session)
    body = page.body.decode()
    assert "Nobody is enrolled yet." in body
    assert f'<option value="{pool["id"]}">Warm &lt;b&gt;leads&lt;/b&gt;</option>' in body
    csrf = csrf_of(page.body)
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "pool": pool["id"]}, session)
    assert response.status_code == 303, response.body
    location = header(response, "location")
    shown = get(env, location, session).body.decode()
    assert "2 candidates were enrolled." in shown
    assert "Person0 Test" in shown and "Person1 Test" in shown and "Person2 Test" not in shown
    assert shown.count('class="state state-active">active') == 2
    assert "0 of 2 sent; step 1 due" in shown
    # Enrolling again changes nothing, and says so.
    again = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "pool": pool["id"]}, session)
    notice = get(env, header(again, "location"), session).body.decode()
    assert "0 candidates were enrolled. 2 were already enrolled" in notice
    # The first step (no wait) goes out; the progress shows step 2 waiting.
    tick()
    engagement.settle(env.pump, driver)
    later = get(env, f"/ui/sequences/{sid}", session).body.decode()
    assert later.count("1 of 2 sent; step 2 due") == 2


def test_enrol_by_email_and_unknown_emails(env: Env, session: str) -> None:
    make_candidates(env, 2, tag="mail")
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    typed = "c0-mail@example.com\nnobody@example.com\n<b>x</b>@example.com"
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": typed}, session)
    assert response.status_code == 422
    body = response.body.decode()
    message = error_of(body, "e-emails-input")
    assert "nobody@example.com" in message and "<b>x</b>@example.com" in message
    assert "c0-mail@example.com" not in message and "Nobody was enrolled." in message
    assert "&lt;b&gt;x&lt;/b&gt;@example.com" in body and "<b>x</b>" not in body
    assert "c0-mail@example.com\nnobody@example.com" in html.unescape(body)  # kept in the textarea
    progress = env.client.http.get(f"/v1/sequences/{sid}", headers=env.auth("recruiter")).json_body
    assert progress["enrollments"] == {}
    good = "C0-Mail@example.com\nc1-mail@example.com, c0-mail@example.com"
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": good}, session)
    assert response.status_code == 303
    shown = get(env, header(response, "location"), session).body.decode()
    assert "2 candidates were enrolled." in shown and "c1-mail@example.com" in shown


def test_enrol_form_needs_one_of_pool_or_emails(env: Env, session: str) -> None:
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    for fields, field_id in (
        ({}, "e-pool-select"),
        ({"pool": "p", "emails": "a@example.com"}, "e-pool-select"),
        ({"pool": "no-such-pool"}, "e-pool-select"),
    ):
        response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, **fields}, session)
        assert response.status_code == 422, (fields, response.body)
        error_of(response.body.decode(), field_id)


# ------------------------------------------------------------------------------- reminders


def test_reminders_page_shows_only_mine_due_first(env: Env, session: str) -> None:
    (cid,) = make_candidates(env, 1, tag="remind")
    now = clock.now()
    repository = ReminderRepository()
    for note, hours, owner in (
        ("Later call", 5, "recruiter@example.com"),
        (f"Overdue {HOSTILE}", -2, "recruiter@example.com"),
        ("Admin's own", -1, "admin@example.com"),
    ):
        repository.create(
            ReminderCreate(candidate_id=cid, due_at=now + timedelta(hours=hours), note=note), owner=owner
        )
    response = get(env, "/ui/reminders", session)
    assert response.status_code == 200
    body = response.body.decode()
    assert "Admin&#39;s own" not in body and "Admin's own" not in body
    assert HOSTILE not in body
    due_at, upcoming_at = body.index('id="due"'), body.index('id="upcoming"')
    overdue, later = body.index("Overdue &lt;script&gt;"), body.index("Later call")
    assert due_at < overdue < upcoming_at < later
    assert re.search(
        r'<li class="due">\s*<div class="what">\s*<span class="badge badge-warn">Due</span> '
        r'<a href="/ui/candidates/' + cid,
        body,
    )
    assert "Person0 Test" in body
    assert body.count('<li class="due">') == 1


def test_progress_shows_completed_and_stopped_with_the_reason(env: Env, session: str) -> None:
    ids = make_candidates(env, 3, tag="states")
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    emails = "\n".join(f"c{i}-states@example.com" for i in range(3))
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": emails}, session)
    assert response.status_code == 303
    repository = SequenceRepository()
    assert repository.advance(ids[0], sid, step=0, next_due_at=None)
    assert repository.stop(ids[1], sid, reason="applied", now=iso(clock.now()))
    body = get(env, f"/ui/sequences/{sid}", session).body.decode()
    assert "Active: <strong>1</strong>" in body and "Completed: <strong>1</strong>" in body
    assert "Stopped: <strong>1</strong>" in body
    assert "its one step sent" in body
    assert "stopped after 0 of 1: they applied to a job" in body
    assert "0 of 1 sent; step 1 due" in body


# ------------------------------------------------------------------------------- pause, take out, report


def test_list_shows_enrolment_counts_and_paused(env: Env, session: str) -> None:
    ids = make_candidates(env, 3, tag="listed")
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    emails = "\n".join(f"c{i}-listed@example.com" for i in range(3))
    post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": emails}, session)
    SequenceRepository().stop(ids[0], sid, reason="applied", now=iso(clock.now()))
    body = get(env, "/ui/sequences", session).body.decode()
    assert '<th scope="col">Enrolled</th><th scope="col">Active</th>' in body
    row = body[body.index(f'href="/ui/sequences/{sid}"') :].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "3", "2", "0", "1"]  # steps, then the counts
    assert "Paused" not in row
    response = post_form(
        env, f"/ui/sequences/{sid}/status", {"csrf": csrf, "version": "1", "status": "paused"}, session
    )
    assert response.status_code == 303
    row = (
        get(env, "/ui/sequences", session)
        .body.decode()
        .split(f'href="/ui/sequences/{sid}"')[1]
        .split("</tr>")[0]
    )
    assert '<span class="badge badge-warn">Paused</span>' in row


def test_pause_and_resume_with_the_form(env: Env, session: str) -> None:
    sid = make_sequence(env, session, steps=1)
    page = get(env, f"/ui/sequences/{sid}", session).body.decode()
    assert 'name="status" value="paused"' in page and ">Pause</button>" in page
    csrf = csrf_of(page.encode())
    path = f"/ui/sequences/{sid}/status"
    response = post_form(env, path, {"csrf": csrf, "version": "1", "status": "paused"}, session)
    assert response.status_code == 303
    assert header(response, "location") == f"/ui/sequences/{sid}?done=paused"
    shown = get(env, header(response, "location"), session).body.decode()
    assert "The sequence is paused" in shown and ">Resume</button>" in shown
    assert 'name="version" value="2"' in shown
    # A page opened before the pause (version 1) is out of date: nothing changes, and it says so.
    stale = post_form(env, path, {"csrf": csrf, "version": "1", "status": "active"}, session)
    assert header(stale, "location") == f"/ui/sequences/{sid}?done=stale"
    assert "Someone else changed this sequence" in get(env, header(stale, "location"), session).body.decode()
    assert sequences_json(env)[0]["status"] == "paused"
    resumed = post_form(env, path, {"csrf": csrf, "version": "2", "status": "active"}, session)
    assert header(resumed, "location") == f"/ui/sequences/{sid}?done=resumed"
    assert sequences_json(env)[0]["status"] == "active"
    for bad in ({"version": "x", "status": "paused"}, {"version": "3", "status": "stopped"}, {}):
        response = post_form(env, path, {"csrf": csrf, **bad}, session)
        assert response.status_code == 422, (bad, response.body)
        assert "out of date" in response.body.decode()
    assert post_form(env, path, {"version": "3", "status": "paused"}, session).status_code == 403
    assert (
        post_form(env, "/ui/sequences/nope/status", {"csrf": csrf, "version": "1"}, session).status_code
        == 404
    )
    assert sequences_json(env)[0]["status"] == "active"


def test_take_someone_out_twice_and_see_it_on_their_timeline(env: Env, session: str) -> None:
    (cid,) = make_candidates(env, 1, tag="out")
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    post_form(
        env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": "c0-out@example.com"}, session
    )
    page = get(env, f"/ui/sequences/{sid}", session).body.decode()
    action = f"/ui/sequences/{sid}/enrollments/{cid}/remove"
    assert (
        f'action="{action}"' in page and 'Take out<span class="visually-hidden"> Person0 Test</span>' in page
    )
    response = post_form(env, action, {"csrf": csrf}, session)
    assert response.status_code == 303
    assert header(response, "location") == f"/ui/sequences/{sid}?done=removed#progress"
    shown = get(env, f"/ui/sequences/{sid}?done=removed", session).body.decode()
    assert "The candidate is out of the sequence" in shown and "Nobody is enrolled yet." in shown
    again = post_form(env, action, {"csrf": csrf}, session)
    assert header(again, "location") == f"/ui/sequences/{sid}?done=not-enrolled#progress"
    profile = get(env, f"/ui/candidates/{cid}", session).body.decode()
    assert "Taken out of the sequence “Warm-up” after 0 steps sent" in html.unescape(profile)
    assert post_form(env, action, {}, session).status_code == 403
    assert (
        post_form(env, f"/ui/sequences/nope/enrollments/{cid}/remove", {"csrf": csrf}, session).status_code
        == 404
    )


def test_the_enrol_form_reports_who_was_skipped_and_why(env: Env, session: str) -> None:
    from crm.mailing.suppression import SuppressionList

    make_candidates(env, 2, tag="rep")
    make_candidates(env, 1, tag="rep", consent=False, prefix="n")
    SuppressionList().suppress("c1-rep@example.com", "complained", source="test")
    sid = make_sequence(env, session, steps=1)
    csrf = form_of(env, session, f"/ui/sequences/{sid}")
    emails = "c0-rep@example.com\nc1-rep@example.com\nn0-rep@example.com"
    response = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": emails}, session)
    assert response.status_code == 303
    shown = html.unescape(get(env, header(response, "location"), session).body.decode())
    assert "1 candidate was enrolled. 2 were skipped because we may not email them:" in shown
    assert "Person1 Test</a> (c1-rep@example.com): their address is suppressed" in shown
    assert "Person0 Test</a> (n0-rep@example.com): they have not agreed to marketing email" in shown
    again = post_form(env, f"/ui/sequences/{sid}/enrollments", {"csrf": csrf, "emails": emails}, session)
    shown = html.unescape(get(env, header(again, "location"), session).body.decode())
    assert (
        "0 candidates were enrolled. 1 was already enrolled (nothing changed for them). 2 were skipped"
        in shown
    )
    # A tampered notice names nobody it should not.
    odd = get(
        env, f"/ui/sequences/{sid}?done=enrolled&enrolled=1&no_consent=1&skipped=no_consent:<b>", session
    )
    assert odd.status_code == 200 and "<b>" not in odd.body.decode().split("<main")[1]
