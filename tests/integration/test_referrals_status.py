"""A referral's status, to its referrer: once the referred person confirms, the referral follows
their application in four words, and each change mails the referrer once (a replayed stream
record sends nothing more); nothing from feedback or notes reaches them; before confirmation the
referrer sees "received" whatever happens. Recruiters read the report: by referrer, by job, hires
and the median time from referral to hire."""

from __future__ import annotations

import json
from typing import Any

from crm.platform import clock
from crm.workflows.reactions import react
from tests.integration.conftest import Env, json_post
from tests.integration.test_referrals import (
    EMPLOYEE,
    applications_of,
    candidate_by_email,
    confirm_path,
    emails_to,
    login,
    make_job,
    refer,
    settle,
)
from tests.support.engagement import QueueDriver

DAY = 24 * 3600


def confirmed_referral(
    env: Env, driver: QueueDriver, employee: dict[str, str], job: dict[str, Any], email: str
) -> dict[str, Any]:
    assert (
        refer(env, employee, email=email, job_id=job["id"], first_name="Ola", last_name="Stat").status_code
        == 202
    )
    settle(env, driver)
    (invite,) = emails_to(email)
    confirmed = env.client.http.post(
        confirm_path(invite), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert confirmed.status_code == 200
    settle(env, driver)
    (application,) = applications_of(env, candidate_by_email(env, email)["id"])
    return application


def move(env: Env, application_id: str, stage: str, **extra: Any) -> dict[str, Any]:
    current = env.client.http.get(
        f"/v1/applications/{application_id}", headers=env.auth("recruiter")
    ).json_body
    response = env.client.http.patch(
        f"/v1/applications/{application_id}",
        body=json.dumps({"stage": stage, "version": current["version"], **extra}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def status_mails() -> list[Any]:
    return [m for m in emails_to(EMPLOYEE) if str(m["Subject"]).startswith("Your referral of")]


def my_status(env: Env, employee: dict[str, str]) -> list[str]:
    return [
        r["status"] for r in env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    ]


def test_each_change_of_status_mails_the_referrer_once(env: Env, driver: QueueDriver) -> None:
    employee = login(env, EMPLOYEE, "employee")
    job = make_job(env, title="Data engineer", scorecard=["Python"], interviews=["Interview"])
    application = confirmed_referral(env, driver, employee, job, "ola@example.com")
    assert my_status(env, employee) == ["received"] and status_mails() == []

    before = env.client.http.get(
        f"/v1/applications/{application['id']}", headers=env.auth("recruiter")
    ).json_body
    after = move(env, application["id"], "screen")
    settle(env, driver)
    (first,) = status_mails()
    assert first["Subject"] == "Your referral of Ola Stat: In process"
    assert "Data engineer" in first.get_body(("plain",)).get_content()
    assert my_status(env, employee) == ["in_process"]

    # The stream delivers the same record again (at least once): nothing more is sent.
    keys = {"pk": f"CAND#{application['candidate_id']}", "sk": f"APP#{job['id']}"}
    for _ in range(2):
        react("MODIFY", keys, before, after)
    settle(env, driver)
    assert len(status_mails()) == 1

    # Within "in process" nothing changes for the referrer; notes and feedback never reach them.
    note = json_post(
        env,
        f"/v1/candidates/{application['candidate_id']}/notes",
        {"body": "Secret: salary too high"},
        env.auth("recruiter"),
    )
    assert note.status_code == 201
    given = json_post(
        env,
        f"/v1/applications/{application['id']}/feedback",
        {
            "interview": "Interview",
            "ratings": {"Python": 1},
            "recommendation": "strong_no",
            "notes": "Weak SQL",
        },
        env.auth("recruiter"),
    )
    assert given.status_code == 201, given.body
    move(env, application["id"], "interview")
    settle(env, driver)
    assert len(status_mails()) == 1

    clock.advance(12 * DAY)
    move(env, application["id"], "hired")
    settle(env, driver)
    subjects = [m["Subject"] for m in status_mails()]
    assert subjects == ["Your referral of Ola Stat: In process", "Your referral of Ola Stat: Hired"]
    for mail in status_mails():
        text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
        for secret in ("salary", "Weak SQL", "strong_no", "Strong no", "Interview"):
            assert secret not in text, secret
    mine = env.client.http.get("/v1/referrals/mine", headers=employee).json_body["items"]
    assert (mine[0]["status"], mine[0]["status_label"]) == ("hired", "Hired")
    assert set(mine[0]) == {
        "id",
        "first_name",
        "last_name",
        "job_id",
        "job_title",
        "channel",
        "status",
        "status_label",
        "referred_at",
        "status_at",
    }

    report = env.client.http.get("/v1/referrals/report", headers=env.auth("recruiter")).json_body
    assert (report["referrals"], report["confirmed"], report["hires"]) == (1, 1, 1)
    assert 11.9 <= report["median_days_to_hire"] <= 12.1
    assert report["by_referrer"] == [{"referrer_email": EMPLOYEE, "referrals": 1, "confirmed": 1, "hired": 1}]
    assert report["by_job"] == [
        {"job_id": job["id"], "job_title": "Data engineer", "referrals": 1, "hired": 1}
    ]
    hired = env.client.http.get("/v1/referrals?status=hired", headers=env.auth("recruiter")).json_body[
        "items"
    ]
    assert [r["hired_at"] is not None for r in hired] == [True]


def test_a_rejection_reads_not_selected(env: Env, driver: QueueDriver) -> None:
    employee = login(env, EMPLOYEE, "employee")
    job = make_job(env)
    application = confirmed_referral(env, driver, employee, job, "nat@example.com")
    move(env, application["id"], "rejected", reason="Not enough experience")
    settle(env, driver)
    (mail,) = status_mails()
    assert mail["Subject"] == "Your referral of Ola Stat: Not selected"
    assert "experience" not in mail.get_body(("plain",)).get_content()
    assert my_status(env, employee) == ["not_selected"]


def test_before_the_person_confirms_the_referrer_sees_received_whatever_happens(
    env: Env, driver: QueueDriver
) -> None:
    employee = login(env, EMPLOYEE, "employee")
    job = make_job(env)
    # Someone already applying to the job is referred: their application stays their own.
    body = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Already"}
    assert json_post(env, f"/public/jobs/{job['id']}/applications", body).status_code == 202
    settle(env, driver)
    (application,) = applications_of(env, candidate_by_email(env, "ann@example.com")["id"])
    move(env, application["id"], "interview")
    assert (
        refer(
            env, employee, email="ann@example.com", job_id=job["id"], first_name="Ann", last_name="A"
        ).status_code
        == 202
    )
    settle(env, driver)
    move(env, application["id"], "offer")
    settle(env, driver)
    assert my_status(env, employee) == ["received"] and status_mails() == []

    # Once they confirm, the referral takes the application's status (no email for that), and
    # follows it from then on.
    (invite,) = emails_to("ann@example.com")[-1:]
    assert "recommended you" in invite["Subject"]
    env.client.http.post(confirm_path(invite), headers={"Content-Type": "application/x-www-form-urlencoded"})
    settle(env, driver)
    assert my_status(env, employee) == ["in_process"] and status_mails() == []
    assert len(applications_of(env, application["candidate_id"])) == 1
    move(env, application["id"], "hired")
    settle(env, driver)
    assert [m["Subject"] for m in status_mails()] == ["Your referral of Ann A: Hired"]
