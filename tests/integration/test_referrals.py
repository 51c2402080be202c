"""Referrals: anyone who signs in (an employee too) refers someone; the referred person is stored
through the one intake with source ``referral``, gets one email naming the referrer and nothing
else until they confirm; confirming makes them an applicant to the named job; a known email gets
the same answer; bad input is a 422 naming the field; an employee may do nothing else."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from tests.integration.conftest import PASSWORD, Env, json_post
from tests.support import engagement
from tests.support.engagement import QueueDriver, sent_messages
from tests.support.stack import create_user

EMPLOYEE = "emma@example.com"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def settle(env: Env, driver: QueueDriver) -> None:
    engagement.settle(env.pump, driver)


def login(env: Env, username: str, group: str) -> dict[str, str]:
    create_user(env.stack, username, PASSWORD, group)
    response = json_post(env, "/auth/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {response.json_body['id_token']}"}


@pytest.fixture
def employee(env: Env) -> dict[str, str]:
    return login(env, EMPLOYEE, "employee")


def make_job(env: Env, title: str = "Data engineer", **fields: Any) -> dict[str, Any]:
    response = json_post(env, "/v1/jobs", {"title": title, **fields}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def refer(env: Env, auth: dict[str, str], **fields: Any) -> Any:
    body = {
        "first_name": "Rita",
        "last_name": "Ref",
        "email": "rita@example.com",
        "why": "Great at SQL",
        **fields,
    }
    return json_post(env, "/v1/referrals", body, auth)


def refer_multipart(env: Env, auth: dict[str, str], fields: dict[str, str], resume: tuple[str, bytes]) -> Any:
    body, content_type = urllib3.encode_multipart_formdata(
        {**fields, "resume": (resume[0], resume[1], "application/octet-stream")}
    )
    return env.client.http.post("/v1/referrals", body=body, headers={"Content-Type": content_type, **auth})


def emails_to(address: str) -> list[Any]:
    return [m for m in sent_messages() if address in str(m["To"])]


def confirm_path(message: Any) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"(https?://\S+/public/referrals/confirm\?token=\S+)", text)
    assert match, text
    parts = urlsplit(match.group(1))
    return f"{parts.path}?{parts.query}"


def candidate_by_email(env: Env, email: str) -> dict[str, Any]:
    env.pump.drain()
    found = env.client.http.get(f"/v1/candidates?email={email}", headers=env.auth("recruiter")).json_body
    assert len(found["items"]) == 1, found
    candidate = env.client.http.get(
        f"/v1/candidates/{found['items'][0]['id']}", headers=env.auth("recruiter")
    )
    return dict(candidate.json_body)


def applications_of(env: Env, candidate_id: str) -> list[dict[str, Any]]:
    response = env.client.http.get(
        f"/v1/candidates/{candidate_id}/applications", headers=env.auth("recruiter")
    )
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def test_an_employee_refers_someone_who_confirms_and_becomes_an_applicant(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    job = make_job(env)
    response = refer(env, employee, job_id=job["id"])
    assert (response.status_code, response.json_body) == (202, {"status": "received"})
    settle(env, driver)

    person = candidate_by_email(env, "rita@example.com")
    assert person["source"] == "referral" and person["consents"] == {}
    timeline = env.client.http.get(f"/v1/candidates/{person['id']}/timeline", headers=env.auth("recruiter"))
    created = timeline.json_body["items"][-1]
    assert created["kind"] == "created" and created["actor"].startswith("user:")
    assert applications_of(env, person["id"]) == []  # not an applicant before confirming

    # One email, naming the referrer, with the link; never the referrer's "why".
    (invite,) = emails_to("rita@example.com")
    assert EMPLOYEE in invite["Subject"] and "Data engineer" in invite["Subject"]
    text = invite.get_body(("plain",)).get_content()
    assert EMPLOYEE in text and "Great at SQL" not in text
    assert "List-Unsubscribe" not in invite

    page = env.client.http.get(confirm_path(invite), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert EMPLOYEE in page.body.decode() and "Yes, I am interested" in page.body.decode()
    assert applications_of(env, person["id"]) == []  # opening the page changes nothing

    confirmed = env.client.http.post(
        confirm_path(invite),
        body=b"marketing_consent=true",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert confirmed.status_code == 200, confirmed.body
    assert "You are now an applicant for" in confirmed.body.decode()
    (application,) = applications_of(env, person["id"])
    assert (application["job_id"], application["source"], application["stage"]) == (
        job["id"],
        "referral",
        "applied",
    )
    assert candidate_by_email(env, "rita@example.com")["consents"]["marketing"]["granted"] is True

    # Following the link again is fine and changes nothing; still one email.
    again = env.client.http.post(
        confirm_path(invite), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert again.status_code == 200
    settle(env, driver)
    assert len(emails_to("rita@example.com")) == 1
    assert len(applications_of(env, person["id"])) == 1

    mine = env.client.http.get("/v1/referrals/mine", headers=employee).json_body
    (item,) = mine["items"]
    assert (item["first_name"], item["job_title"], item["status"], item["status_label"]) == (
        "Rita",
        "Data engineer",
        "received",
        "Received",
    )
    assert "candidate_id" not in item and "why" not in item


def test_the_resume_is_kept_as_the_public_forms_keep_it(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    fields = {"first_name": "Cy", "last_name": "Vee", "email": "cy@example.com", "why": "Builds things"}
    assert refer_multipart(env, employee, fields, ("cv.pdf", PDF)).status_code == 202
    person = candidate_by_email(env, "cy@example.com")
    resumes = env.client.http.get(f"/v1/candidates/{person['id']}/resumes", headers=env.auth("recruiter"))
    (resume,) = resumes.json_body["items"]
    assert (resume["file_name"], resume["source"], resume["content_type"]) == (
        "cv.pdf",
        "referral",
        "application/pdf",
    )

    wrong = refer_multipart(env, employee, {**fields, "email": "dee@example.com"}, ("cv.exe", b"MZ\x90\x00"))
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json_body["errors"]] == ["resume"]
    big = refer_multipart(
        env, employee, {**fields, "email": "dee@example.com"}, ("cv.pdf", PDF + b"0" * 6 * 1024 * 1024)
    )
    assert big.status_code in (413, 422)
    env.pump.drain()
    assert (
        env.client.http.get("/v1/candidates?email=dee@example.com", headers=env.auth("recruiter")).json_body[
            "items"
        ]
        == []
    )


def test_a_known_email_gets_the_same_answer_and_is_linked_not_duplicated(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    known = json_post(
        env,
        "/v1/candidates",
        {"email": "kim@example.com", "first_name": "Kim", "last_name": "Known", "phone": "+44 1"},
        env.auth("recruiter"),
    )
    assert known.status_code == 201
    new = refer(env, employee, email="nora@example.com", first_name="Nora", last_name="New")
    old = refer(env, employee, email="KIM@example.com ", first_name="Kimberly", last_name="Other")
    assert (
        (new.status_code, new.json_body) == (old.status_code, old.json_body) == (202, {"status": "received"})
    )
    assert dict(new.headers).get("content-type") == dict(old.headers).get("content-type")
    settle(env, driver)

    person = candidate_by_email(env, "kim@example.com")
    assert person["id"] == known.json_body["id"]
    assert (person["first_name"], person["phone"]) == ("Kim", "+44 1")  # a referral overwrites nothing
    assert "referral" in person["sources"]
    listed = env.client.http.get("/v1/referrals", headers=env.auth("recruiter")).json_body["items"]
    by_email = {r["email"]: r for r in listed}
    assert by_email["kim@example.com"]["known"] is True and by_email["nora@example.com"]["known"] is False
    assert by_email["kim@example.com"]["candidate_id"] == person["id"]

    # Both are told once, the same way; the referrer sees both as received.
    assert len(emails_to("kim@example.com")) == len(emails_to("nora@example.com")) == 1
    mine = env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    assert sorted((r["first_name"], r["status"]) for r in mine) == [
        ("Kimberly", "received"),
        ("Nora", "received"),
    ]

    # The same referral again is one referral and no second email.
    assert (
        refer(env, employee, email="nora@example.com", first_name="Nora", last_name="New").status_code == 202
    )
    settle(env, driver)
    assert len(emails_to("nora@example.com")) == 1
    assert len(env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]) == 2


def test_nothing_but_the_one_email_reaches_an_unconfirmed_referral(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    assert refer(env, employee, email="quiet@example.com").status_code == 202
    settle(env, driver)
    template = json_post(
        env,
        "/v1/templates",
        {"name": "News", "subject": "News", "html": "<p>News</p>", "text": "News"},
        env.auth("recruiter"),
    ).json_body["id"]
    campaign = json_post(
        env,
        "/v1/campaigns",
        {"name": "To referrals", "template_id": template, "audience": {"source": "referral"}},
        env.auth("recruiter"),
    ).json_body["id"]
    launched = json_post(env, f"/v1/campaigns/{campaign}/launch", {}, env.auth("recruiter"))
    assert launched.status_code == 202, launched.body
    sequence = json_post(
        env,
        "/v1/sequences",
        {"name": "Nurture", "steps": [{"template_id": template, "delay_days": 0}]},
        env.auth("recruiter"),
    ).json_body["id"]
    person = candidate_by_email(env, "quiet@example.com")
    json_post(
        env, f"/v1/sequences/{sequence}/enrollments", {"candidate_ids": [person["id"]]}, env.auth("recruiter")
    )
    settle(env, driver)
    subjects = [m["Subject"] for m in emails_to("quiet@example.com")]
    assert len(subjects) == 1 and "recommended you" in subjects[0], subjects


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": None}, "last_name"),
        ({"why": "   "}, "why"),
        ({"job_id": "no-such-job"}, "job_id"),
        ({"email": EMPLOYEE}, "email"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    env: Env, employee: dict[str, str], fields: dict[str, Any], field: str
) -> None:
    body = {"first_name": "Rita", "last_name": "Ref", "email": "rita@example.com", "why": "Great", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    response = json_post(env, "/v1/referrals", body, employee)
    assert response.status_code == 422, response.body
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json_body["errors"]]


def test_a_closed_job_is_422_on_job_id(env: Env, employee: dict[str, str]) -> None:
    job = make_job(env, status="closed")
    response = refer(env, employee, job_id=job["id"])
    assert response.status_code == 422
    assert [e["field"] for e in response.json_body["errors"]] == ["job_id"]


def test_every_group_may_refer_and_an_employee_nothing_else(env: Env, employee: dict[str, str]) -> None:
    manager = login(env, "hm@example.com", "hiring_manager")
    for n, auth in enumerate((employee, manager, env.auth("recruiter"), env.auth("admin"))):
        assert refer(env, auth, email=f"p{n}@example.com").status_code == 202
        assert env.client.http.get("/v1/referrals/mine", headers=auth).status_code == 200
    for method, path in (
        ("GET", "/v1/candidates"),
        ("GET", "/v1/jobs"),
        ("GET", "/v1/referrals"),
        ("GET", "/v1/referrals/report"),
        ("GET", "/v1/pools"),
        ("POST", "/v1/candidates"),
    ):
        response = env.client.http.request(
            method,
            path,
            headers={**employee, "Content-Type": "application/json"},
            body=json.dumps({}).encode(),
        )
        assert response.status_code == 403, (method, path, response.status_code)
    key = json_post(env, "/v1/api-keys", {"name": "ats", "scope": "read-write"}, env.auth("admin")).json_body[
        "key"
    ]
    assert refer(env, {"X-Api-Key": key}).status_code == 403


def test_a_tampered_or_foreign_link_is_refused(env: Env) -> None:
    from crm.platform.signing import sign

    for token in (
        "nonsense",
        sign("portal", {"c": "x", "r": "y"}),
        sign("referral-confirm", {"c": "x", "r": "y"}),
    ):
        page = env.client.http.get(
            f"/public/referrals/confirm?token={token}", headers={"Accept": "text/html"}
        )
        assert page.status_code == 400
        assert "This link does not work" in page.body.decode()
        posted = env.client.http.post(f"/public/referrals/confirm?token={token}")
        assert posted.status_code == 400
        assert posted.headers["Content-Type"].startswith("application/problem+json")


def test_erasing_the_person_takes_their_referrals_and_the_portal_export_names_the_referrer(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    from crm.candidates.service import CandidateService
    from crm.portal.service import export

    assert refer(env, employee, email="gone@example.com", why="Private reasons").status_code == 202
    person = candidate_by_email(env, "gone@example.com")
    exported = export(CandidateService().get(person["id"]))
    (given,) = exported["referrals"]
    assert (
        given["referrer_email"] == EMPLOYEE
        and "why" not in given
        and "Private reasons" not in json.dumps(exported)
    )

    erased = env.client.http.delete(f"/v1/candidates/{person['id']}", headers=env.auth("admin"))
    assert erased.status_code == 204
    assert env.client.http.get("/v1/referrals", headers=env.auth("recruiter")).json_body["items"] == []
    assert env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"] == []


def test_an_idempotency_key_makes_a_retried_referral_a_no_op(
    env: Env, driver: QueueDriver, employee: dict[str, str]
) -> None:
    headers = {**employee, "Idempotency-Key": "ref-1"}
    first = refer(env, headers, email="idem@example.com")
    again = refer(env, headers, email="idem@example.com")
    assert first.status_code == again.status_code == 202
    other = refer(env, headers, email="someone-else@example.com")
    assert other.status_code == 422
    assert [e["field"] for e in other.json_body["errors"]] == ["Idempotency-Key"]
    settle(env, driver)
    assert len(emails_to("idem@example.com")) == 1
    assert emails_to("someone-else@example.com") == []


def test_a_referrer_makes_at_most_the_daily_limit(
    env: Env, employee: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from crm.referrals import service

    monkeypatch.setattr(service, "DAILY_LIMIT", 2)
    for n in range(2):
        assert refer(env, employee, email=f"many{n}@example.com").status_code == 202
    limited = refer(env, employee, email="many2@example.com")
    assert limited.status_code == 429
    assert limited.headers["Content-Type"].startswith("application/problem+json")
    assert refer(env, env.auth("recruiter"), email="many2@example.com").status_code == 202  # theirs only
