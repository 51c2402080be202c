"""Personal referral links: each person who signs in has one stable code, shown on their page;
the career site carries ``?ref=`` into every form as a hidden ``referral_code`` and into its page
links, and what is sent through it is a referral of the code's owner (confirmed by the form
itself, so no confirmation email); a code that names nobody, or the owner themselves, is nothing."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.conftest import Env, json_post
from tests.integration.test_referrals import EMPLOYEE, emails_to, login, make_job, settle
from tests.support.engagement import QueueDriver


def my_link(env: Env, auth: dict[str, str]) -> tuple[str, str]:
    mine = env.client.http.get("/v1/referrals/mine", headers=auth).json_body
    return str(mine["code"]), str(mine["link"])


def hidden_codes(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="referral_code" value="([^"]*)">', html)


def apply(env: Env, job_id: str, email: str, **fields: Any) -> None:
    body = {"email": email, "first_name": "Lin", "last_name": "Kay", **fields}
    assert json_post(env, f"/public/jobs/{job_id}/applications", body).status_code == 202


def test_each_person_has_one_stable_code_of_their_own(env: Env) -> None:
    employee = login(env, EMPLOYEE, "employee")
    code, link = my_link(env, employee)
    assert re.fullmatch(r"[a-z2-7]{10}", code)
    assert link.endswith(f"/careers?ref={code}")
    assert my_link(env, employee) == (code, link)
    other, _ = my_link(env, env.auth("recruiter"))
    assert other != code


def test_the_career_site_carries_the_code_into_every_form_and_link(env: Env) -> None:
    job = make_job(env, title="Backend engineer")
    employee = login(env, EMPLOYEE, "employee")
    code, _ = my_link(env, employee)
    page = env.client.http.get(f"/careers?ref={code}").body.decode()
    assert hidden_codes(page) == [code, code, code]  # apply, talent network, job alerts
    assert f'href="/careers/jobs/{job["id"]}?ref={code}"' in page
    assert "referral link" in page
    job_page = env.client.http.get(f"/careers/jobs/{job['id']}?ref={code}").body.decode()
    assert hidden_codes(job_page) == [code] and f'href="/careers?ref={code}"' in job_page

    plain = env.client.http.get("/careers").body.decode()
    assert hidden_codes(plain) == [] and "?ref=" not in plain
    for bad in ("%3Cscript%3E", "x" * 300, "ABC", "12345678901"):
        html = env.client.http.get(f"/careers?ref={bad}").body.decode()
        assert hidden_codes(html) == [], bad

    # A form sent back with an error keeps the code in its hidden field and its links.
    response = env.client.http.post(
        f"/public/jobs/{job['id']}/applications",
        body=f"email=nope&first_name=Lin&last_name=Kay&referral_code={code}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert response.status_code == 422
    assert hidden_codes(response.body.decode()) == [code]
    assert f'href="/careers?ref={code}"' in response.body.decode()


def test_an_application_through_a_link_is_the_owners_referral(env: Env, driver: QueueDriver) -> None:
    job = make_job(env, title="Backend engineer")
    employee = login(env, EMPLOYEE, "employee")
    code, _ = my_link(env, employee)
    apply(env, job["id"], "lin@example.com", referral_code=code)
    settle(env, driver)

    (mine,) = env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    assert (mine["first_name"], mine["job_title"], mine["channel"], mine["status"]) == (
        "Lin",
        "Backend engineer",
        "link",
        "received",
    )
    (listed,) = env.client.http.get("/v1/referrals?channel=link", headers=env.auth("recruiter")).json_body[
        "items"
    ]
    assert listed["referrer_email"] == EMPLOYEE and listed["confirmed_at"] and listed["job_id"] == job["id"]
    assert emails_to("lin@example.com") == []  # they applied themselves: nothing to confirm

    # The same person applying again through the link is still one referral.
    apply(env, job["id"], "lin@example.com", referral_code=code)
    settle(env, driver)
    assert len(env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]) == 1


def test_a_sign_up_through_a_link_is_a_referral_to_no_job_that_follows_the_next_application(
    env: Env, driver: QueueDriver
) -> None:
    employee = login(env, EMPLOYEE, "employee")
    code, _ = my_link(env, employee)
    body = {"email": "tia@example.com", "first_name": "Tia", "last_name": "Net", "referral_code": code}
    assert json_post(env, "/public/talent-network", body).status_code == 202
    settle(env, driver)
    (mine,) = env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    assert (mine["first_name"], mine["job_id"], mine["channel"]) == ("Tia", None, "link")

    job = make_job(env, title="Analyst")
    apply(env, job["id"], "tia@example.com", first_name="Tia", last_name="Net")
    settle(env, driver)
    (mine,) = env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    assert (mine["job_id"], mine["job_title"]) == (job["id"], "Analyst")


def test_a_code_that_names_nobody_or_the_owner_is_nothing(env: Env, driver: QueueDriver) -> None:
    job = make_job(env)
    employee = login(env, EMPLOYEE, "employee")
    code, _ = my_link(env, employee)
    guessed = ("b" if code[0] != "b" else "c") + code[1:]
    apply(env, job["id"], "guess@example.com", referral_code=guessed)
    apply(env, job["id"], EMPLOYEE, referral_code=code)  # one's own link
    apply(env, job["id"], "junk@example.com", referral_code="<script>")
    settle(env, driver)
    assert env.client.http.get("/v1/referrals", headers=env.auth("recruiter")).json_body["items"] == []
    assert env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"] == []
