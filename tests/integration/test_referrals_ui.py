"""The referral pages: an employee signs in to their referrals and sees nothing else (the menu has
only "Refer someone" and "Your referrals"; every other page sends them there; other forms are a
403); the form refers someone (with a resume) or shows each field's error; recruiters and hiring
managers refer too, and recruiters read the report."""

from __future__ import annotations

from typing import Any

import urllib3

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.integration.test_referrals import PDF, candidate_by_email, emails_to, make_job, settle
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.support.engagement import QueueDriver
from tests.support.stack import create_user

EMPLOYEE = "emma@example.com"


def employee_session(env: Env, username: str = EMPLOYEE, group: str = "employee") -> str:
    create_user(env.stack, username, PASSWORD, group)
    response = sign_in(env, username)
    assert response.status_code == 303, response.body
    return f"crm_session={cookie_value(header(response, 'set-cookie'))}"


def post_multipart(env: Env, path: str, fields: dict[str, Any], cookie: str) -> Any:
    body, content_type = urllib3.encode_multipart_formdata(fields)
    return env.client.http.post(path, body=body, headers={"Content-Type": content_type, "Cookie": cookie})


def test_an_employee_lands_on_their_referrals_and_sees_nothing_else(env: Env) -> None:
    cookie = employee_session(env)
    for path in ("/ui/", "/ui/candidates", "/ui/jobs", "/ui/pools", "/ui/referrals", "/ui/admin/users"):
        response = get(env, path, cookie)
        assert (response.status_code, header(response, "location")) == (303, "/ui/referrals/mine"), path
    mine = get(env, "/ui/referrals/mine", cookie)
    assert mine.status_code == 200
    body = mine.body.decode()
    nav = body.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/ui/referrals/new"' in nav and 'href="/ui/referrals/mine"' in nav
    for other in (
        "/ui/candidates",
        "/ui/jobs",
        "/ui/pools",
        "/ui/campaigns",
        "/ui/dev/outbox",
        'href="/ui/"',
    ):
        assert other not in nav, other
    assert "Your referral link" in body and "/careers?ref=" in body

    # A recruiters' form is a 403 page, and changes nothing.
    csrf = csrf_of(mine.body)
    refused = post_form(env, "/ui/jobs", {"csrf": csrf, "title": "Sneaky"}, cookie)
    assert refused.status_code == 403
    assert env.client.http.get("/v1/jobs", headers=env.auth("recruiter")).json_body["items"] == []


