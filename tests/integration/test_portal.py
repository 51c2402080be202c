"""The candidate portal: the emailed link, the page, corrections, preferences, export, erasure,
and links that are tampered with, expired, of another purpose or of an erased person."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from crm.mailing.links import signed_portal_url
from crm.platform.signing import sign
from tests.integration.conftest import Env, json_post
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages

HTML = {"Accept": "text/html,application/xhtml+xml"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **HTML}


def settle(env: Env, driver: QueueDriver) -> None:
    engagement.settle(env.pump, driver)


def make_candidate(env: Env, **fields: Any) -> dict[str, Any]:
    body = {
        "email": "pat@example.com",
        "first_name": "Pat",
        "last_name": "Portal",
        "phone": "+44 20 7946 0000",
        "location": "Leeds",
        "tags": ["python"],
        "marketing_consent": True,
        **fields,
    }
    response = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def token_of(candidate_id: str) -> str:
    return path_of(signed_portal_url(candidate_id)).split("token=", 1)[1]


def open_page(env: Env, candidate_id: str) -> Any:
    return env.client.http.get(path_of(signed_portal_url(candidate_id)), headers=HTML)


def post_form(env: Env, path: str, fields: dict[str, Any]) -> Any:
    return env.client.http.post(path, body=urlencode(fields, doseq=True).encode(), headers=FORM)


def recruiter_view(env: Env, candidate_id: str) -> Any:
    return env.client.http.get(f"/v1/candidates/{candidate_id}", headers=env.auth("recruiter"))


def details(candidate: dict[str, Any], **changes: Any) -> dict[str, Any]:
    fields = {
        "token": token_of(candidate["id"]),
        "version": str(candidate["version"]),
        "first_name": candidate["first_name"],
        "last_name": candidate["last_name"],
        "phone": candidate.get("phone") or "",
        "location": candidate.get("location") or "",
        "linkedin_url": candidate.get("linkedin_url") or "",
    }
    fields.update(changes)
    return fields


def assert_page_headers(response: Any) -> None:
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["content-type"].startswith("text/html")
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.body.decode().lower()


# ------------------------------------------------------------------------------- the link


def test_link_answers_the_same_and_only_a_known_person_gets_an_email(env: Env, driver: QueueDriver) -> None:
    c = make_candidate(env)
    known = json_post(env, "/public/portal/link", {"email": "  PAT@example.com "})
    unknown = json_post(env, "/public/portal/link", {"email": "nobody-here@example.com"})
    assert (known.status_code, known.body) == (unknown.status_code, unknown.body)
    assert known.status_code == 202 and known.json_body == {"status": "received"}
    trap = json_post(env, "/public/portal/link", {"email": "pat@example.com", "website": "http://spam"})
    assert (trap.status_code, trap.body) == (known.status_code, known.body)
    settle(env, driver)
    mails = sent_messages()
    assert [str(m["To"]) for m in mails] == ["Pat Portal <pat@example.com>"]
    (mail,) = mails
    assert "List-Unsubscribe" not in mail
    text = mail.get_body(("plain",)).get_content()
    match = re.search(r"https://careers\.example\.com(/portal\?token=\S+)", text)
    assert match, text
    page = env.client.http.get(match.group(1), headers=HTML)
    assert page.status_code == 200, page.body
    assert_page_headers(page)
    html = page.body.decode()
    for shown in ("Pat", "Portal", "pat@example.com", "+44 20 7946 0000", "Leeds", "python"):
        assert shown in html
    assert "cannot be changed here" in html and 'action="/portal/details"' in html
    assert f'name="version" value="{c["version"]}"' in html
    assert "Download my data (JSON)" in html and 'name="confirm"' in html
    for topic in ("marketing", "job_alerts", "events"):
        assert f'for="p-{topic}"' in html  # every checkbox has its label


def test_a_suppressed_address_gets_no_link(env: Env, driver: QueueDriver) -> None:
    from crm.mailing.suppression import SuppressionRepository

    make_candidate(env, email="bounced@example.com")
    SuppressionRepository().suppress("bounced@example.com", "bounced", source="test")
    response = json_post(env, "/public/portal/link", {"email": "bounced@example.com"})
    assert response.status_code == 202 and response.json_body == {"status": "received"}
    settle(env, driver)
    assert sent_messages() == []


def test_link_request_from_a_browser_form_and_bad_input(env: Env, driver: QueueDriver) -> None:
    make_candidate(env)
    page = post_form(env, "/public/portal/link", {"email": "pat@example.com"})
    assert page.status_code == 202 and "Check your email" in page.body.decode()
    assert_page_headers(page)
    settle(env, driver)
    assert len(sent_messages()) == 1
    bad = json_post(env, "/public/portal/link", {"email": "not-an-email"})
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad.json_body["errors"]] == ["email"]


# ------------------------------------------------------------------------------- details


def test_details_are_corrected_and_a_stale_version_is_a_conflict(env: Env) -> None:
    c = make_candidate(env)
    saved = post_form(
        env,
        "/portal/details",
        details(c, first_name="Patricia", phone="", linkedin_url="https://www.linkedin.com/in/pat"),
    )
    assert saved.status_code == 200, saved.body
    assert "Your details are saved" in saved.body.decode()
    assert_page_headers(saved)
    after = recruiter_view(env, c["id"]).json_body
    assert after["first_name"] == "Patricia" and after["phone"] is None
    assert after["linkedin_url"] == "https://www.linkedin.com/in/pat"
    assert after["version"] == c["version"] + 1 and after["email"] == "pat@example.com"
    timeline = env.client.http.get(
        f"/v1/candidates/{c['id']}/timeline", headers=env.auth("recruiter")
    ).json_body["items"]
    assert timeline[0]["kind"] == "updated" and timeline[0]["actor"] == "candidate"
    # The same form again, read before that save: nothing is saved, the current values are shown.
    stale = post_form(env, "/portal/details", details(c, first_name="Patsy"))
    assert stale.status_code == 409
    html = stale.body.decode()
    assert "changed somewhere else" in html and "nothing was saved" in html
    assert 'value="Patricia"' in html and f'name="version" value="{after["version"]}"' in html
    assert recruiter_view(env, c["id"]).json_body == after


def test_invalid_fields_are_named_and_keep_what_was_typed(env: Env) -> None:
    c = make_candidate(env)
    typed = details(c, first_name="", phone="call me maybe", linkedin_url="linkedin.com/in/pat")
    page = post_form(env, "/portal/details", typed)
    assert page.status_code == 422
    assert_page_headers(page)
    html = page.body.decode()
    assert 'id="e-first_name"' in html and 'id="e-phone"' in html and 'id="e-linkedin_url"' in html
    assert 'id="e-location"' not in html
    assert "LinkedIn profile URL (optional): Enter the full address, starting with https://" in html
    assert 'value="call me maybe"' in html and 'value="linkedin.com/in/pat"' in html
    assert 'aria-describedby="e-phone"' in html
    assert recruiter_view(env, c["id"]).json_body["version"] == c["version"]


def test_a_hostile_name_is_shown_as_text(env: Env) -> None:
    c = make_candidate(env)
    hostile = '<script>alert("x")</script>'
    saved = post_form(env, "/portal/details", details(c, last_name=hostile, location='"><img src=x>'))
    assert saved.status_code == 200, saved.body
    for page in (saved, open_page(env, c["id"])):
        html = page.body.decode()
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert "&#34;&gt;&lt;img src=x&gt;" in html


# ------------------------------------------------------------------------------- preferences


def test_preferences_grant_and_withdraw_with_source_and_time(env: Env) -> None:
    c = make_candidate(env, marketing_consent=False)
    token = token_of(c["id"])
    page = post_form(env, "/portal/preferences", {"token": token, "marketing": "yes", "events": "yes"})
    assert page.status_code == 200 and "preferences are saved" in page.body.decode()
    consents = recruiter_view(env, c["id"]).json_body["consents"]
    assert {t: (v["granted"], v["source"]) for t, v in consents.items()} == {
        "marketing": (True, "portal"),
        "events": (True, "portal"),
    }
    assert all(re.match(r"\d{4}-\d\d-\d\dT", v["at"]) for v in consents.values())
    html = page.body.decode()
    assert 'id="p-marketing" name="marketing" type="checkbox" value="yes" checked' in html
    assert 'id="p-job_alerts" name="job_alerts" type="checkbox" value="yes">' in html
    # Unticking marketing withdraws it; events stay; job alerts were never asked about.
    post_form(env, "/portal/preferences", {"token": token, "events": "yes"})
    after = recruiter_view(env, c["id"]).json_body["consents"]
    assert (after["marketing"]["granted"], after["marketing"]["source"]) == (False, "portal")
    assert after["marketing"]["at"] > consents["marketing"]["at"]
    assert after["events"] == consents["events"] and "job_alerts" not in after
    kinds = [
        a["kind"]
        for a in env.client.http.get(
            f"/v1/candidates/{c['id']}/timeline", headers=env.auth("recruiter")
        ).json_body["items"]
    ]
    assert kinds.count("consent_given") == 2 and kinds.count("unsubscribed") == 1


# ------------------------------------------------------------------------------- export


def test_export_has_the_persons_data_and_no_recruiter_notes(env: Env) -> None:
    job = json_post(env, "/v1/jobs", {"title": "Data engineer"}, env.auth("recruiter")).json_body
    applied = json_post(
        env,
        f"/public/jobs/{job['id']}/applications",
        {"email": "exp@example.com", "first_name": "Ex", "last_name": "Port", "utm_source": "news"},
    )
    assert applied.status_code == 202
    env.pump.drain()
    listing = env.client.http.get("/v1/candidates?email=exp@example.com", headers=env.auth("recruiter"))
    candidate_id = listing.json_body["items"][0]["id"]
    note = json_post(
        env, f"/v1/candidates/{candidate_id}/notes", {"body": "Zanzibar opinion"}, env.auth("recruiter")
    )
    assert note.status_code == 201
    alerts = json_post(
        env,
        "/public/job-alerts",
        {"email": "exp@example.com", "first_name": "Ex", "last_name": "Port", "tags": "sql"},
    )
    assert alerts.status_code == 202
    response = env.client.http.get(f"/portal/export?token={token_of(candidate_id)}")
    assert response.status_code == 200, response.body
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    raw = response.body.decode()
    assert "Zanzibar" not in raw and note.json_body["id"] not in raw
    data = json.loads(raw)
    assert set(data) == {
        "profile",
        "consents",
        "applications",
        "events",
        "timeline",
        "job_alerts",
        "referrals",
    }
    assert data["profile"]["email"] == "exp@example.com" and data["profile"]["first_name"] == "Ex"
    (application,) = data["applications"]
    assert application["job_id"] == job["id"] and application["job_title"] == "Data engineer"
    assert application["utm"] == {"utm_source": "news"}
    kinds = {a["kind"] for a in data["timeline"]}
    assert {"created", "applied"} <= kinds and not any(k.startswith("note") for k in kinds)
    assert data["job_alerts"]["pending"]["tags"] == ["sql"]


def test_the_page_shows_each_application_with_its_public_stage_name(env: Env) -> None:
    stages = [
        {"key": "applied", "name": "Applied", "public_name": "We have your application"},
        {"key": "tech", "name": "Tech screen (Bob)", "public_name": "Interviewing"},
    ]
    job = json_post(env, "/v1/jobs", {"title": "Data engineer", "stages": stages}, env.auth("recruiter"))
    other = json_post(env, "/v1/jobs", {"title": "Analyst"}, env.auth("recruiter")).json_body
    for job_id in (job.json_body["id"], other["id"]):
        applied = json_post(
            env,
            f"/public/jobs/{job_id}/applications",
            {"email": "st@example.com", "first_name": "St", "last_name": "Age"},
        )
        assert applied.status_code == 202, applied.body
    env.pump.drain()
    candidate_id = env.client.http.get(
        "/v1/candidates?email=st@example.com", headers=env.auth("recruiter")
    ).json_body["items"][0]["id"]
    page = open_page(env, candidate_id).body.decode()
    assert "Your applications" in page
    assert 'Data engineer</strong>: <span class="status">We have your application</span>' in page
    assert 'Analyst</strong>: <span class="status">Application received</span>' in page

    def move(job_id: str, body: dict[str, Any]) -> None:
        listed = env.client.http.get(f"/v1/jobs/{job_id}/applications", headers=env.auth("recruiter"))
        (application,) = listed.json_body["items"]
        moved = env.client.http.patch(
            f"/v1/applications/{application['id']}",
            body=json.dumps({**body, "version": application["version"]}).encode(),
            headers={**env.auth("recruiter"), "Content-Type": "application/json"},
        )
        assert moved.status_code == 200, moved.body

    move(job.json_body["id"], {"stage": "tech"})
    move(other["id"], {"stage": "rejected", "reason": "Position filled"})
    page = open_page(env, candidate_id).body.decode()
    assert '<span class="status">Interviewing</span>' in page and "Tech screen" not in page
    assert '<span class="status">Not moving forward</span>' in page and "Position filled" not in page
    exported = json.loads(env.client.http.get(f"/portal/export?token={token_of(candidate_id)}").body)
    assert sorted(a["status"] for a in exported["applications"]) == ["Interviewing", "Not moving forward"]


# ------------------------------------------------------------------------------- erasure


def test_erase_needs_confirmation_then_removes_everything_and_the_link_stops(env: Env) -> None:
    job = json_post(env, "/v1/jobs", {"title": "Welder"}, env.auth("recruiter")).json_body
    body = {"email": "erase.me@example.com", "first_name": "Quentin", "last_name": "Quibble"}
    assert json_post(env, f"/public/jobs/{job['id']}/applications", body).status_code == 202
    env.pump.drain()
    listing = env.client.http.get("/v1/candidates?email=erase.me@example.com", headers=env.auth("recruiter"))
    candidate_id = listing.json_body["items"][0]["id"]
    json_post(env, f"/v1/candidates/{candidate_id}/notes", {"body": "Quibble notes"}, env.auth("recruiter"))
    token = token_of(candidate_id)
    unconfirmed = post_form(env, "/portal/erase", {"token": token})
    assert unconfirmed.status_code == 422 and 'id="e-confirm"' in unconfirmed.body.decode()
    assert recruiter_view(env, candidate_id).status_code == 200
    erased = post_form(env, "/portal/erase", {"token": token, "confirm": "yes"})
    assert erased.status_code == 200 and "Your record is erased" in erased.body.decode()
    assert_page_headers(erased)
    env.pump.drain()
    items = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
    assert not [i for i in items if i["pk"]["S"] == f"CAND#{candidate_id}"]
    dump = json.dumps(items).lower()
    for needle in ("erase.me", "quentin", "quibble"):
        assert needle not in dump
    assert recruiter_view(env, candidate_id).status_code == 404
    for after in (
        env.client.http.get(f"/portal?token={token}", headers=HTML),
        env.client.http.get(f"/portal/export?token={token}"),
        post_form(env, "/portal/erase", {"token": token, "confirm": "yes"}),
    ):
        assert after.status_code == 400 and "does not work" in after.body.decode()


# ------------------------------------------------------------------------------- bad links


def _expired_token(candidate_id: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from itsdangerous.timed import TimestampSigner

    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
        return sign("portal", {"c": candidate_id})


def test_tampered_expired_foreign_and_missing_tokens_get_a_page_offering_a_new_link(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = make_candidate(env)
    good = token_of(c["id"])
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    expired = _expired_token(c["id"], monkeypatch)
    foreign = sign("unsubscribe", {"c": c["id"], "t": "marketing"})
    confirm = sign("alert-confirm", {"c": c["id"], "r": "x"})
    nobody = sign("portal", {"c": "nobody"})
    for token in (tampered, expired, foreign, confirm, nobody, ""):
        page = env.client.http.get(f"/portal?token={token}", headers=HTML)
        assert page.status_code == 400, (token, page.body)
        assert_page_headers(page)
        html = page.body.decode()
        assert "does not work" in html
        assert 'action="/public/portal/link"' in html and '<label for="email">' in html
        assert env.client.http.get(f"/portal/export?token={token}").status_code == 400
        changed = post_form(env, "/portal/details", details(c, token=token, first_name="Mallory"))
        assert changed.status_code == 400
        prefs = post_form(env, "/portal/preferences", {"token": token})
        assert prefs.status_code == 400
    assert "expired" in env.client.http.get(f"/portal?token={expired}", headers=HTML).body.decode()
    front_door = env.client.http.get("/portal", headers=HTML)
    assert front_door.status_code == 200 and 'action="/public/portal/link"' in front_door.body.decode()
    after = recruiter_view(env, c["id"]).json_body
    assert after["first_name"] == "Pat" and after["version"] == c["version"]
    assert after["consents"]["marketing"]["granted"] is True
    # A fresh link still works, and the token is not valid for unsubscribing either.
    assert open_page(env, c["id"]).status_code == 200
    refused = env.client.http.get(f"/public/unsubscribe?token={good}", headers=HTML)
    assert refused.status_code == 400
