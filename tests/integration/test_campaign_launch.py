"""POST /v1/campaigns/{id}/launch reads its body: no body launches at the campaign's own send
time (now when it has none), ``send_at`` schedules, ``now`` sends at once; anything else is a
422 naming the field, never silently ignored."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from crm.platform import clock
from tests.integration.conftest import Env
from tests.integration.test_campaigns import create_campaign, get_campaign, make_candidates


def launch(env: Env, campaign_id: str, body: Any = None, content_type: str = "application/json") -> Any:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = {**env.auth("recruiter"), **({"Content-Type": content_type} if raw else {})}
    return env.client.http.post(f"/v1/campaigns/{campaign_id}/launch", body=raw, headers=headers)


def later(hours: int) -> str:
    return (clock.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def draft(env: Env, local_clock: None) -> dict[str, Any]:
    make_candidates(env, 2, tag="launchy")
    return create_campaign(env, {"tags": ["launchy"]})


@pytest.mark.parametrize("body", [None, {}])
def test_no_body_launches_now_when_there_is_no_send_time(env: Env, draft: dict[str, Any], body: Any) -> None:
    response = launch(env, draft["id"], body)
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "sending"


def test_a_body_send_at_schedules_it(env: Env, draft: dict[str, Any]) -> None:
    at = later(5)
    response = launch(env, draft["id"], {"send_at": at})
    assert response.status_code == 202, response.body
    campaign = get_campaign(env, draft["id"])
    assert campaign["status"] == "scheduled" and campaign["send_at"].startswith(at[:19])


def test_now_true_sends_at_once_whatever_send_time_it_had(env: Env, local_clock: None) -> None:
    make_candidates(env, 1, tag="nowish")
    campaign = create_campaign(env, {"tags": ["nowish"]}, send_at=later(24))
    response = launch(env, campaign["id"], {"now": True})
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "sending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"send_at": "2001-01-01T00:00:00Z"}, "send_at"),  # in the past
        ({"send_at": "tomorrow"}, "send_at"),
        ({"send_at": "2030-01-01T09:00:00"}, "send_at"),  # no time zone
        ({"now": True, "send_at": "2030-01-01T09:00:00Z"}, "body"),
        ({"now": "soon"}, "now"),
        ({"sendAt": "2030-01-01T09:00:00Z"}, "sendAt"),  # an unknown field is refused, not ignored
    ],
)
def test_a_bad_launch_is_a_422_and_leaves_a_draft(
    env: Env, draft: dict[str, Any], body: Any, field: str
) -> None:
    response = launch(env, draft["id"], body)
    assert response.status_code == 422, response.body
    assert field in {e["field"] for e in response.json_body["errors"]}, response.body
    assert get_campaign(env, draft["id"])["status"] == "draft"


def test_a_body_that_is_not_json_is_refused(env: Env, draft: dict[str, Any]) -> None:
    assert launch(env, draft["id"], b"send it", content_type="text/plain").status_code == 415
    assert launch(env, draft["id"], b"{not json").status_code == 400
    assert get_campaign(env, draft["id"])["status"] == "draft"
