"""One-to-one email from a profile: kept on the person's profile with a timeline entry, sent
once as transactional mail (no marketing consent needed; a suppressed address is not mailed),
and its state follows SES's events; bad input, unknown people and erasure leave nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from crm.mailing.suppression import SuppressionRepository
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_engagement import settle
from tests.support.engagement import QueueDriver, sent_messages, ses_event


def write(env: Env, cid: str, body: Any, who: str = "recruiter") -> Any:
    return json_post(env, f"/v1/candidates/{cid}/emails", body, env.auth(who))


def emails(env: Env, cid: str) -> list[dict[str, Any]]:
    response = env.client.http.get(f"/v1/candidates/{cid}/emails", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def test_an_email_is_sent_once_kept_on_the_profile_and_follows_ses(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="outreach", consent=False)  # no marketing consent needed
    body = {"subject": "Your application", "body": "Hi Person0,\n\nAre you free on Friday?\n\n<b>Rita</b>"}
    response = write(env, cid, body)
    assert response.status_code == 202, response.body
    assert response.json_body["state"] == "queued"
    settle(env, driver)
    settle(env, driver)  # a second pass sends nothing more
    (message,) = sent_messages()
    assert str(message["To"]) == "Person0 Test <c0-outreach@example.com>"
    assert message["Subject"] == "Your application"
    assert "Are you free on Friday?" in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "<p>Are you free on Friday?</p>" in html and "&lt;b&gt;Rita&lt;/b&gt;" in html
    assert "List-Unsubscribe" not in message  # one-to-one mail, not a mailing
    (kept,) = emails(env, cid)
    assert kept["subject"] == "Your application" and kept["state"] == "sent"
    assert kept["sender"].startswith("user:")
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    (sent,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    ses_event("Email Delivered", sent.id)
    assert emails(env, cid)[0]["state"] == "delivered"
    ses_event("Email Opened", sent.id)
    ses_event("Email Opened", sent.id)  # SES events arrive at least once
    assert emails(env, cid)[0]["state"] == "opened"
    timeline = env.client.http.get(f"/v1/candidates/{cid}/timeline", headers=env.auth("recruiter")).json_body
    assert [a["detail"]["subject"] for a in timeline["items"] if a["kind"] == "emailed"] == [
        "Your application"
    ]


def test_a_suppressed_address_is_not_mailed_and_the_profile_says_so(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="bounced")
    SuppressionRepository().suppress("c0-bounced@example.com", "bounced", source="test")
    assert write(env, cid, {"subject": "Hello", "body": "Hi"}).status_code == 202
    settle(env, driver)
    assert sent_messages() == []
    (kept,) = emails(env, cid)
    assert (kept["state"], kept["reason"]) == ("not_sent", "suppressed")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"subject": "", "body": "x"},
        {"subject": "Hi", "body": "  "},
        {"subject": "a\nb", "body": "x"},
        {"subject": "Hi", "body": "x", "to": "someone@else.org"},
    ],
)
def test_bad_input_is_a_422_and_nothing_is_kept_or_sent(env: Env, driver: QueueDriver, body: Any) -> None:
    (cid,) = make_candidates(env, 1, tag="badmail")
    response = write(env, cid, body)
    assert response.status_code == 422, response.body
    settle(env, driver)
    assert sent_messages() == [] and emails(env, cid) == []


def test_nobody_is_a_404_and_a_read_key_may_not_send(env: Env, driver: QueueDriver) -> None:
    assert write(env, "nobody", {"subject": "Hi", "body": "x"}).status_code == 404
    assert (
        env.client.http.get("/v1/candidates/nobody/emails", headers=env.auth("recruiter")).status_code == 404
    )
    settle(env, driver)
    assert sent_messages() == []


def test_erasure_removes_the_emails_with_the_person(env: Env, driver: QueueDriver) -> None:
    (cid,) = make_candidates(env, 1, tag="erase")
    assert write(env, cid, {"subject": "Hi", "body": "x"}).status_code == 202
    settle(env, driver)
    erased = env.client.http.request("DELETE", f"/v1/candidates/{cid}", headers=env.auth("admin"))
    assert erased.status_code == 204
    items = boto3_items(env)
    assert not [i for i in items if i["pk"]["S"] == f"CAND#{cid}"]


def boto3_items(env: Env) -> list[dict[str, Any]]:
    import boto3

    return list(boto3.client("dynamodb", region_name="us-east-1").scan(TableName=env.stack.table)["Items"])


def test_the_profile_sends_and_lists_emails(env: Env, driver: QueueDriver) -> None:
    from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in

    cookie = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    (cid,) = make_candidates(env, 1, tag="uimail")
    profile = get(env, f"/ui/candidates/{cid}", cookie).body.decode()
    assert 'href="#email"' in profile and 'id="m-subject"' in profile
    token = csrf_of(profile.encode())
    bad = post_form(env, f"/ui/candidates/{cid}/emails", {"csrf": token, "subject": "", "body": "Hi"}, cookie)
    assert bad.status_code == 422 and 'id="e-subject"' in bad.body.decode()
    fields = {"csrf": token, "subject": "Coffee?", "body": "Hi Person0,\nCoffee next week?"}
    sent = post_form(env, f"/ui/candidates/{cid}/emails", fields, cookie)
    assert sent.status_code == 303 and header(sent, "location").endswith("?done=emailed#emails")
    settle(env, driver)
    page = get(env, f"/ui/candidates/{cid}?done=emailed", cookie).body.decode()
    assert "The email is on its way" in page and "<strong>Coffee?</strong>" in page
    assert "Emailed: “Coffee?”" in page and "by recruiter@example.com" in page
    assert len(sent_messages()) == 1
    # Add to a pool from the profile.
    pool = json_post(env, "/v1/pools", {"name": "Coffee chats"}, env.auth("recruiter")).json_body
    token = csrf_of(get(env, f"/ui/candidates/{cid}", cookie).body)
    moved = post_form(
        env, f"/ui/candidates/{cid}/pools", {"csrf": token, "pool": pool["id"], "stage": "contacted"}, cookie
    )
    assert moved.status_code == 303
    person = env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter")).json_body
    assert person["pools"] == {pool["id"]: "contacted"}
    assert (
        post_form(env, f"/ui/candidates/{cid}/pools", {"csrf": token, "pool": "nope"}, cookie).status_code
        == 404
    )
