"""A person's every email on their profile: a campaign, a status update and a one-to-one email, each
in words with what SES said of it, newest first and paged; mail to recruiters (a reminder) is in
nobody's history."""

from __future__ import annotations

import re

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.ui import mail_history
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import create_campaign, make_candidates
from tests.integration.test_engagement import settle
from tests.integration.test_stage_emails import template
from tests.integration.test_ui import get, session
from tests.support.engagement import QueueDriver, ses_event

__all__ = ["session"]  # the fixture, imported for its name


def rows(body: str) -> list[tuple[str, str]]:
    """(what, state) of each row of the profile's email history."""
    table = body.split('id="mail-history"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r"<tr><td>.*?</td><td>(.*?)</td><td>.*?>([A-Z][a-z]+)</span>", table)
    return [(what.replace("&#39;", "'"), state) for what, state in found]


def test_the_profile_lists_every_email_with_its_state(
    env: Env, driver: QueueDriver, session: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cid,) = make_candidates(env, 1, tag="history")
    campaign = create_campaign(env, {"tags": ["history"]}, name="Spring news")
    launched = env.client.http.post(f"/v1/campaigns/{campaign['id']}/launch", headers=env.auth("recruiter"))
    assert launched.status_code == 202, launched.body
    settle(env, driver)
    (campaign_mail,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    ses_event("Email Delivered", campaign_mail.id)
    ses_event("Email Opened", campaign_mail.id)

    received = template(env, "We have your application")
    stages = [
        {"key": "applied", "name": "Applied", "template_id": received},
        {"key": "hired", "name": "Hired"},
    ]
    job = json_post(env, "/v1/jobs", {"title": "History engineer", "stages": stages}, env.auth("recruiter"))
    assert job.status_code == 201, job.body
    added = json_post(
        env, f"/v1/jobs/{job.json_body['id']}/applications", {"candidate_id": cid}, env.auth("recruiter")
    )
    assert added.status_code == 201, added.body
    settle(env, driver)

    wrote = json_post(
        env,
        f"/v1/candidates/{cid}/emails",
        {"subject": "Coffee next week?", "body": "Hi!"},
        env.auth("recruiter"),
    )
    assert wrote.status_code == 202, wrote.body
    reminder = {"candidate_id": cid, "due_at": "2020-01-01T09:00:00Z", "note": "Call back"}
    assert json_post(env, "/v1/reminders", reminder, env.auth("recruiter")).status_code == 201
    settle(env, driver)
    assert len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages) >= 3

    profile = get(env, f"/ui/candidates/{cid}", session)
    assert profile.status_code == 200
    assert rows(profile.body.decode()) == [
        ("Email: Coffee next week?", "Sent"),
        ("Status update: History engineer, Applied", "Sent"),
        ("Campaign: Spring news", "Opened"),
    ]

    # Paged, newest first: two a page here, and the older page holds the campaign.
    monkeypatch.setattr(mail_history, "PAGE", 2)
    first = get(env, f"/ui/candidates/{cid}", session).body.decode()
    assert [what for what, _ in rows(first)] == [
        "Email: Coffee next week?",
        "Status update: History engineer, Applied",
    ]
    older = re.search(r'href="(/ui/candidates/[^"]+mail_cursor=[^"]+)"', first)
    assert older, "no link to the older emails"
    second = get(env, older.group(1).replace("&amp;", "&"), session).body.decode()
    assert rows(second) == [("Campaign: Spring news", "Opened")]
