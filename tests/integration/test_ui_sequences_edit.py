"""The recruiter UI's form to edit a sequence's name and steps (``/ui/sequences/{id}/edit``): it
saves through ``PATCH /v1/sequences/{id}``'s model and service, so it gets the same validation and
the same 409 on a stale version."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote

from crm.platform import clock
from crm.platform.ids import iso
from crm.sequences.repository import SequenceRepository
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.integration.test_ui_sequences import HOSTILE, error_of, session, template_id

__all__ = ["session"]  # the signed-in recruiter's cookie, a fixture


def new_sequence(env: Env, steps: list[tuple[str, float]], name: str = "Warm-up") -> dict[str, Any]:
    body = {"name": name, "steps": [{"template_id": t, "delay_days": d} for t, d in steps]}
    response = json_post(env, "/v1/sequences", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def api_sequence(env: Env, sid: str) -> dict[str, Any]:
    response = env.client.http.get(f"/v1/sequences/{sid}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def edit_form(env: Env, session: str, sid: str) -> str:
    response = get(env, f"/ui/sequences/{sid}/edit", session)
    assert response.status_code == 200, response.body
    return str(response.body.decode())


def fields_of(body: str) -> dict[str, str]:
    """What a browser would send for the form as shown: hidden and typed values, chosen options and
    ticked boxes (the sign-out form's own csrf comes first, with the same value)."""
    form = body[body.index('action="/ui/sequences/') :]
    form = form[: form.index("</form>")]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        fields[name] = html.unescape(chosen.group(1)) if chosen else ""
    return fields


def selected(body: str, select_id: str) -> str:
    match = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', body, re.S)
    assert match, f"no select {select_id}"
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return chosen.group(1) if chosen else ""


def value_of(body: str, input_id: str) -> str:
    match = re.search(rf'<input id="{input_id}" [^>]*value="([^"]*)"', body)
    assert match, f"no input {input_id}"
    return html.unescape(match.group(1))


# ------------------------------------------------------------------------------- the form


def test_the_sequence_page_links_to_a_prefilled_form(env: Env, session: str) -> None:
    first, second, third = (template_id(env, n) for n in ("Hello", "Follow-up", "Last call"))
    sequence = new_sequence(env, [(first, 0), (second, 1.5), (third, 0.1)])
    sid = sequence["id"]
    page = get(env, f"/ui/sequences/{sid}", session).body.decode()
    assert f'<a href="/ui/sequences/{sid}/edit">Edit steps</a>' in page
    body = edit_form(env, session, sid)
    assert f'action="/ui/sequences/{sid}/edit"' in body
    assert '<input type="hidden" name="version" value="1">' in body
    assert value_of(body, "s-name") == "Warm-up"
    assert [selected(body, f"step-{i}-template") for i in range(3)] == [first, second, third]
    # Waits as typed into the new-sequence form: whole days, else whole hours, else days.
    assert [value_of(body, f"step-{i}-delay") for i in range(3)] == ["0", "36", "0.1"]
    assert [selected(body, f"step-{i}-unit") for i in range(3)] == ["days", "hours", "days"]
    # Three empty rows to add steps with, and a remove box on each step (not on the empty rows).
    assert [value_of(body, f"step-{i}-delay") for i in range(3, 6)] == ["", "", ""]
    assert selected(body, "step-3-template") == "" and 'id="step-6-template"' not in body
    assert all(f'id="step-{i}-remove"' in body for i in range(3))
    assert 'id="step-3-remove"' not in body
    assert '<label for="step-0-remove">Remove step 1</label>' in body
    # What happens to people already in it, as decision 30 says.
    text = html.unescape(body)
    assert "Nobody is waiting for a step now: people you enrol from now on get the saved steps." in text
    assert "someone who has been sent 2 steps is sent step 3 of the saved list next" in text
    assert "The step someone is waiting for keeps the time it is due" in text
    assert "has completed the sequence straight away" in text
    # Saving it as it is changes nothing but the version.
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields_of(body), session)
    assert response.status_code == 303, response.body
    after = api_sequence(env, sid)
    assert (after["version"], after["name"], after["steps"]) == (2, "Warm-up", sequence["steps"])


