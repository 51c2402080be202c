"""The recruiter UI's dashboard: four server-drawn SVG charts, each with its numbers as a table."""

from __future__ import annotations

import re
from typing import Any

from crm.campaigns.repository import campaign_key
from crm.platform import table
from tests.integration.conftest import Env, json_post
from tests.integration.test_ui import get, make_candidate, session  # noqa: F401 - the fixture

HOSTILE = "<script>alert(1)</script>"
TEMPLATE = {"name": "Hi", "subject": "Hi {{ first_name }}", "html": "<p>Hi</p>", "text": "Hi"}


def _post(env: Env, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = json_post(env, path, body, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def _seed(env: Env) -> dict[str, Any]:
    engineering = _post(env, "/v1/pools", {"name": "Engineering"})
    hostile = _post(env, "/v1/pools", {"name": HOSTILE})
    people = []
    for i, source in enumerate(["linkedin", "linkedin", "linkedin", "referral", "referral", "api"]):
        people.append(make_candidate(env, email=f"p{i}@example.com", first_name=f"P{i}", source=source))
    memberships = [
        (engineering, 0, "sourced"),
        (engineering, 1, "sourced"),
        (engineering, 2, "interview"),
        (hostile, 3, "interview"),
        (hostile, 4, "offer"),
    ]
    for pool, index, stage in memberships:
        _post(env, f"/v1/pools/{pool['id']}/members", {"candidate_id": people[index]["id"], "stage": stage})
    template = _post(env, "/v1/templates", TEMPLATE)
    campaign = _post(env, "/v1/campaigns", {"name": f"Spring {HOSTILE}", "template_id": template["id"]})
    pk, sk = campaign_key(campaign["id"])
    stats = {"recipients": 120, "sent": 118, "delivered": 110, "opened": 64, "clicked": 17, "bounced": 3}
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(pk, sk),
        UpdateExpression="SET " + ", ".join(f"stat_{k} = :{k}" for k in stats),
        ExpressionAttributeValues={f":{k}": {"N": str(v)} for k, v in stats.items()},
    )
    for due, note in (("2020-01-01T09:00:00Z", "call P0 back"), ("2099-01-01T09:00:00Z", "later")):
        _post(env, "/v1/reminders", {"candidate_id": people[0]["id"], "due_at": due, "note": note})
    env.pump.drain()
    return {"engineering": engineering, "hostile": hostile, "campaign": campaign}


def _row(body: str, label: str) -> list[str]:
    """The numbers of the table row whose heading contains ``label``."""
    match = re.search(rf"<tr><th scope=\"row\">[^\n]*?{re.escape(label)}[^\n]*?</th>(.*?)</tr>", body)
    assert match, label
    return re.findall(r'<td class="num">([^<]*)</td>', match.group(1))


def test_dashboard_draws_four_charts_with_their_numbers(env: Env, session: str) -> None:  # noqa: F811
    seeded = _seed(env)
    response = get(env, "/ui/", session)
    assert response.status_code == 200
    body = response.body.decode()
    assert len(response.body) < 200_000
    assert body.count("<svg ") == 4 and body.count('role="img"') == 4
    assert body.count("<desc id=") == 4 and body.count("Show the numbers") == 4
    # no script but the UI's own file (nor the hostile)
    assert re.search(r"<script(?![^>]*\bsrc=\"/ui/static/ui\.js\")", body.lower()) is None

    # (1) pipeline: per pool and in total (sourced, interview, offer)
    assert _row(body, "Engineering") == ["2", "1", "0", "3"]
    assert _row(body, "&lt;script&gt;alert(1)&lt;/script&gt;") == ["0", "1", "1", "2"]
    assert _row(body, "All pools") == ["2", "2", "1", "5"]
    assert f'href="/ui/pools/{seeded["engineering"]["id"]}"' in body
    # (2) sources, most first, each linking to its candidates
    assert (
        _row(body, "linkedin") == ["3"] and _row(body, "referral") == ["2"] and _row(body, ">api<") == ["1"]
    )
    assert body.index(">linkedin</a>") < body.index(">referral</a>") < body.index(">api</a>")
    assert 'href="/ui/candidates?source=linkedin"' in body
    # (3) the campaign's engagement: sent, delivered, opened, clicked, bounced
    assert _row(body, "Spring") == ["118", "110", "64", "17", "3"]
    assert f'href="/ui/campaigns/{seeded["campaign"]["id"]}"' in body
    # (4) my reminders: one due now, one later
    assert re.search(r'id="due-count">1<', body)
    assert _row(body, "Due now") == ["1"] and _row(body, "Later") == ["1"]
    assert 'href="/ui/reminders"' in body
    # hostile names are text, in the tables and in the SVG titles alike
    assert HOSTILE not in body
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3


def test_an_empty_dashboard_says_so(env: Env, session: str) -> None:  # noqa: F811
    response = get(env, "/ui/", session)
    assert response.status_code == 200
    body = response.body.decode()
    assert body.count("<svg ") == 4
    for text in (
        "No pool has members yet.",
        "No candidates yet.",
        "No campaigns yet.",
        "You have no reminders.",
    ):
        assert text in body
    assert re.search(r'id="due-count">0<', body)