def test_the_form_refers_someone_and_shows_errors_by_field(env: Env, driver: QueueDriver) -> None:
    job = make_job(env, title="Site reliability engineer")
    closed = make_job(env, title="Closed role", status="closed")
    cookie = employee_session(env)
    form = get(env, f"/ui/referrals/new?job={job['id']}", cookie)
    assert form.status_code == 200
    page = form.body.decode()
    assert "Site reliability engineer" in page and "Closed role" not in page
    assert f'value="{job["id"]}" selected' in page
    csrf = csrf_of(form.body)

    bad = post_multipart(
        env,
        "/ui/referrals",
        {
            "csrf": csrf,
            "first_name": "",
            "last_name": "Lee",
            "email": "nope",
            "job_id": closed["id"],
            "why": "x",
        },
        cookie,
    )
    assert bad.status_code == 422
    text = bad.body.decode()
    assert 'id="e-first_name"' in text and 'id="e-email"' in text and 'value="Lee"' in text

    wrong_job = post_multipart(
        env,
        "/ui/referrals",
        {
            "csrf": csrf,
            "first_name": "Lu",
            "last_name": "Lee",
            "email": "lu@example.com",
            "job_id": closed["id"],
            "why": "x",
        },
        cookie,
    )
    assert wrong_job.status_code == 422 and 'id="e-job_id"' in wrong_job.body.decode()

    sent = post_multipart(
        env,
        "/ui/referrals",
        {
            "csrf": csrf,
            "first_name": "Lu",
            "last_name": "Lee",
            "email": "lu@example.com",
            "job_id": job["id"],
            "why": "Ran our on-call rota <script>alert(1)</script>",
            "resume": ("lu.pdf", PDF, "application/pdf"),
        },
        cookie,
    )
    assert (sent.status_code, header(sent, "location")) == (303, "/ui/referrals/mine?done=referred")
    settle(env, driver)
    assert len(emails_to("lu@example.com")) == 1
    mine = get(env, "/ui/referrals/mine?done=referred", cookie).body.decode()
    assert "your referral is received" in mine and "Lu Lee" in mine and "Site reliability engineer" in mine
    assert "Received" in mine
    person = candidate_by_email(env, "lu@example.com")
    assert person["source"] == "referral"

    # Without the form's token nothing is sent.
    forged = post_multipart(
        env,
        "/ui/referrals",
        {"first_name": "Mo", "last_name": "Lee", "email": "mo@example.com", "why": "x"},
        cookie,
    )
    assert forged.status_code == 403

    # Recruiters read the report: the referral, its referrer and its "why" (escaped).
    recruiter = sign_in(env)
    recruiter_cookie = f"crm_session={cookie_value(header(recruiter, 'set-cookie'))}"
    report = get(env, "/ui/referrals", recruiter_cookie)
    assert report.status_code == 200
    body = report.body.decode()
    assert EMPLOYEE in body and "Lu Lee" in body and "(not confirmed yet)" in body
    assert "&lt;script&gt;" in body and "<script>alert(1)" not in body


def test_hiring_managers_and_recruiters_refer_too(env: Env) -> None:
    job = make_job(env, title="Analyst")
    for n, (username, group) in enumerate(
        (("hm@example.com", "hiring_manager"), ("rec2@example.com", "recruiter"))
    ):
        cookie = employee_session(env, username, group)
        form = get(env, "/ui/referrals/new", cookie)
        assert form.status_code == 200
        sent = post_multipart(
            env,
            "/ui/referrals",
            {
                "csrf": csrf_of(form.body),
                "first_name": "Pat",
                "last_name": f"N{n}",
                "email": f"pat{n}@example.com",
                "job_id": job["id"],
                "why": "Sharp",
            },
            cookie,
        )
        assert sent.status_code == 303, sent.body
        assert f"Pat N{n}" in get(env, "/ui/referrals/mine", cookie).body.decode()
    hm_cookie = employee_session(env, "hm2@example.com", "hiring_manager")
    report = get(env, "/ui/referrals", hm_cookie)  # the report is recruiters'
    assert (report.status_code, header(report, "location")) == (303, "/ui/jobs")
    assert json_post(env, "/v1/referrals", {}, {}).status_code == 401


def test_the_profile_says_who_referred_them_and_why(env: Env, driver: QueueDriver) -> None:
    job = make_job(env, title="Platform engineer")
    cookie = employee_session(env)
    form = get(env, "/ui/referrals/new", cookie)
    fields = {
        "csrf": csrf_of(form.body),
        "first_name": "Ivo",
        "last_name": "Prof",
        "email": "ivo@example.com",
        "job_id": job["id"],
        "why": "Knows Kubernetes <inside> out",
    }
    assert post_multipart(env, "/ui/referrals", fields, cookie).status_code == 303
    person = candidate_by_email(env, "ivo@example.com")
    recruiter = sign_in(env)
    page = get(
        env, f"/ui/candidates/{person['id']}", f"crm_session={cookie_value(header(recruiter, 'set-cookie'))}"
    )
    body = page.body.decode()
    referred = body.split("<dt>Referred by</dt>")[1].split("</dd>")[0]
    assert (
        EMPLOYEE in referred and "Platform engineer" in referred and "not confirmed by them yet" in referred
    )
    assert "Knows Kubernetes &lt;inside&gt; out" in referred
