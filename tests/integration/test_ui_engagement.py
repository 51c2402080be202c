"""The recruiter UI's email templates (with preview) and campaigns pages, and its static script."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlencode

import pytest
from markupsafe import escape

from crm.platform import clock
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.support.engagement import QueueDriver, sent_messages

TEMPLATE = {
    "name": "Autumn news",
    "subject": "News for {{ first_name }}",
    "html": '<p>Hello {{ first_name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    "text": "Hello {{ first_name }}\nUnsubscribe: {{ unsubscribe_url }}",
}
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def session(env: Env) -> str:
    response = sign_in(env)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def csrf(env: Env, cookie: str, path: str = "/ui/templates/new") -> str:
    response = get(env, path, cookie)
    assert response.status_code == 200, response.body
    return csrf_of(response.body)


def body_of(response: Any) -> str:
    return str(response.body.decode())


def api_template(env: Env, **fields: str) -> dict[str, Any]:
    response = json_post(env, "/v1/templates", {**TEMPLATE, **fields}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def api_get(env: Env, path: str) -> dict[str, Any]:
    response = env.client.http.get(path, headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def fragment(env: Env, cookie: str, fields: dict[str, str]) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "X-Preview": "fragment"}
    return env.client.http.post("/ui/templates/preview", body=urlencode(fields).encode(), headers=headers)


def field_error(body: str, name: str) -> str:
    """The error shown next to a field, checking the field points at it."""
    match = re.search(rf'<(?:input|textarea|select)[^>]*\bid="f-{name}"[^>]*>', body)
    assert match, name
    assert 'aria-invalid="true"' in match.group(0) and f"e-{name}" in match.group(0), match.group(0)
    error = re.search(rf'<p class="error" id="e-{name}">([^<]*)</p>', body)
    assert error, name
    return html.unescape(error.group(1))


# ------------------------------------------------------------------------------- static files


def test_static_script_is_served_with_its_type(env: Env) -> None:
    response = env.client.http.get("/ui/static/ui.js")
    assert response.status_code == 200
    assert header(response, "content-type") == "text/javascript; charset=utf-8"
    assert header(response, "cache-control") == "public, max-age=300"
    assert header(response, "x-content-type-options") == "nosniff"
    assert b"X-Preview" in response.body


@pytest.mark.parametrize(
    "name",
    ["nope.js", "UI.JS", "ui.py", "ui.js.map", "..%2Fui_engagement.py", "%2E%2E%2Fui.js", ".js", "id-1"],
)
def test_static_serves_nothing_else(env: Env, name: str) -> None:
    response = env.client.http.get(f"/ui/static/{name}")
    assert response.status_code == 404
    assert header(response, "content-type").startswith("application/problem+json")


def test_static_path_traversal_does_not_reach_files(env: Env) -> None:
    response = env.client.http.get("/ui/static/../ui_engagement.py")
    assert response.status_code != 200 and b"import" not in response.body


# ------------------------------------------------------------------------------- templates


def test_pages_need_a_session(env: Env) -> None:
    for path in (
        "/ui/templates",
        "/ui/templates/new",
        "/ui/campaigns",
        "/ui/campaigns/new",
        "/ui/campaigns/x",
    ):
        response = env.client.http.get(path)
        assert response.status_code == 303 and header(response, "location").startswith("/ui/login?next=")
    response = post_form(env, "/ui/templates/preview", {"subject": "x"})
    assert response.status_code == 303 and header(response, "location").startswith("/ui/login")


def test_create_a_template_with_the_form(env: Env, session: str) -> None:
    new = get(env, "/ui/templates/new", session)
    page = body_of(new)
    for name in ("name", "subject", "html", "text"):
        assert f'<label for="f-{name}">' in page
    assert 'formaction="/ui/templates/preview#preview-h"' in page
    assert '<script src="/ui/static/ui.js" defer></script>' in page
    response = post_form(env, "/ui/templates", {"csrf": csrf_of(new.body), **TEMPLATE}, session)
    assert response.status_code == 303, response.body
    location = header(response, "location")
    assert re.fullmatch(r"/ui/templates/[\w-]+\?done=created", location)
    shown = body_of(get(env, location, session))
    assert "The template is saved." in shown
    assert "News for Ada" in shown  # the saved template's preview, for the sample candidate
    assert env.pump.drain() == []
    listing = body_of(get(env, "/ui/templates", session))
    assert "Autumn news" in listing and 'href="/ui/templates/new"' in listing


@pytest.mark.parametrize(
    ("part", "value", "expected"),
    [
        ("html", "<p>Hello {{ first_name </p>", "line 1"),
        ("text", "Hi\n\n{{ first_name | }}", "line 3"),
        ("subject", "Hi {{ nickname }}", "unknown token(s): nickname"),
        ("html", "{{ ''.__class__.__mro__ }}", "not allowed"),
    ],
)
def test_a_template_that_does_not_parse_is_422_next_to_its_field(
    env: Env, session: str, part: str, value: str, expected: str
) -> None:
    fields = {"csrf": csrf(env, session), **TEMPLATE, part: value}
    response = post_form(env, "/ui/templates", fields, session)
    assert response.status_code == 422
    page = body_of(response)
    assert expected in field_error(page, part)
    assert str(escape(value)) in page  # the typed value is kept
    assert env.pump.drain() == []
    assert api_get(env, "/v1/templates")["items"] == []


def test_missing_fields_are_422_next_to_them(env: Env, session: str) -> None:
    fields = {"csrf": csrf(env, session), "name": "", "subject": "", "html": "<p>x</p>", "text": "x"}
    response = post_form(env, "/ui/templates", fields, session)
    assert response.status_code == 422
    page = body_of(response)
    assert field_error(page, "name") and field_error(page, "subject")
    assert "<p>x</p>" not in page and "&lt;p&gt;x&lt;/p&gt;" in page


def test_edit_and_save_respects_the_version(env: Env, session: str) -> None:
    template = api_template(env)
    path = f"/ui/templates/{template['id']}"
    page = get(env, path, session)
    assert 'name="version" value="1"' in body_of(page)
    fields = {
        "csrf": csrf_of(page.body),
        "version": "1",
        **TEMPLATE,
        "subject": "Fresh news, {{ first_name }}",
    }
    response = post_form(env, path, fields, session)
    assert response.status_code == 303 and header(response, "location") == f"{path}?done=saved"
    saved = api_get(env, f"/v1/templates/{template['id']}")
    assert saved["version"] == 2 and saved["subject"] == "Fresh news, {{ first_name }}"
    stale = post_form(env, path, {**fields, "subject": "Stale {{ first_name }}"}, session)
    assert stale.status_code == 409
    assert "Someone else changed this template" in body_of(stale)
    assert 'name="version" value="2"' in body_of(stale)
    assert api_get(env, f"/v1/templates/{template['id']}")["version"] == 2
    broken = post_form(env, path, {**fields, "version": "2", "html": "{% for %}"}, session)
    assert broken.status_code == 422 and "line 1" in field_error(body_of(broken), "html")
    assert api_get(env, f"/v1/templates/{template['id']}")["version"] == 2


@pytest.mark.parametrize("template_id", ["no-such-id", "a" * 3000, "%3Cscript%3E"])
def test_unknown_template_is_a_404_page(env: Env, session: str, template_id: str) -> None:
    response = get(env, f"/ui/templates/{template_id}", session)
    assert response.status_code == 404 and "text/html" in header(response, "content-type")
    fields = {"csrf": csrf(env, session), "version": "1", **TEMPLATE}
    assert post_form(env, f"/ui/templates/{template_id}", fields, session).status_code == 404
    fields["template_id"] = template_id
    assert post_form(env, "/ui/templates/preview", fields, session).status_code == 404
    assert get(env, f"/ui/campaigns/new?template_id={template_id}", session).status_code == 200


def test_preview_without_script_rerenders_the_page_with_the_typed_values(env: Env, session: str) -> None:
    typed = {**TEMPLATE, "name": "Draft", "subject": "Hey {{ first_name }} in {{ location }}"}
    response = post_form(env, "/ui/templates/preview", {"csrf": csrf(env, session), **typed}, session)
    assert response.status_code == 200
    page = body_of(response)
    assert "<html" in page and 'action="/ui/templates"' in page  # still the new-template form
    assert 'value="Hey {{ first_name }} in {{ location }}"' in page
    assert "Hey Ada in London" in page
    assert re.search(r'<iframe class="email" sandbox srcdoc="[^"]*Hello Ada', page)
    assert "Hello Ada" in page and "Hello {{ first_name }}" in page
    assert api_get(env, "/v1/templates")["items"] == [] and env.pump.drain() == []
    # On an existing template the page stays that template's edit form, with its version.
    template = api_template(env)
    fields = {"csrf": csrf(env, session), "template_id": template["id"], "version": "1", **typed}
    page = body_of(post_form(env, "/ui/templates/preview", fields, session))
    assert f'action="/ui/templates/{template["id"]}"' in page and 'name="version" value="1"' in page
    assert api_get(env, f"/v1/templates/{template['id']}")["version"] == 1


def test_preview_fragment_is_only_the_preview(env: Env, session: str) -> None:
    response = fragment(env, session, {"csrf": csrf(env, session), **TEMPLATE})
    assert response.status_code == 200
    body = body_of(response)
    assert "<html" not in body and "<form" not in body
    assert "News for Ada" in body and "<iframe" in body and "Hello Ada\nUnsubscribe" in body
    assert "content-security-policy" in {k.lower() for k in response.headers}
    broken = body_of(fragment(env, session, {"csrf": csrf(env, session), **TEMPLATE, "html": "{{ x"}))
    assert "The preview cannot be shown" in broken and "HTML body: line 1" in broken


def test_preview_full_page_with_a_broken_part_marks_the_field(env: Env, session: str) -> None:
    fields = {"csrf": csrf(env, session), **TEMPLATE, "text": "{% endif %}"}
    response = post_form(env, "/ui/templates/preview", fields, session)
    assert response.status_code == 422
    assert "line 1" in field_error(body_of(response), "text")


def test_hostile_values_in_the_preview_are_escaped_and_sandboxed(env: Env, session: str) -> None:
    fields = {
        "csrf": csrf(env, session),
        "name": HOSTILE,
        "subject": f'{HOSTILE} "><img src=x onerror=alert(2)> {{{{ first_name }}}}',
        "html": (
            f'{HOSTILE}<p onclick="alert(3)">{{{{ first_name }}}}</p>"></iframe><script>alert(4)</script>'
        ),
        "text": f"{HOSTILE} {{{{ first_name }}}}",
    }
    for response in (
        fragment(env, session, fields),
        post_form(env, "/ui/templates/preview", fields, session),
    ):
        assert response.status_code == 200, response.body
        body = body_of(response)
        assert "<script>alert" not in body and "<img src=x" not in body and "<p onclick" not in body
        frames = re.findall(r"<iframe[^>]*>", body)
        assert len(frames) == 1
        assert " sandbox " in frames[0] and "allow-" not in frames[0]
        srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frames[0]).group(1))  # type: ignore[union-attr]
        assert srcdoc.startswith(HOSTILE) and "</iframe><script>alert(4)</script>" in srcdoc
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Ada" in body  # the text part, as text
    assert "<script" not in re.sub(r'<script src="/ui/static/ui\.js" defer></script>', "", body)


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_posts_without_the_right_csrf_token_are_403_and_change_nothing(
    env: Env, session: str, token: str | None, local_clock: None
) -> None:
    make_candidates(env, 1, tag="csrf")
    template = api_template(env)
    body = {"name": "C", "template_id": template["id"], "audience": {"tags": ["csrf"]}}
    campaign = json_post(env, "/v1/campaigns", body, env.auth("recruiter")).json_body
    base = {} if token is None else {"csrf": token}
    cases = [
        ("/ui/templates", {**base, **TEMPLATE, "name": "Forged"}),
        (f"/ui/templates/{template['id']}", {**base, **TEMPLATE, "version": "1", "subject": "Forged"}),
        ("/ui/templates/preview", {**base, **TEMPLATE}),
        ("/ui/campaigns", {**base, "name": "Forged", "template_id": template["id"]}),
        (f"/ui/campaigns/{campaign['id']}/launch", {**base, "when": "now"}),
    ]
    for path, fields in cases:
        response = post_form(env, path, fields, session)
        assert response.status_code == 403, (path, response.status_code)
    assert env.pump.drain() == []
    assert [t["name"] for t in api_get(env, "/v1/templates")["items"]] == ["Autumn news"]
    assert api_get(env, f"/v1/templates/{template['id']}")["version"] == 1
    assert [c["id"] for c in api_get(env, "/v1/campaigns")["items"]] == [campaign["id"]]
    assert api_get(env, f"/v1/campaigns/{campaign['id']}")["status"] == "draft"


# ------------------------------------------------------------------------------- campaigns


def make_pool(env: Env, candidate_ids: list[str]) -> str:
    pool = json_post(env, "/v1/pools", {"name": "Autumn shortlist"}, env.auth("recruiter")).json_body
    for cid in candidate_ids:
        added = json_post(
            env, f"/v1/pools/{pool['id']}/members", {"candidate_id": cid}, env.auth("recruiter")
        )
        assert added.status_code == 201, added.body
    assert env.pump.drain() == []
    return str(pool["id"])


def create_in_ui(env: Env, session: str, **fields: str) -> Any:
    form = get(env, "/ui/campaigns/new", session)
    assert form.status_code == 200
    return post_form(env, "/ui/campaigns", {"csrf": csrf_of(form.body), **fields}, session)


def test_campaign_create_audience_launch_and_stats(env: Env, session: str, driver: QueueDriver) -> None:
    members = make_candidates(env, 3, tag="ui-pool")
    make_candidates(env, 2, tag="ui-pool", prefix="outside")
    pool_id = make_pool(env, members)
    template = api_template(env)
    new = body_of(get(env, f"/ui/campaigns/new?template_id={template['id']}", session))
    assert f'<option value="{template["id"]}" selected>Autumn news</option>' in new
    assert f'<option value="{pool_id}">Autumn shortlist</option>' in new
    response = create_in_ui(
        env, session, name="Autumn", template_id=template["id"], pool=pool_id, tags="ui-pool"
    )
    assert response.status_code == 303, response.body
    location = header(response, "location")
    campaign_id = location.split("/")[-1].split("?")[0]
    page = body_of(get(env, location, session))
    assert "The campaign is saved as a draft." in page
    assert re.search(r'class="audience-size"><strong>3</strong> candidates match', page)
    assert "Autumn shortlist" in page and "Launch campaign" in page
    assert api_get(env, f"/v1/campaigns/{campaign_id}/audience")["candidates"] == 3
    launched = post_form(
        env, f"/ui/campaigns/{campaign_id}/launch", {"csrf": csrf_of(page.encode()), "when": "now"}, session
    )
    assert launched.status_code == 303
    assert header(launched, "location") == f"/ui/campaigns/{campaign_id}?done=launched"
    page = body_of(get(env, header(launched, "location"), session))
    assert "it is being sent now" in page and 'data-status="sending"' in page
    assert f'data-refresh="{campaign_id}"' in page and "Launch campaign" not in page
    driver.run()
    assert sorted(parseaddr(str(m["To"]))[1] for m in sent_messages()) == [
        f"c{i}-ui-pool@example.com" for i in range(3)
    ]
    assert {str(m["Subject"]) for m in sent_messages()} == {
        "News for Person0",
        "News for Person1",
        "News for Person2",
    }
    stats = get(env, f"/ui/campaigns/{campaign_id}", session)
    assert 'data-status="sent"' in body_of(stats) and "data-refresh" not in body_of(stats)
    only = env.client.http.get(
        f"/ui/campaigns/{campaign_id}", headers={"Cookie": session, "X-Fragment": "stats"}
    )
    assert only.status_code == 200 and "<html" not in body_of(only)
    cells = re.findall(r"<dd>(\d+)</dd>", body_of(only))
    assert cells[0] == "3" and len(cells) == 8  # sent, then delivered ... failed
    listing = body_of(get(env, "/ui/campaigns", session))
    assert f'href="/ui/campaigns/{campaign_id}"' in listing and "sent" in listing and "3 of 3" in listing
    # Launching again: 409, nothing more is sent.
    again = post_form(
        env, f"/ui/campaigns/{campaign_id}/launch", {"csrf": csrf_of(page.encode()), "when": "now"}, session
    )
    assert again.status_code == 409 and "already launched" in body_of(again)
    driver.run()
    assert len(sent_messages()) == 3


def test_scheduled_launch_shows_scheduled(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 2, tag="later")
    template = api_template(env)
    created = create_in_ui(env, session, name="Later", template_id=template["id"], tags="later")
    campaign_id = header(created, "location").split("/")[-1].split("?")[0]
    path = f"/ui/campaigns/{campaign_id}"
    token = csrf(env, session, path)
    past = (clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = post_form(env, f"{path}/launch", {"csrf": token, "when": "later", "send_at": past}, session)
    assert response.status_code == 422 and "choose a time in the future" in field_error(
        body_of(response), "send_at"
    )
    for bad in ("", "tomorrow", "9999-12-31T23:59:59-05:00"):
        response = post_form(env, f"{path}/launch", {"csrf": token, "when": "later", "send_at": bad}, session)
        assert response.status_code == 422, bad
    response = post_form(env, f"{path}/launch", {"csrf": token, "when": "sometime"}, session)
    assert response.status_code == 422
    assert api_get(env, path.replace("/ui/", "/v1/"))["status"] == "draft"
    at = (clock.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    fields = {"csrf": token, "when": "later", "send_at": at.strftime("%Y-%m-%dT%H:%M")}
    response = post_form(env, f"{path}/launch", fields, session)
    assert response.status_code == 303 and header(response, "location") == f"{path}?done=scheduled"
    page = body_of(get(env, header(response, "location"), session))
    assert "The campaign is scheduled." in page and 'data-status="scheduled"' in page
    assert at.strftime("%Y-%m-%dT%H:%M:00") in page
    campaign = api_get(env, path.replace("/ui/", "/v1/"))
    assert campaign["status"] == "scheduled" and campaign["send_at"].startswith(at.strftime("%Y-%m-%dT%H:%M"))
    driver.run()
    assert sent_messages() == []


def test_send_now_clears_a_send_time_given_by_the_api(env: Env, session: str, driver: QueueDriver) -> None:
    make_candidates(env, 1, tag="now")
    template = api_template(env)
    at = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"name": "N", "template_id": template["id"], "audience": {"tags": ["now"]}, "send_at": at}
    campaign = json_post(env, "/v1/campaigns", body, env.auth("recruiter")).json_body
    path = f"/ui/campaigns/{campaign['id']}"
    response = post_form(env, f"{path}/launch", {"csrf": csrf(env, session, path), "when": "now"}, session)
    assert response.status_code == 303 and header(response, "location").endswith("?done=launched")
    driver.run()
    assert len(sent_messages()) == 1


def test_invalid_campaign_form_is_422_next_to_the_fields(env: Env, session: str) -> None:
    response = create_in_ui(env, session, name="", template_id="", pool="", tags="#!", source="a b")
    assert response.status_code == 422
    page = body_of(response)
    for name in ("name", "template_id", "tags", "source"):
        assert field_error(page, name)
    assert 'value="#!"' in page and 'value="a b"' in page
    missing = create_in_ui(env, session, name="X", template_id="nope", pool="nopool")
    assert missing.status_code == 422
    page = body_of(missing)
    assert "no template with id nope" in field_error(page, "template_id")
    assert "no pool with id nopool" in field_error(page, "pool")
    assert env.pump.drain() == []
    assert api_get(env, "/v1/campaigns")["items"] == []


def test_hostile_campaign_values_are_text(env: Env, session: str) -> None:
    template = api_template(env, name=HOSTILE, subject=f"{HOSTILE} {{{{ first_name }}}}")
    response = create_in_ui(env, session, name=HOSTILE, template_id=template["id"], tags="x")
    assert response.status_code == 303
    assert env.pump.drain() == []
    for path in (header(response, "location"), "/ui/campaigns", "/ui/campaigns/new", "/ui/templates"):
        body = body_of(get(env, path, session))
        assert "<script>alert" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path


@pytest.mark.parametrize("campaign_id", ["no-such-id", "b" * 3000])
def test_unknown_campaign_is_a_404_page(env: Env, session: str, campaign_id: str) -> None:
    assert get(env, f"/ui/campaigns/{campaign_id}", session).status_code == 404
    for when in ("now", "later", "x"):
        response = post_form(
            env, f"/ui/campaigns/{campaign_id}/launch", {"csrf": csrf(env, session), "when": when}, session
        )
        assert response.status_code == 404


def test_the_icon_is_where_a_browser_looks_for_it(env: Env) -> None:
    response = env.client.http.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.body.decode().lstrip().startswith("<svg")
    assert response.body == env.client.http.get("/ui/static/favicon.svg").body