def test_unknown_sequence_is_a_404_page(env: Env, session: str) -> None:
    assert get(env, "/ui/sequences/nope/edit", session).status_code == 404
    csrf = csrf_of(get(env, "/ui/sequences/new", session).body)
    response = post_form(env, "/ui/sequences/nope/edit", {"csrf": csrf, "version": "1"}, session)
    assert response.status_code == 404


# ------------------------------------------------------------------------------- saving


def test_a_saved_edit_shows_on_the_page_and_through_the_api(env: Env, session: str) -> None:
    first, second = template_id(env, "Hello"), template_id(env, "Follow-up")
    sid = new_sequence(env, [(first, 0), (second, 2)])["id"]
    fields = fields_of(edit_form(env, session, sid))
    fields |= {"name": "Autumn warm-up", "step-0-template": second, "step-1-template": first}
    fields |= {"step-1-delay": "12", "step-1-unit": "hours"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 303, response.body
    assert header(response, "location") == f"/ui/sequences/{sid}?done=saved"
    page = get(env, header(response, "location"), session).body.decode()
    assert '<div class="notice" role="status"><p>Steps saved.' in page
    assert "<h1>Autumn warm-up</h1>" in page and "12 hours after step 1" in page
    steps = page[page.index('id="steps"') : page.index("</table>")]
    assert steps.index("Follow-up") < steps.index("Hello")
    stored = api_sequence(env, sid)
    assert stored["name"] == "Autumn warm-up" and stored["version"] == 2
    assert stored["steps"] == [
        {"template_id": second, "delay_days": 0.0},
        {"template_id": first, "delay_days": 0.5},
    ]


def test_remove_a_step_with_its_box(env: Env, session: str) -> None:
    ids = [template_id(env, f"T{i}") for i in range(3)]
    sid = new_sequence(env, [(ids[0], 0), (ids[1], 1), (ids[2], 2)])["id"]
    fields = fields_of(edit_form(env, session, sid)) | {"step-1-remove": "1"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 303, response.body
    assert api_sequence(env, sid)["steps"] == [
        {"template_id": ids[0], "delay_days": 0.0},
        {"template_id": ids[2], "delay_days": 2.0},
    ]
    # Choosing "no step" on a row leaves it out too.
    fields = fields_of(edit_form(env, session, sid)) | {"step-0-template": "", "step-0-delay": ""}
    assert post_form(env, f"/ui/sequences/{sid}/edit", fields, session).status_code == 303
    assert api_sequence(env, sid)["steps"] == [{"template_id": ids[2], "delay_days": 2.0}]


def test_add_steps_in_the_empty_rows(env: Env, session: str) -> None:
    first, added = template_id(env, "First"), template_id(env, "Added")
    sid = new_sequence(env, [(first, 1)])["id"]
    fields = fields_of(edit_form(env, session, sid))
    fields |= {"step-1-template": added, "step-1-delay": "3", "step-1-unit": "days"}
    fields |= {"step-3-template": added, "step-3-delay": "6", "step-3-unit": "hours"}  # a gap is fine
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 303, response.body
    assert api_sequence(env, sid)["steps"] == [
        {"template_id": first, "delay_days": 1.0},
        {"template_id": added, "delay_days": 3.0},
        {"template_id": added, "delay_days": 0.25},
    ]
    # The form now has the three steps and three empty rows again.
    body = edit_form(env, session, sid)
    assert [selected(body, f"step-{i}-template") for i in range(3)] == [first, added, added]
    assert 'id="step-5-template"' in body and 'id="step-6-template"' not in body


def test_an_admin_may_edit_too(env: Env) -> None:
    response = sign_in(env, "admin@example.com")
    assert response.status_code == 303, response.body
    admin = f"crm_session={cookie_value(header(response, 'set-cookie'))}"
    sid = new_sequence(env, [(template_id(env), 1)])["id"]
    fields = fields_of(edit_form(env, admin, sid)) | {"name": "Renamed by an admin"}
    assert post_form(env, f"/ui/sequences/{sid}/edit", fields, admin).status_code == 303
    assert api_sequence(env, sid)["name"] == "Renamed by an admin"


def test_removing_steps_past_someones_place_completes_them(env: Env, session: str) -> None:
    ids = make_candidates(env, 2, tag="edited")
    sid = new_sequence(env, [(template_id(env, "One"), 0), (template_id(env, "Two"), 2)])["id"]
    enrolled = json_post(
        env, f"/v1/sequences/{sid}/enrollments", {"candidate_ids": ids}, env.auth("recruiter")
    )
    assert enrolled.status_code == 202, enrolled.body
    assert SequenceRepository().advance(ids[0], sid, step=0, next_due_at=iso(clock.now()))  # step 1 sent
    body = edit_form(env, session, sid)
    assert "2 people are waiting for a step now." in body
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields_of(body) | {"step-1-remove": "1"}, session)
    assert response.status_code == 303, response.body
    page = get(env, f"/ui/sequences/{sid}", session).body.decode()
    assert "Active: <strong>1</strong>" in page and "Completed: <strong>1</strong>" in page
    assert api_sequence(env, sid)["counts"] == {"enrolled": 2, "active": 1, "completed": 1, "stopped": 0}


# ------------------------------------------------------------------------------- refused


def test_bad_input_is_a_422_keeping_what_was_typed(env: Env, session: str) -> None:
    good, other = template_id(env, "Good"), template_id(env, "Other")
    sequence = new_sequence(env, [(good, 1), (other, 2)])
    sid = sequence["id"]
    shown = fields_of(edit_form(env, session, sid))
    # A negative wait: marked on its row; the name, the other rows and the remove boxes are kept.
    fields = shown | {"name": "Typed name", "step-1-delay": "-2", "step-0-remove": "1"}
    fields |= {"step-2-template": other, "step-2-delay": "4", "step-2-unit": "hours"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    assert "Step 2: Enter a wait" in error_of(body, "step-1-delay")
    assert "The steps were not saved: see the marked fields." in body
    assert value_of(body, "s-name") == "Typed name" and value_of(body, "step-1-delay") == "-2"
    assert 'id="step-0-remove" name="step-0-remove" value="1" type="checkbox" checked' in body
    assert (selected(body, "step-2-template"), value_of(body, "step-2-delay")) == (other, "4")
    assert selected(body, "step-2-unit") == "hours" and 'id="step-5-template"' in body
    assert '<input type="hidden" name="version" value="1">' in body
    # A wait without a template: the template is marked on its row.
    fields = shown | {"step-2-delay": "3"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    assert "Choose a template that exists." in error_of(body, "step-2-template")
    assert value_of(body, "step-2-delay") == "3"
    # A template that does not exist (the service's check), named on its row.
    response = post_form(env, f"/ui/sequences/{sid}/edit", shown | {"step-1-template": "gone"}, session)
    assert response.status_code == 422, response.body
    body = response.body.decode()
    assert "Choose a template that exists." in error_of(body, "step-1-template")
    assert 'value="gone" selected' in body
    # Every step removed, or no name.
    response = post_form(
        env, f"/ui/sequences/{sid}/edit", shown | {"step-0-remove": "1", "step-1-remove": "1"}, session
    )
    assert response.status_code == 422 and "Add at least one step" in response.body.decode()
    response = post_form(env, f"/ui/sequences/{sid}/edit", shown | {"name": ""}, session)
    assert response.status_code == 422
    error_of(response.body.decode(), "s-name")
    # A version that is no version: the page is out of date.
    for version in ("x", "", "0"):
        response = post_form(env, f"/ui/sequences/{sid}/edit", shown | {"version": version}, session)
        assert response.status_code == 422, (version, response.body)
        assert "This page is out of date" in response.body.decode()
    after = api_sequence(env, sid)
    assert (after["version"], after["name"], after["steps"]) == (1, "Warm-up", sequence["steps"])


def test_a_stale_version_is_a_409_and_changes_nothing(env: Env, session: str) -> None:
    first, second = template_id(env, "First"), template_id(env, "Second")
    sid = new_sequence(env, [(first, 1)])["id"]
    opened = fields_of(edit_form(env, session, sid))
    # Someone else saves meanwhile.
    other = env.client.http.patch(
        f"/v1/sequences/{sid}",
        body=json.dumps(
            {"version": 1, "name": "Theirs", "steps": [{"template_id": second, "delay_days": 5}]}
        ),
        headers={**env.auth("recruiter"), "Content-Type": "application/json"},
    )
    assert other.status_code == 200, other.body
    mine = opened | {"name": "Mine", "step-1-template": first, "step-1-delay": "2"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", mine, session)
    assert response.status_code == 409, response.body
    body = response.body.decode()
    assert "Someone else saved this sequence after you opened the form, so nothing was saved." in body
    assert f'<a href="/ui/sequences/{sid}/edit">Reload the form</a>' in body
    # The form shows the sequence as it is now (their version), and what I had typed beside it.
    assert '<input type="hidden" name="version" value="2">' in body
    assert value_of(body, "s-name") == "Theirs" and selected(body, "step-0-template") == second
    unsaved = body[body.index("What you had entered") : body.index("</details>")]
    assert "Name: Mine" in unsaved and "<li>First (1 day)</li><li>First (2 days)</li>" in unsaved
    stored = api_sequence(env, sid)
    assert (stored["version"], stored["name"]) == (2, "Theirs")
    assert stored["steps"] == [{"template_id": second, "delay_days": 5.0}]


def test_signed_out_goes_to_sign_in_and_nothing_changes(env: Env) -> None:
    sid = new_sequence(env, [(template_id(env), 1)])["id"]
    response = env.client.http.get(f"/ui/sequences/{sid}/edit")
    assert response.status_code == 303
    assert header(response, "location") == "/ui/login?next=" + quote(f"/ui/sequences/{sid}/edit", safe="")
    response = post_form(env, f"/ui/sequences/{sid}/edit", {"version": "1", "name": "Anonymous"})
    assert response.status_code == 303 and header(response, "location").startswith("/ui/login")
    assert api_sequence(env, sid)["name"] == "Warm-up"


def test_csrf_is_required_and_nothing_changes(env: Env, session: str) -> None:
    sid = new_sequence(env, [(template_id(env), 1)])["id"]
    fields = fields_of(edit_form(env, session, sid)) | {"name": "Sneaky"}
    for csrf in (None, "", "forged"):
        sent = {k: v for k, v in fields.items() if k != "csrf"} | ({} if csrf is None else {"csrf": csrf})
        response = post_form(env, f"/ui/sequences/{sid}/edit", sent, session)
        assert response.status_code == 403, (csrf, response.body)
        assert "This form has expired" in response.body.decode()
    stored = api_sequence(env, sid)
    assert (stored["version"], stored["name"]) == (1, "Warm-up")


def test_hostile_names_are_text(env: Env, session: str) -> None:
    template = template_id(env, HOSTILE)
    sid = new_sequence(env, [(template, 1)], name=HOSTILE)["id"]
    body = edit_form(env, session, sid)
    assert HOSTILE not in body and body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    fields = fields_of(body) | {"step-0-delay": "-1"}
    response = post_form(env, f"/ui/sequences/{sid}/edit", fields, session)
    assert response.status_code == 422 and HOSTILE not in response.body.decode()
