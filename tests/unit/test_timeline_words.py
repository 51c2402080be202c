"""The timeline in words: each kind of activity as a sentence, edits with old and new values,
authors by email or key name, never a raw ``user:<uuid>``."""

from __future__ import annotations

from typing import Any

from crm.candidates.models import Activity
from crm.candidates.timeline import Names, actor_label, actor_refs, change_lines, describe, referenced

NAMES = Names(
    jobs={"j1": "Data engineer"},
    pools={"p1": "Berlin Python"},
    users={"sub-1": "rita@example.com"},
    keys={"k1": "ATS sync"},
)


def act(kind: str, actor: str = "user:sub-1", **detail: Any) -> Activity:
    return Activity(
        id="a", candidate_id="c", kind=kind, actor=actor, at="2026-12-01T09:00:00Z", detail=detail
    )


def test_each_kind_reads_as_a_sentence() -> None:
    assert describe(act("created", source="recruiter"), NAMES) == "Added (source: recruiter)"
    assert (
        describe(act("applied", job_id="j1", resume=True), NAMES) == "Applied to Data engineer with a resume"
    )
    assert describe(act("applied", job_id="gone"), NAMES) == "Applied to a job that no longer exists"
    assert describe(act("pool_stage_set", pool_id="p1", stage="interview"), NAMES) == (
        "Put in Berlin Python at stage “interview”"
    )
    assert describe(act("pool_removed", pool_id="p1"), NAMES) == "Removed from Berlin Python"
    moved = act("stage_changed", job_id="j1", to="phone", to_name="Phone screen", reason=None)
    moved.detail.update({"from": "applied", "from_name": "Applied"})
    assert describe(moved, NAMES) == "Moved from “Applied” to “Phone screen” for Data engineer"
    # A move recorded before stage names were kept reads with the keys.
    old = act("stage_changed", job_id="j1", to="offer", reason="Salary")
    old.detail["from"] = "interview"
    assert describe(old, NAMES) == "Moved from “interview” to “offer” for Data engineer (Salary)"
    assert describe(act("unsubscribed", topic="marketing"), NAMES) == "Unsubscribed from marketing email"
    assert describe(act("merged", source="talent-network", tags_added=["go"]), NAMES).endswith(
        "tags added: go"
    )
    assert describe(act("something_new"), NAMES) == "Something new"


def test_an_edit_lists_old_and_new_values() -> None:
    detail = {
        "fields": ["location", "marketing_consent", "tags"],
        "changes": {
            "location": {"from": "Berlin", "to": "Munich"},
            "tags": {"from": ["go"], "to": ["go", "rust"]},
            "marketing_consent": {"from": None, "to": True},
        },
    }
    assert change_lines(detail) == [
        "location: “Berlin” → “Munich”",
        "marketing consent: nothing → yes",
        "tags: go → go, rust",
    ]
    # Activities written before values were kept still name the fields.
    assert change_lines({"fields": ["phone"]}) == ["phone"]


def test_authors_are_named_never_by_their_uuid() -> None:
    assert actor_label("user:sub-1", NAMES) == "rita@example.com"
    assert actor_label("user:sub-gone", NAMES) == "a user who no longer signs in"
    assert actor_label("api-key:k1", NAMES) == "the integration “ATS sync”"
    assert actor_label("api-key:k2", NAMES) == "an integration"
    assert actor_label("career-site", NAMES) == "the career site"
    activities = [act("created", "user:sub-1"), act("note_added", "api-key:k1"), act("x", "user:sub-1")]
    assert actor_refs(activities) == (["sub-1"], ["k1"])
    assert referenced([act("applied", job_id="j1"), act("pool_removed", pool_id="p1")]) == (["j1"], ["p1"])
