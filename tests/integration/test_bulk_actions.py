"""Bulk actions: one change to many people, as a job with progress and an outcome per person.

Each action is applied by the dispatcher (run in-process by the queue driver); a duplicated
queue message or a crash between applying a page and advancing changes nobody twice."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from crm.bulk.service import BulkActionService
from crm.candidates.models import CandidateCreate
from crm.candidates.service import CandidateService
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import TEMPLATE, make_candidates
from tests.support.engagement import QueueDriver


def bulk(env: Env, body: dict[str, Any], who: str = "recruiter") -> Any:
    return json_post(env, "/v1/bulk-actions", body, env.auth(who))


def job(env: Env, bulk_id: str) -> dict[str, Any]:
    response = env.client.http.get(f"/v1/bulk-actions/{bulk_id}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def run(env: Env, driver: QueueDriver, body: dict[str, Any]) -> dict[str, Any]:
    response = bulk(env, body)
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "queued"
    driver.run(only="dispatch")
    env.pump.drain()
    return job(env, response.json_body["id"])


def tags_of(candidate_id: str) -> list[str]:
    return CandidateService().get(candidate_id).tags


def test_add_tags_to_ticked_people_then_again_changes_nobody(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 3, tag="bulky")
    done = run(env, driver, {"action": "add_tags", "candidate_ids": ids[:2], "tags": ["python", "berlin"]})
    assert done["status"] == "done" and done["finished_at"]
    assert (done["total"], done["processed"], done["changed"], done["skipped"]) == (2, 2, 2, 0)
    assert tags_of(ids[0]) == ["berlin", "bulky", "python"] and tags_of(ids[2]) == ["bulky"]
    timeline = CandidateService().timeline(ids[0], limit=5, cursor=None)[0]
    assert timeline[0].kind == "tags_added" and timeline[0].detail["bulk_id"] == done["id"]
    again = run(env, driver, {"action": "add_tags", "candidate_ids": ids[:2], "tags": ["python"]})
    assert (again["changed"], again["skipped"]) == (0, 2)
    assert {s["reason"] for s in again["skipped_people"]} == {"unchanged"}
    assert len(CandidateService().timeline(ids[0], limit=50, cursor=None)[0]) == len(timeline)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 2 people, so a few people make several pages (moto's transactions slow down
    with the table's size, so the tests keep it small)."""
    monkeypatch.setattr("crm.bulk.service.PAGE_SIZE", 2)


def test_all_matching_a_filter_across_pages(env: Env, driver: QueueDriver, small_pages: None) -> None:
    ids = make_candidates(env, 5, tag="many")  # three pages
    make_candidates(env, 2, tag="other")
    done = run(env, driver, {"action": "remove_tags", "filter": {"tag": "many"}, "tags": ["many"]})
    assert (done["total"], done["processed"], done["changed"]) == (5, 5, 5)
    assert all(tags_of(c) == [] for c in ids)


def test_add_to_pool_at_a_stage_skips_members(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 3, tag="pooly")
    pool = json_post(env, "/v1/pools", {"name": "Bulk pool"}, env.auth("recruiter")).json_body
    first = run(env, driver, {"action": "add_to_pool", "candidate_ids": ids[:1], "pool_id": pool["id"]})
    assert first["changed"] == 1
    done = run(
        env,
        driver,
        {"action": "add_to_pool", "candidate_ids": ids, "pool_id": pool["id"], "stage": "contacted"},
    )
    assert (done["changed"], done["skipped"]) == (2, 1)
    assert done["skipped_people"] == [{"candidate_id": ids[0], "reason": "already_in_pool"}]
    people = CandidateService().get_many(ids)
    assert [people[c].pools[pool["id"]] for c in ids] == ["sourced", "contacted", "contacted"]


def test_enrol_reports_who_was_enrolled_and_who_not(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 2, tag="seq")
    template = json_post(env, "/v1/templates", TEMPLATE, env.auth("recruiter")).json_body
    sequence = json_post(
        env,
        "/v1/sequences",
        {"name": "Nurture", "steps": [{"template_id": template["id"], "delay_days": 1}]},
        env.auth("recruiter"),
    ).json_body
    (unwilling,) = make_candidates(env, 1, tag="seq", consent=False, prefix="no")
    body = {
        "action": "enrol",
        "candidate_ids": [*ids, unwilling, "nobody-at-all"],
        "sequence_id": sequence["id"],
    }
    done = run(env, driver, body)
    assert (done["changed"], done["skipped"]) == (2, 2)
    assert sorted(done["skipped_people"], key=lambda s: s["reason"]) == [
        {"candidate_id": unwilling, "reason": "no_consent"},
        {"candidate_id": "nobody-at-all", "reason": "unknown"},
    ]
    again = run(env, driver, {**body, "candidate_ids": ids})
    assert {s["reason"] for s in again["skipped_people"]} == {"already_enrolled"}


