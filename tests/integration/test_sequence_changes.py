"""Changing a running sequence (pause, resume, new steps), taking someone out of it, the
per-person enrolment report and the enrolment counters on the sequence item, over the HTTP API,
with the due-work tick and the queue consumers in-process and the local clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crm.mailing.suppression import SuppressionList
from crm.platform import clock, table
from crm.sequences.repository import sequence_key
from crm.sequences.service import SequenceService
from tests.integration.conftest import Env, json_post
from tests.integration.test_campaigns import make_candidates
from tests.integration.test_engagement import DAY, HOUR, emails_to, settle, template_id, tick
from tests.support.engagement import QueueDriver, sent_messages


def patch(env: Env, path: str, body: Any, who: str = "recruiter") -> Any:
    return env.client.http.patch(
        path, body=json.dumps(body), headers={**env.auth(who), "Content-Type": "application/json"}
    )


def delete(env: Env, path: str, who: str = "recruiter") -> Any:
    return env.client.http.delete(path, headers=env.auth(who))


def get(env: Env, path: str) -> Any:
    response = env.client.http.get(path, headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return response.json_body


def new_sequence(env: Env, delays: list[float], name: str = "Nurture") -> dict[str, Any]:
    steps = [
        {"template_id": template_id(env, f"Step{i + 1} {{{{ first_name }}}}"), "delay_days": d}
        for i, d in enumerate(delays)
    ]
    response = json_post(env, "/v1/sequences", {"name": name, "steps": steps}, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def enrol(env: Env, sid: str, ids: list[str]) -> dict[str, Any]:
    response = json_post(
        env, f"/v1/sequences/{sid}/enrollments", {"candidate_ids": ids}, env.auth("recruiter")
    )
    assert response.status_code == 202, response.body
    return dict(response.json_body)


def subjects(address: str) -> list[str]:
    return [str(m["Subject"]).split(" ")[0] for m in emails_to(address)]


def run(env: Env, driver: QueueDriver, seconds: float = 0) -> None:
    if seconds:
        clock.advance(seconds)
    tick()
    settle(env, driver)


def counts(env: Env, sid: str) -> dict[str, int]:
    (listed,) = [s for s in get(env, "/v1/sequences")["items"] if s["id"] == sid]
    assert listed["counts"] == get(env, f"/v1/sequences/{sid}")["counts"]
    return dict(listed["counts"])


# ------------------------------------------------------------------------------- pause and resume


def test_pause_holds_due_steps_and_resume_sends_them_at_once(env: Env, driver: QueueDriver) -> None:
    sequence = new_sequence(env, [0, 1])
    sid = sequence["id"]
    assert (sequence["status"], sequence["version"]) == ("active", 1)
    ids = make_candidates(env, 2, tag="pause")
    enrol(env, sid, ids[:1])
    paused = patch(env, f"/v1/sequences/{sid}", {"version": 1, "status": "paused"})
    assert paused.status_code == 200, paused.body
    assert (paused.json_body["status"], paused.json_body["version"]) == ("paused", 2)
    assert paused.json_body["paused_at"]
    # Enrolling into a paused sequence is allowed, and waits too.
    assert enrol(env, sid, ids[1:])["enrolled_ids"] == ids[1:]
    run(env, driver)
    run(env, driver, 3 * DAY)
    assert sent_messages() == []
    (held, _) = SequenceService().enrollments_page(sid, limit=10, cursor=None)
    assert all(e.held and e.state == "active" and e.next_step == 0 for e in held)
    assert counts(env, sid) == {"enrolled": 2, "active": 2, "completed": 0, "stopped": 0}
    # Pausing again is no change (same status): the version still moves, nothing else.
    again = patch(env, f"/v1/sequences/{sid}", {"version": 2, "status": "paused"})
    assert again.status_code == 200 and again.json_body["version"] == 3
    resumed = patch(env, f"/v1/sequences/{sid}", {"version": 3, "status": "active"})
    assert resumed.status_code == 200, resumed.body
    assert resumed.json_body["status"] == "active" and resumed.json_body["paused_at"] is None
    run(env, driver)  # the next tick sends what was held, at once
    assert subjects("c0-pause@") == ["Step1"] and subjects("c1-pause@") == ["Step1"]
    # The next step follows its own delay from then (not shifted, not lost, not twice).
    run(env, driver, DAY - HOUR)
    assert len(sent_messages()) == 2
    run(env, driver, 2 * HOUR)
    assert subjects("c0-pause@") == ["Step1", "Step2"] and subjects("c1-pause@") == ["Step1", "Step2"]
    run(env, driver, 5 * DAY)
    assert len(sent_messages()) == 4
    assert counts(env, sid) == {"enrolled": 2, "active": 0, "completed": 2, "stopped": 0}


def test_resume_releases_more_than_a_page_over_ticks(
    env: Env, driver: QueueDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crm.sequences.repository as repository
    import crm.workflows.due_work as due_work

    monkeypatch.setattr(due_work, "RELEASE_PAGE", 2)
    monkeypatch.setattr(repository, "RELEASE_PAGE", 2)
    monkeypatch.setattr(
        repository.SequenceRepository, "held_page", lambda self, sid, limit=2: _held(sid, limit)
    )
    sid = new_sequence(env, [0])["id"]
    ids = make_candidates(env, 3, tag="pages")
    patch(env, f"/v1/sequences/{sid}", {"version": 1, "status": "paused"})
    enrol(env, sid, ids)
    run(env, driver)
    assert sent_messages() == []
    patch(env, f"/v1/sequences/{sid}", {"version": 2, "status": "active"})
    run(env, driver)
    assert len(sent_messages()) == 2
    run(env, driver, 60)
    assert len(sent_messages()) == 3
    item = table.get_item(f"SEQ#{sid}", "SEQUENCE")
    assert item and "gsi2pk" not in item  # the release marker is gone once nothing is held
    assert counts(env, sid)["completed"] == 3


def _held(sid: str, limit: int) -> list[dict[str, Any]]:
    response = table.query(
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :held",
        ExpressionAttributeValues={":held": {"S": f"SEQHELD#{sid}"}},
        Limit=limit,
    )
    return [table.from_item(i) for i in response.get("Items", [])]


def test_new_steps_apply_from_each_persons_position(env: Env, driver: QueueDriver) -> None:
    sequence = new_sequence(env, [0, 1, 1])
    sid = sequence["id"]
    ids = make_candidates(env, 2, tag="edit")
    enrol(env, sid, ids)
    run(env, driver)  # step 1 to both
    run(env, driver, DAY + 60)  # step 2 to both
    assert subjects("c0-edit@") == ["Step1", "Step2"]
    # Replace step 3, and add a fourth: they continue at step 3 with the new template.
    new_third = template_id(env, "New3 {{ first_name }}")
    fourth = template_id(env, "New4 {{ first_name }}")
    steps = [
        *sequence["steps"][:2],
        {"template_id": new_third, "delay_days": 1},
        {"template_id": fourth, "delay_days": 0},
    ]
    changed = patch(env, f"/v1/sequences/{sid}", {"version": 1, "steps": steps, "name": "Renamed"})
    assert changed.status_code == 200, changed.body
    assert changed.json_body["name"] == "Renamed" and len(changed.json_body["steps"]) == 4
    run(env, driver, DAY + 60)
    run(env, driver, 60)  # a step with no wait goes at the tick after the previous one
    assert subjects("c0-edit@") == ["Step1", "Step2", "New3", "New4"]
    assert counts(env, sid) == {"enrolled": 2, "active": 0, "completed": 2, "stopped": 0}


def test_removing_steps_past_someones_position_completes_them(env: Env, driver: QueueDriver) -> None:
    sequence = new_sequence(env, [0, 2, 2])
    sid = sequence["id"]
    early, late = make_candidates(env, 2, tag="short")
    enrol(env, sid, [early])
    run(env, driver)  # early: step 1 sent, step 2 waiting
    enrol(env, sid, [late])  # late: step 1 waiting (delay 0, next tick)
    shorter = patch(env, f"/v1/sequences/{sid}", {"version": 1, "steps": sequence["steps"][:1]})
    assert shorter.status_code == 200, shorter.body
    assert SequenceService().enrollment(early, sid).state == "completed"  # type: ignore[union-attr]
    assert SequenceService().enrollment(late, sid).state == "active"  # type: ignore[union-attr]
    assert counts(env, sid) == {"enrolled": 2, "active": 1, "completed": 1, "stopped": 0}
    run(env, driver, 5 * DAY)
    assert subjects("c0-short@") == ["Step1"] and subjects("c1-short@") == ["Step1"]
    assert counts(env, sid) == {"enrolled": 2, "active": 0, "completed": 2, "stopped": 0}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"status": "paused"}, 422, "version"),
        ({"version": 1, "status": "stopped"}, 422, "status"),
        ({"version": 1, "status": None}, 422, "status"),
        ({"version": 1, "name": None}, 422, "name"),
        ({"version": 1, "name": ""}, 422, "name"),
        ({"version": 1, "colour": "red"}, 422, "colour"),
        ({"version": 1, "steps": []}, 422, "steps"),
        ({"version": 1, "steps": [{"template_id": "missing", "delay_days": 1}]}, 422, "steps.0.template_id"),
        ({"version": 1, "steps": [{"template_id": "TEMPLATE", "delay_days": -1}]}, 422, "steps.0.delay_days"),
        ({"version": 1, "stop_on": ["never"]}, 422, "stop_on.0"),
        ({"version": "1", "status": "paused"}, 422, "version"),
        ({"version": 0, "status": "paused"}, 422, "version"),
        ({"version": 7, "status": "paused"}, 409, None),
    ],
)
def test_bad_changes_are_refused_naming_the_field(
    env: Env, body: dict[str, Any], status: int, field: str | None
) -> None:
    sequence = new_sequence(env, [1])
    body = json.loads(json.dumps(body).replace('"TEMPLATE"', json.dumps(sequence["steps"][0]["template_id"])))
    response = patch(env, f"/v1/sequences/{sequence['id']}", body)
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    if field:
        assert field in [e["field"] for e in response.json_body["errors"]], response.json_body
    after = get(env, f"/v1/sequences/{sequence['id']}")
    assert (after["version"], after["status"], after["steps"]) == (1, "active", sequence["steps"])


def test_changes_to_what_is_not_there(env: Env) -> None:
    assert patch(env, "/v1/sequences/nope", {"version": 1, "status": "paused"}).status_code == 404
    sid = new_sequence(env, [1])["id"]
    for raw in ("{", "[]", '"paused"'):
        response = env.client.http.patch(
            f"/v1/sequences/{sid}",
            body=raw,
            headers={**env.auth("recruiter"), "Content-Type": "application/json"},
        )
        assert response.status_code in (400, 422), (raw, response.body)
    stale = patch(env, f"/v1/sequences/{sid}", {"version": 1, "name": "A"})
    assert stale.status_code == 200
    conflict = patch(env, f"/v1/sequences/{sid}", {"version": 1, "name": "B"})
    assert conflict.status_code == 409 and conflict.json_body["status"] == 409
    assert get(env, f"/v1/sequences/{sid}")["name"] == "A"


# ------------------------------------------------------------------------------- unenrol


def test_unenrol_stops_sending_records_it_and_a_second_time_is_404(env: Env, driver: QueueDriver) -> None:
    sid = new_sequence(env, [0, 1], name="Autumn")["id"]
    leaver, stayer = make_candidates(env, 2, tag="leave")
    enrol(env, sid, [leaver, stayer])
    run(env, driver)
    gone = delete(env, f"/v1/sequences/{sid}/enrollments/{leaver}")
    assert gone.status_code == 204, gone.body
    again = delete(env, f"/v1/sequences/{sid}/enrollments/{leaver}")
    assert again.status_code == 404 and again.headers["Content-Type"] == "application/problem+json"
    assert SequenceService().enrollment(leaver, sid) is None
    run(env, driver, 2 * DAY)
    assert subjects("c0-leave@") == ["Step1"] and subjects("c1-leave@") == ["Step1", "Step2"]
    assert counts(env, sid) == {"enrolled": 1, "active": 0, "completed": 1, "stopped": 0}
    timeline = get(env, f"/v1/candidates/{leaver}/timeline")["items"]
    assert timeline[0]["kind"] == "sequence_unenrolled"
    assert timeline[0]["detail"] == {
        "sequence_id": sid,
        "sequence_name": "Autumn",
        "state": "active",
        "steps_sent": 1,
    }
    from crm.candidates.models import Activity
    from crm.candidates.timeline import Names, describe

    words = describe(Activity.model_validate(timeline[0]), Names())
    assert words == "Taken out of the sequence “Autumn” after 1 step sent; nothing more from it is sent"
    # They may be enrolled again later: a fresh enrolment (steps already sent are not sent twice).
    assert enrol(env, sid, [leaver])["enrolled_ids"] == [leaver]


def test_a_step_queued_before_unenrolling_is_not_sent(env: Env, driver: QueueDriver) -> None:
    sid = new_sequence(env, [0])["id"]
    (cid,) = make_candidates(env, 1, tag="queued")
    enrol(env, sid, [cid])
    tick()  # queued on the mail queue, not yet sent
    assert delete(env, f"/v1/sequences/{sid}/enrollments/{cid}").status_code == 204
    settle(env, driver)
    assert sent_messages() == []


def test_unenrol_bad_input(env: Env) -> None:
    sid = new_sequence(env, [1])["id"]
    (cid,) = make_candidates(env, 1, tag="unknownseq")
    for path in (
        f"/v1/sequences/nope/enrollments/{cid}",
        f"/v1/sequences/{sid}/enrollments/{cid}",
        f"/v1/sequences/{sid}/enrollments/nobody",
    ):
        response = delete(env, path)
        assert response.status_code == 404, (path, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
    assert env.client.http.delete(f"/v1/sequences/{sid}/enrollments/{cid}").status_code == 401


# ------------------------------------------------------------------------------- enrolment report


def test_enrolment_reports_each_person(env: Env) -> None:
    sid = new_sequence(env, [1])["id"]
    ok, bounced = make_candidates(env, 2, tag="report")
    (silent,) = make_candidates(env, 1, tag="report", consent=False, prefix="n")
    SuppressionList().suppress("c1-report@example.com", "bounced", source="test")
    report = enrol(env, sid, [ok, bounced, silent, "nobody", ok])
    assert report["enrolled_ids"] == [ok] and report["enrolled"] == 1
    assert report["skipped"] == [
        {"candidate_id": bounced, "reason": "suppressed"},
        {"candidate_id": silent, "reason": "no_consent"},
        {"candidate_id": "nobody", "reason": "unknown"},
    ]
    assert report["not_found"] == ["nobody"] and report["already_enrolled"] == 0
    again = enrol(env, sid, [ok])
    assert again["enrolled_ids"] == [] and again["skipped"] == [
        {"candidate_id": ok, "reason": "already_enrolled"}
    ]
    assert counts(env, sid) == {"enrolled": 1, "active": 1, "completed": 0, "stopped": 0}


def test_the_report_service_method_is_idempotent(env: Env) -> None:
    sid = new_sequence(env, [1])["id"]
    ids = make_candidates(env, 3, tag="bulk")
    service = SequenceService()
    first = service.enroll_candidates(sid, ids[:2])
    second = service.enroll_candidates(sid, ids)
    assert first.enrolled_ids == ids[:2] and second.enrolled_ids == ids[2:]
    assert [(s.candidate_id, s.reason) for s in second.skipped] == [(c, "already_enrolled") for c in ids[:2]]
    assert counts(env, sid) == {"enrolled": 3, "active": 3, "completed": 0, "stopped": 0}


# ------------------------------------------------------------------------------- counters


def test_counters_follow_every_change_and_a_retry_counts_nothing(env: Env, driver: QueueDriver) -> None:
    sid = new_sequence(env, [0])["id"]
    ids = make_candidates(env, 3, tag="count")
    assert counts(env, sid) == {"enrolled": 0, "active": 0, "completed": 0, "stopped": 0}
    enrol(env, sid, ids)
    service = SequenceService()
    assert service.stop(ids[0], sid, reason="applied", now="2026-01-01T00:00:00Z")
    assert not service.stop(ids[0], sid, reason="applied", now="2026-01-01T00:00:00Z")  # a retry
    assert service.advance(ids[1], sid, step=0, next_due_at=None)
    assert not service.advance(ids[1], sid, step=0, next_due_at=None)  # a redelivered tick
    assert counts(env, sid) == {"enrolled": 3, "active": 1, "completed": 1, "stopped": 1}
    run(env, driver)
    assert counts(env, sid) == {"enrolled": 3, "active": 0, "completed": 2, "stopped": 1}
    assert get(env, f"/v1/sequences/{sid}")["enrollments"] == {"completed": 2, "stopped": 1}


def test_a_sequence_stored_before_counters_is_counted_once(env: Env) -> None:
    sid = new_sequence(env, [1])["id"]
    ids = make_candidates(env, 2, tag="old")
    enrol(env, sid, ids)
    SequenceService().stop(ids[0], sid, reason="applied", now="2026-01-01T00:00:00Z")
    # As a sequence written before this change looks: no counters, no version, no status.
    table.update(
        sequence_key(sid),
        "REMOVE enrolled_count, active_count, completed_count, stopped_count, counted, changes, version, #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    assert counts(env, sid) == {"enrolled": 2, "active": 1, "completed": 0, "stopped": 1}
    item = table.get_item(f"SEQ#{sid}", "SEQUENCE")
    assert item and item["counted"] == {"BOOL": True} and item["active_count"] == {"N": "1"}
    listed = get(env, f"/v1/sequences/{sid}")
    assert (listed["version"], listed["status"]) == (1, "active")
    assert patch(env, f"/v1/sequences/{sid}", {"version": 1, "status": "paused"}).status_code == 200


def test_nothing_is_queued_while_paused_for_someone_who_moved_on(
    env: Env, driver: QueueDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = new_sequence(env, [0])["id"]
    (cid,) = make_candidates(env, 1, tag="moved")
    enrol(env, sid, [cid])
    patch(env, f"/v1/sequences/{sid}", {"version": 1, "status": "paused"})
    hold = SequenceService.hold

    def stopped_first(self: SequenceService, candidate_id: str, sequence_id: str, *, step: int) -> bool:
        self.stop(candidate_id, sequence_id, reason="applied", now="2026-01-01T00:00:00Z")
        return hold(self, candidate_id, sequence_id, step=step)

    monkeypatch.setattr(SequenceService, "hold", stopped_first)
    assert tick()["sequence_steps"] == 0
    settle(env, driver)
    assert sent_messages() == []
    assert counts(env, sid) == {"enrolled": 1, "active": 0, "completed": 0, "stopped": 1}