def test_export_is_built_from_the_people_as_they_are(env: Env, driver: QueueDriver) -> None:
    ids = make_candidates(env, 2, tag="exp")
    risky = CandidateService().create(
        CandidateCreate(email="formula@example.com", first_name="=cmd", last_name="Risk", tags=["exp"]),
        actor="test",
    )
    env.pump.drain()
    done = run(env, driver, {"action": "export", "filter": {"tag": "exp"}})
    assert done["changed"] == 3
    CandidateService().erase(ids[0], actor="test")
    response = env.client.http.get(f"/v1/bulk-actions/{done['id']}/export", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert {r["id"] for r in rows} == {ids[1], risky.id}  # the erased person is gone
    assert next(r for r in rows if r["id"] == risky.id)["first_name"] == "'=cmd"


def test_a_duplicated_message_counts_once(env: Env, driver: QueueDriver, small_pages: None) -> None:
    ids = make_candidates(env, 5, tag="dup")
    response = bulk(env, {"action": "add_tags", "filter": {"tag": "dup"}, "tags": ["once"]})
    bulk_id = response.json_body["id"]
    # A duplicate of the queue message, delivered while the first is still being worked on.
    from crm.mailing.messages import DispatchRequest
    from crm.platform.config import get_settings
    from crm.platform.queues import send_message

    send_message(
        get_settings().dispatch_queue_url, DispatchRequest(kind="bulk", id=bulk_id).model_dump_json()
    )
    driver.run(only="dispatch")  # the queued message
    assert BulkActionService().run(bulk_id) == 0  # and one more, after it is done
    env.pump.drain()
    done = job(env, bulk_id)
    assert (done["processed"], done["changed"], done["skipped"]) == (5, 5, 0)
    activities = CandidateService().timeline(ids[0], limit=50, cursor=None)[0]
    assert [a.kind for a in activities].count("tags_added") == 1


def test_a_page_recorded_before_a_crash_is_not_applied_again(
    env: Env, driver: QueueDriver, small_pages: None
) -> None:
    ids = make_candidates(env, 3, tag="crash")
    response = bulk(env, {"action": "add_tags", "candidate_ids": ids, "tags": ["x"]})
    bulk_id = response.json_body["id"]
    service = BulkActionService()
    real_advance = service.repository.advance

    def crash(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the function was stopped here")

    service.repository.advance = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        service.run(bulk_id)
    service.repository.advance = real_advance  # type: ignore[method-assign]
    driver.run(only="dispatch")
    done = job(env, bulk_id)
    # The page's outcome was kept, so the retry counts these three as changed, not "unchanged".
    assert (done["status"], done["changed"], done["skipped"]) == ("done", 3, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "add_tags", "candidate_ids": ["a"]}, "tags"),
        ({"action": "add_tags", "filter": {"tag": "x"}, "candidate_ids": ["a"], "tags": ["y"]}, ""),
        ({"action": "add_tags", "tags": ["y"]}, ""),
        ({"action": "add_to_pool", "candidate_ids": ["a"]}, "pool_id"),
        ({"action": "add_to_pool", "candidate_ids": ["a"], "pool_id": "no-such-pool"}, "pool_id"),
        ({"action": "enrol", "candidate_ids": ["a"], "sequence_id": "no-such-sequence"}, "sequence_id"),
        ({"action": "export", "candidate_ids": ["a"], "tags": ["y"]}, "tags"),
        ({"action": "delete_everyone", "candidate_ids": ["a"]}, "action"),
        ({"action": "export", "candidate_ids": []}, "candidate_ids"),
        ({"action": "export", "candidate_ids": ["a"] * 1001}, "candidate_ids"),
        ({"action": "export", "filter": {"tag": "no commas, please!"}}, "filter.tag"),
        ({"action": "export", "filter": {"colour": "red"}}, "filter.colour"),
        ({"action": "export", "candidate_ids": ["a"], "surprise": 1}, "surprise"),
    ],
)
def test_bad_requests_are_422_naming_the_field(env: Env, body: dict[str, Any], field: str) -> None:
    response = bulk(env, body)
    assert response.status_code == 422, response.body
    assert response.headers["Content-Type"].startswith("application/problem+json")
    if field:
        assert field in [e["field"] for e in response.json_body["errors"]], response.body


def test_unknown_job_and_an_export_of_a_tag_change(env: Env, driver: QueueDriver) -> None:
    missing = env.client.http.get("/v1/bulk-actions/nope", headers=env.auth("recruiter"))
    assert missing.status_code == 404
    ids = make_candidates(env, 1, tag="nocsv")
    done = run(env, driver, {"action": "add_tags", "candidate_ids": ids, "tags": ["z"]})
    not_export = env.client.http.get(f"/v1/bulk-actions/{done['id']}/export", headers=env.auth("recruiter"))
    assert not_export.status_code == 404
    listed = env.client.http.get("/v1/bulk-actions", headers=env.auth("recruiter")).json_body
    assert listed["items"][0]["id"] == done["id"]
